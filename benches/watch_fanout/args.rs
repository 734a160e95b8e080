//! Command-line options of the benchmark.

use std::time::Duration;

/// Command-line settings.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// Watchers in the fan-out run.
    pub(crate) watchers: usize,
    /// Transitions driven per run (one event each).
    pub(crate) transitions: usize,
    /// HTTP/2 connections the watchers are spread over.
    pub(crate) connections: usize,
    /// Watches being opened at once.
    pub(crate) open_concurrency: usize,
    /// Settle time before each RSS reading.
    pub(crate) settle: Duration,
    /// Pause between two driver calls (0: back to back, which saturates
    /// both cores and measures queueing as much as delivery).
    pub(crate) pace: Duration,
    /// Streams tried on one extra connection to find the server's
    /// per-connection limit (0: skip).
    pub(crate) probe_streams: usize,
    /// Decode the full generated message on the watchers instead of the
    /// three fields the benchmark needs.
    pub(crate) full_decode: bool,
    /// Worker threads of the benchmark client's runtime.
    pub(crate) client_threads: usize,
}

impl Args {
    /// Reads the settings from the command line; the message is the usage
    /// text or what is wrong.
    pub(crate) fn parse() -> Result<Args, String> {
        let mut args = Args {
            watchers: 10_000,
            transitions: 200,
            connections: 100,
            open_concurrency: 64,
            settle: Duration::from_secs(2),
            pace: Duration::from_millis(50),
            probe_streams: 2000,
            full_decode: false,
            client_threads: 2,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                it.next()
                    .ok_or_else(|| format!("{name} needs a value"))?
                    .parse::<usize>()
                    .map_err(|e| format!("{name}: {e}"))
            };
            match flag.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--watchers" => args.watchers = number("--watchers")?,
                "--transitions" => args.transitions = number("--transitions")?,
                "--connections" => args.connections = number("--connections")?,
                "--open-concurrency" => args.open_concurrency = number("--open-concurrency")?,
                "--settle-ms" => args.settle = Duration::from_millis(number("--settle-ms")? as u64),
                "--pace-ms" => args.pace = Duration::from_millis(number("--pace-ms")? as u64),
                "--probe-streams" => args.probe_streams = number("--probe-streams")?,
                "--full-decode" => args.full_decode = true,
                "--client-threads" => args.client_threads = number("--client-threads")?,
                "-h" | "--help" => {
                    return Err("usage: watch_fanout [--watchers N] [--transitions M] \
                         [--connections C] [--open-concurrency K] [--settle-ms MS] \
                         [--pace-ms MS] [--probe-streams P] [--full-decode] \
                         [--client-threads T]"
                        .to_owned())
                }
                other => return Err(format!("unknown argument {other:?} (try --help)")),
            }
        }
        if args.watchers == 0
            || args.transitions == 0
            || args.connections == 0
            || args.client_threads == 0
        {
            return Err(
                "--watchers, --transitions, --connections and --client-threads must be > 0"
                    .to_owned(),
            );
        }
        args.open_concurrency = args.open_concurrency.max(1);
        Ok(args)
    }
}
