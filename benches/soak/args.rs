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

const USAGE: &str = "usage: soak [--minutes M] [--sample-secs S] [--warmup-percent P] \
    [--read-rate R] [--rehearsal-rate R] [--new-servers N] [--pool N] [--watchers N] \
    [--unfiltered N] [--watch-connections C] [--agents N] [--agent-hold-ms MS] \
    [--sim-speed F] [--event-retention-count N] [--compaction-interval-ms MS] \
    [--client-token-retention-seconds S] [--max-in-flight N] [--tolerance-percent P] \
    [--client-threads T] [--keep-data]";

impl Args {
    /// Reads the settings from the command line; the message is the usage
    /// text or what is wrong.
    pub(crate) fn parse() -> Result<Args, String> {
        let mut minutes = 30.0;
        let mut sample_secs = None;
        let mut retention = None;
        let mut token_retention = None;
        let mut warmup_percent = 20.0;
        let mut tolerance_percent = 20.0;
        let mut hold_ms = 3000.0;
        let mut args = Args {
            duration: Duration::ZERO,
            sample: Duration::ZERO,
            warmup: 0.0,
            read_rate: 2000.0,
            rehearsal_rate: 150.0,
            new_servers: 2.0,
            pool: 100,
            watchers: 1000,
            unfiltered: 100,
            watch_connections: 20,
            agents: 50,
            agent_hold: Duration::ZERO,
            sim_speed: 60.0,
            retention: 0,
            compaction_ms: 5000,
            token_retention_secs: 0,
            max_in_flight: 256,
            tolerance: 0.0,
            client_threads: 2,
            keep_data: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = |name: &str| -> Result<f64, String> {
                let text = it.next().ok_or_else(|| format!("{name} needs a value"))?;
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    _ => Err(format!("{name}: {text:?} is not a non-negative number")),
                }
            };
            match flag.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--minutes" => minutes = value("--minutes")?,
                "--sample-secs" => sample_secs = Some(value("--sample-secs")?),
                "--warmup-percent" => warmup_percent = value("--warmup-percent")?,
                "--read-rate" => args.read_rate = value("--read-rate")?,
                "--rehearsal-rate" => args.rehearsal_rate = value("--rehearsal-rate")?,
                "--new-servers" => args.new_servers = value("--new-servers")?,
                "--pool" => args.pool = value("--pool")? as usize,
                "--watchers" => args.watchers = value("--watchers")? as usize,
                "--unfiltered" => args.unfiltered = value("--unfiltered")? as usize,
                "--watch-connections" => {
                    args.watch_connections = value("--watch-connections")? as usize
                }
                "--agents" => args.agents = value("--agents")? as usize,
                "--agent-hold-ms" => hold_ms = value("--agent-hold-ms")?,
                "--sim-speed" => args.sim_speed = value("--sim-speed")?,
                "--event-retention-count" => retention = Some(value("--event-retention-count")?),
                "--compaction-interval-ms" => {
                    args.compaction_ms = value("--compaction-interval-ms")? as u64
                }
                "--client-token-retention-seconds" => {
                    token_retention = Some(value("--client-token-retention-seconds")?)
                }
                "--max-in-flight" => args.max_in_flight = value("--max-in-flight")? as usize,
                "--tolerance-percent" => tolerance_percent = value("--tolerance-percent")?,
                "--client-threads" => args.client_threads = value("--client-threads")? as usize,
                "--keep-data" => args.keep_data = true,
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?} (try --help)")),
            }
        }
        let run_secs = minutes * 60.0;
        if run_secs < 10.0 {
            return Err("--minutes must be at least 1/6 (10 s)".to_owned());
        }
        args.duration = Duration::from_secs_f64(run_secs);
        // About 60 rows: 30 s for the 30-minute run, 5 s for a 5-minute one.
        let sample = sample_secs.unwrap_or((run_secs / 60.0).clamp(2.0, 60.0));
        args.sample = Duration::from_secs_f64(sample.max(0.5));
        args.warmup = (warmup_percent / 100.0).clamp(0.0, 0.9);
        args.tolerance = tolerance_percent / 100.0;
        args.agent_hold = Duration::from_secs_f64(hold_ms.max(10.0) / 1000.0);
        // Small enough that compaction starts within the warm-up at the
        // default load (about 275 events/s, so after about a tenth of the
        // run): 2,000 events per minute of run.
        args.retention = retention.map_or(((minutes * 2000.0) as u64).max(5_000), |r| r as u64);
        // Forgotten within the warm-up too: a tenth of the run, 10-60 s.
        args.token_retention_secs =
            token_retention.map_or((run_secs / 10.0).clamp(10.0, 60.0) as u64, |s| s as u64);
        args.unfiltered = args.unfiltered.min(args.watchers);
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
        args.max_in_flight = args.max_in_flight.max(1);
        Ok(args)
    }
}
