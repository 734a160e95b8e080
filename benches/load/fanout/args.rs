//! Command-line options of the benchmark.

use std::time::Duration;

/// `load fanout`'s options, as given.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Options {
    /// Watchers in the fan-out run.
    #[arg(long, default_value_t = 10_000)]
    watchers: usize,
    /// Transitions driven per run (one event each).
    #[arg(long, default_value_t = 200)]
    transitions: usize,
    /// HTTP/2 connections the watchers are spread over.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Watches being opened at once.
    #[arg(long, default_value_t = 64)]
    open_concurrency: usize,
    /// Settle time before each RSS reading, ms.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    settle_ms: u64,
    /// Pause between two driver calls, ms (0: back to back, which
    /// saturates both cores and measures queueing as much as delivery).
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pace_ms: u64,
    /// Streams tried on one extra connection to find the server's
    /// per-connection limit (0: skip).
    #[arg(long, default_value_t = 2000)]
    probe_streams: usize,
    /// Decode the full generated message on the watchers instead of the
    /// three fields the benchmark needs.
    #[arg(long)]
    full_decode: bool,
    /// Worker threads of the benchmark client's runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
}

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

impl TryFrom<Options> for Args {
    type Error = String;

    /// The settings of the options; the message says what is wrong.
    fn try_from(options: Options) -> Result<Args, String> {
        if options.watchers == 0
            || options.transitions == 0
            || options.connections == 0
            || options.client_threads == 0
        {
            return Err(
                "--watchers, --transitions, --connections and --client-threads must be > 0"
                    .to_owned(),
            );
        }
        Ok(Args {
            watchers: options.watchers,
            transitions: options.transitions,
            connections: options.connections,
            open_concurrency: options.open_concurrency.max(1),
            settle: Duration::from_millis(options.settle_ms),
            pace: Duration::from_millis(options.pace_ms),
            probe_streams: options.probe_streams,
            full_decode: options.full_decode,
            client_threads: options.client_threads,
        })
    }
}
