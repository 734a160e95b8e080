//! Command-line options of the benchmark.

use std::time::Duration;

/// The phases, in the order they run; `--skip` takes their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Phase {
    /// Every phase, in run order.
    pub(crate) const ALL: [Phase; 9] = [
        Phase::Echo,
        Phase::Get,
        Phase::Register,
        Phase::Finalize,
        Phase::JobCutover,
        Phase::Fleet,
        Phase::Describe,
        Phase::Watch,
        Phase::Restart,
    ];

    /// The name `--skip` knows the phase by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Echo => "echo",
            Phase::Get => "get",
            Phase::Register => "register",
            Phase::Finalize => "finalize",
            Phase::JobCutover => "job-cutover",
            Phase::Fleet => "fleet",
            Phase::Describe => "describe",
            Phase::Watch => "watch",
            Phase::Restart => "restart",
        }
    }
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

const USAGE: &str = "usage: storage_engine [--fleet N] [--connections C] [--streams M] \
     [--duration-secs S] [--warmup-secs W] [--client-threads T] [--skip PHASE[,PHASE]] \
     [--keep-data-dir] [--prepare N] [--prepare-secs S] [--describe-calls K] \
     [--postgres [--replicas R]]\n\
     phases: echo, get, register, finalize, job-cutover, fleet, describe, watch, restart";

impl Args {
    /// Reads the settings from the command line; the message is the usage
    /// text or what is wrong.
    pub(crate) fn parse() -> Result<Args, String> {
        let mut args = Args {
            fleet: 100_000,
            connections: 16,
            streams: 8,
            duration: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            client_threads: 1,
            skip: Vec::new(),
            keep_data_dir: false,
            prepare: 0,
            prepare_budget: Duration::from_secs(120),
            describe_calls: 200,
            postgres: false,
            replicas: 3,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            let number = |name: &str, text: String| {
                text.parse::<usize>().map_err(|e| format!("{name}: {e}"))
            };
            match flag.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--fleet" => args.fleet = number("--fleet", value("--fleet")?)?,
                "--connections" => {
                    args.connections = number("--connections", value("--connections")?)?
                }
                "--streams" => args.streams = number("--streams", value("--streams")?)?,
                "--duration-secs" => {
                    let secs = number("--duration-secs", value("--duration-secs")?)?;
                    args.duration = Duration::from_secs(secs as u64);
                }
                "--warmup-secs" => {
                    let secs = number("--warmup-secs", value("--warmup-secs")?)?;
                    args.warmup = Duration::from_secs(secs as u64);
                }
                "--client-threads" => {
                    args.client_threads = number("--client-threads", value("--client-threads")?)?
                }
                "--skip" => {
                    for name in value("--skip")?.split(',').filter(|n| !n.is_empty()) {
                        let phase = Phase::ALL
                            .into_iter()
                            .find(|p| p.name() == name)
                            .ok_or_else(|| format!("--skip: unknown phase {name:?}\n{USAGE}"))?;
                        args.skip.push(phase);
                    }
                }
                "--keep-data-dir" => args.keep_data_dir = true,
                "--prepare" => args.prepare = number("--prepare", value("--prepare")?)?,
                "--prepare-secs" => {
                    let secs = number("--prepare-secs", value("--prepare-secs")?)?;
                    args.prepare_budget = Duration::from_secs(secs as u64);
                }
                "--describe-calls" => {
                    args.describe_calls = number("--describe-calls", value("--describe-calls")?)?
                }
                "--postgres" => args.postgres = true,
                "--replicas" => args.replicas = number("--replicas", value("--replicas")?)?,
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
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

    /// Whether `phase` runs.
    pub(crate) fn runs(&self, phase: Phase) -> bool {
        !self.skip.contains(&phase)
    }
}
