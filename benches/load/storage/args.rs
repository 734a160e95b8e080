//! Command-line options of the benchmark.

use std::time::Duration;

/// The phases, in the order they run; `--skip` takes their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Phase {
    /// The bare tonic echo server: the ceiling of the stack.
    Echo,
    /// GetSourceServer on one server, before the fleet is loaded.
    Get,
    /// RegisterSourceServer, a new server per call.
    Register,
    /// FinalizeCutover on servers prepared in CUTTING_OVER.
    Finalize,
    /// CutOverReplicationJob on jobs prepared in Waiting.
    JobCutover,
    /// Registering the fleet, then GetSourceServer again at fleet size.
    Fleet,
    /// DescribeSourceServers pages at fleet size.
    Describe,
    /// One watch with the initial snapshot of the whole fleet.
    Watch,
    /// SIGTERM, start again, time to the first served GetSourceServer.
    Restart,
}

/// Command-line settings.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// Source servers in the store for the fleet-size phases.
    pub(crate) fleet: usize,
    /// HTTP/2 connections of the load generator.
    pub(crate) connections: usize,
    /// Concurrent streams per connection.
    pub(crate) streams: usize,
    /// Measured time of each load phase.
    pub(crate) duration: Duration,
    /// Unmeasured time before it.
    pub(crate) warmup: Duration,
    /// Worker threads of the benchmark client's runtime.
    pub(crate) client_threads: usize,
    /// Phases not run.
    pub(crate) skip: Vec<Phase>,
    /// Leave the data directory in place and print its path.
    pub(crate) keep_data_dir: bool,
    /// Resources prepared per mutation phase; 0: sized from the measured
    /// Register rate so the phase does not run out.
    pub(crate) prepare: usize,
    /// Longest a mutation phase's preparation may run; it stops with fewer
    /// resources then (the old store slows down as jobs accumulate).
    pub(crate) prepare_budget: Duration,
    /// Calls per DescribeSourceServers figure.
    pub(crate) describe_calls: usize,
    /// Run on a throwaway PostgreSQL cluster (fsync on) instead of SQLite,
    /// with the replica phase; the fleet-size phases are SQLite's.
    pub(crate) postgres: bool,
    /// Replicas of the PostgreSQL mode's last phase.
    pub(crate) replicas: usize,
}

/// `load storage`'s options, as given.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Options {
    /// Source servers in the store for the fleet-size phases.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    fleet: usize,
    /// HTTP/2 connections of the load generator.
    #[arg(long, value_name = "C", default_value_t = 16)]
    connections: usize,
    /// Concurrent streams per connection.
    #[arg(long, value_name = "M", default_value_t = 8)]
    streams: usize,
    /// Measured time of each load phase, seconds.
    #[arg(long, value_name = "S", default_value_t = 5)]
    duration_secs: u64,
    /// Unmeasured time before it, seconds.
    #[arg(long, value_name = "W", default_value_t = 1)]
    warmup_secs: u64,
    /// Worker threads of the benchmark client's runtime.
    #[arg(long, value_name = "T", default_value_t = 1)]
    client_threads: usize,
    /// Phases not run (comma-separated or repeated).
    #[arg(long, value_name = "PHASE", value_delimiter = ',')]
    skip: Vec<Phase>,
    /// Leave the data directory in place and print its path.
    #[arg(long)]
    keep_data_dir: bool,
    /// Resources prepared per mutation phase; 0: sized from the measured
    /// Register rate so the phase does not run out.
    #[arg(long, value_name = "N", default_value_t = 0)]
    prepare: usize,
    /// Longest a mutation phase's preparation may run, seconds; it stops
    /// with fewer resources then.
    #[arg(long, value_name = "S", default_value_t = 120)]
    prepare_secs: u64,
    /// Calls per DescribeSourceServers figure.
    #[arg(long, value_name = "K", default_value_t = 200)]
    describe_calls: usize,
    /// Run on a throwaway PostgreSQL cluster (fsync on) instead of SQLite,
    /// with the replica phase; the fleet-size phases are SQLite's.
    #[arg(long)]
    postgres: bool,
    /// Replicas of the PostgreSQL mode's last phase.
    #[arg(long, value_name = "R", default_value_t = 3)]
    replicas: usize,
}

impl TryFrom<Options> for Args {
    type Error = String;

    /// The settings of the options; the message says what is wrong.
    fn try_from(options: Options) -> Result<Args, String> {
        let mut args = Args {
            fleet: options.fleet,
            connections: options.connections,
            streams: options.streams,
            duration: Duration::from_secs(options.duration_secs),
            warmup: Duration::from_secs(options.warmup_secs),
            client_threads: options.client_threads,
            skip: options.skip,
            keep_data_dir: options.keep_data_dir,
            prepare: options.prepare,
            prepare_budget: Duration::from_secs(options.prepare_secs),
            describe_calls: options.describe_calls,
            postgres: options.postgres,
            replicas: options.replicas,
        };
        if args.connections == 0
            || args.streams == 0
            || args.client_threads == 0
            || args.duration.is_zero()
            || args.describe_calls == 0
            || args.replicas == 0
        {
            return Err(
                "--connections, --streams, --client-threads, --duration-secs, \
                 --describe-calls and --replicas must be > 0"
                    .to_owned(),
            );
        }
        if args.postgres {
            args.skip
                .extend([Phase::Fleet, Phase::Describe, Phase::Watch, Phase::Restart]);
        }
        Ok(args)
    }
}

impl Args {
    /// Whether `phase` runs.
    pub(crate) fn runs(&self, phase: Phase) -> bool {
        !self.skip.contains(&phase)
    }
}
