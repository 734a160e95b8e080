//! Command-line options of the soak run.

use std::time::Duration;

/// Command-line settings.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// Length of the timed run (after setup).
    pub(crate) duration: Duration,
    /// Time between two table rows.
    pub(crate) sample: Duration,
    /// Share of the run before the verdict's first third starts.
    pub(crate) warmup: f64,
    /// Reads (GetSourceServer, DescribeSourceServers pages) per second.
    pub(crate) read_rate: f64,
    /// Lifecycle rehearsals on the pool, mutations per second.
    pub(crate) rehearsal_rate: f64,
    /// New source servers per second, each taken through a whole flow.
    pub(crate) new_servers: f64,
    /// Source servers of the rehearsal pool, replicating all run long.
    pub(crate) pool: usize,
    /// Watch streams held open for the whole run.
    pub(crate) watchers: usize,
    /// Of those, how many watch without a filter.
    pub(crate) unfiltered: usize,
    /// HTTP/2 connections the watchers are spread over.
    pub(crate) watch_connections: usize,
    /// Agents that drop their command stream and reconnect.
    pub(crate) agents: usize,
    /// Mean time an agent holds its command stream before reconnecting.
    pub(crate) agent_hold: Duration,
    /// cutoverd's --sim-speed.
    pub(crate) sim_speed: f64,
    /// cutoverd's --event-retention-count.
    pub(crate) retention: u64,
    /// cutoverd's --compaction-interval-ms.
    pub(crate) compaction_ms: u64,
    /// cutoverd's --client-token-retention-seconds.
    pub(crate) token_retention_secs: u64,
    /// Most reads, and most flows, in progress at once; a call due while
    /// the limit is reached is skipped and counted.
    pub(crate) max_in_flight: usize,
    /// Tolerated growth of the last third over the first (0.2: 20%).
    pub(crate) tolerance: f64,
    /// Worker threads of the load generator's runtime.
    pub(crate) client_threads: usize,
    /// Leave the data directory in place and print its path.
    pub(crate) keep_data: bool,
}

/// A rate, share or speed: a finite number, zero or more.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a non-negative number")),
    }
}

/// `load soak`'s options, as given.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Options {
    /// Length of the timed run (after setup), minutes; at least 1/6.
    #[arg(long, value_name = "M", default_value_t = 30.0, value_parser = non_negative)]
    minutes: f64,
    /// Time between two table rows, seconds [default: a 60th of the run,
    /// 2-60 s].
    #[arg(long, value_name = "S", value_parser = non_negative)]
    sample_secs: Option<f64>,
    /// Share of the run before the verdict's first third starts, percent.
    #[arg(long, value_name = "P", default_value_t = 20.0, value_parser = non_negative)]
    warmup_percent: f64,
    /// Reads (GetSourceServer, DescribeSourceServers pages) per second.
    #[arg(long, value_name = "R", default_value_t = 2000.0, value_parser = non_negative)]
    read_rate: f64,
    /// Lifecycle rehearsals on the pool, mutations per second.
    #[arg(long, value_name = "R", default_value_t = 150.0, value_parser = non_negative)]
    rehearsal_rate: f64,
    /// New source servers per second, each taken through a whole flow.
    #[arg(long, value_name = "N", default_value_t = 2.0, value_parser = non_negative)]
    new_servers: f64,
    /// Source servers of the rehearsal pool, replicating all run long.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pool: usize,
    /// Watch streams held open for the whole run.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    watchers: usize,
    /// Of those, how many watch without a filter.
    #[arg(long, value_name = "N", default_value_t = 100)]
    unfiltered: usize,
    /// HTTP/2 connections the watchers are spread over.
    #[arg(long, value_name = "C", default_value_t = 20)]
    watch_connections: usize,
    /// Agents that drop their command stream and reconnect.
    #[arg(long, value_name = "N", default_value_t = 50)]
    agents: usize,
    /// Mean time an agent holds its command stream before reconnecting,
    /// ms (at least 10).
    #[arg(long, value_name = "MS", default_value_t = 3000.0, value_parser = non_negative)]
    agent_hold_ms: f64,
    /// cutoverd's --sim-speed (at least 1).
    #[arg(long, value_name = "F", default_value_t = 60.0, value_parser = non_negative)]
    sim_speed: f64,
    /// cutoverd's --event-retention-count [default: 2,000 per minute of
    /// run, at least 5,000].
    #[arg(long, value_name = "N")]
    event_retention_count: Option<u64>,
    /// cutoverd's --compaction-interval-ms (at least 10).
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    compaction_interval_ms: u64,
    /// cutoverd's --client-token-retention-seconds [default: a tenth of the
    /// run, 10-60 s].
    #[arg(long, value_name = "S")]
    client_token_retention_seconds: Option<u64>,
    /// Most reads, and most flows, in progress at once; a call due while
    /// the limit is reached is skipped and counted.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_in_flight: usize,
    /// Tolerated growth of the last third over the first, percent.
    #[arg(long, value_name = "P", default_value_t = 20.0, value_parser = non_negative)]
    tolerance_percent: f64,
    /// Worker threads of the load generator's runtime.
    #[arg(long, value_name = "T", default_value_t = 2)]
    client_threads: usize,
    /// Leave the data directory in place and print its path.
    #[arg(long)]
    keep_data: bool,
}

impl TryFrom<Options> for Args {
    type Error = String;

    /// The settings of the options, with the defaults that follow the
    /// run's length; the message says what is wrong.
    fn try_from(options: Options) -> Result<Args, String> {
        let minutes = options.minutes;
        let run_secs = minutes * 60.0;
        if run_secs < 10.0 {
            return Err("--minutes must be at least 1/6 (10 s)".to_owned());
        }
        // About 60 rows: 30 s for the 30-minute run, 5 s for a 5-minute one.
        let sample = options
            .sample_secs
            .unwrap_or((run_secs / 60.0).clamp(2.0, 60.0));
        let args = Args {
            duration: Duration::from_secs_f64(run_secs),
            sample: Duration::from_secs_f64(sample.max(0.5)),
            warmup: (options.warmup_percent / 100.0).clamp(0.0, 0.9),
            read_rate: options.read_rate,
            rehearsal_rate: options.rehearsal_rate,
            new_servers: options.new_servers,
            pool: options.pool,
            watchers: options.watchers,
            unfiltered: options.unfiltered.min(options.watchers),
            watch_connections: options.watch_connections,
            agents: options.agents,
            agent_hold: Duration::from_secs_f64(options.agent_hold_ms.max(10.0) / 1000.0),
            sim_speed: options.sim_speed,
            // Small enough that compaction starts within the warm-up at the
            // default load (about 275 events/s, so after about a tenth of
            // the run): 2,000 events per minute of run.
            retention: options
                .event_retention_count
                .unwrap_or(((minutes * 2000.0) as u64).max(5_000)),
            compaction_ms: options.compaction_interval_ms,
            // Forgotten within the warm-up too: a tenth of the run, 10-60 s.
            token_retention_secs: options
                .client_token_retention_seconds
                .unwrap_or((run_secs / 10.0).clamp(10.0, 60.0) as u64),
            max_in_flight: options.max_in_flight.max(1),
            tolerance: options.tolerance_percent / 100.0,
            client_threads: options.client_threads,
            keep_data: options.keep_data,
        };
        if args.sim_speed < 1.0 {
            return Err("--sim-speed must be at least 1".to_owned());
        }
        if args.pool == 0 || args.watch_connections == 0 || args.client_threads == 0 {
            return Err("--pool, --watch-connections and --client-threads must be > 0".to_owned());
        }
        if args.retention == 0 || args.compaction_ms < 10 || args.token_retention_secs == 0 {
            return Err(
                "--event-retention-count, --client-token-retention-seconds must be > 0 \
                 and --compaction-interval-ms at least 10"
                    .to_owned(),
            );
        }
        Ok(args)
    }
}
