//! Limits: what one connection or call may take, and how long shutdown
//! waits for open calls.

use std::time::Duration;

use clap::Args;

/// Options of the limits.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "CUTOVER_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_message_bytes: u32,
    /// Most concurrent HTTP/2 streams (calls and watches) per connection.
    #[arg(long, env = "CUTOVER_MAX_CONCURRENT_STREAMS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,
    /// Most unary calls in progress per connection.
    #[arg(long, env = "CUTOVER_MAX_CALLS_PER_CONNECTION", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_calls_per_connection: u64,
    /// Longest a unary call may run, in seconds (a shorter `grpc-timeout`
    /// from the client wins).
    #[arg(long, env = "CUTOVER_REQUEST_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_seconds: u64,
    /// Seconds between HTTP/2 keepalive pings to idle clients.
    #[arg(long, env = "CUTOVER_KEEPALIVE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive_seconds: u64,
    /// Seconds open calls get to finish on shutdown.
    #[arg(long, env = "CUTOVER_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
}

/// The limits section's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request message decoded, in bytes (gRPC, MGN and SMC).
    pub max_message_bytes: usize,
    /// Most concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Most unary calls in progress per connection.
    pub max_calls_per_connection: usize,
    /// Longest a unary call may run.
    pub request_timeout: Duration,
    /// Time between keepalive probes (TCP and HTTP/2) to idle clients.
    pub keepalive_interval: Duration,
    /// How long an HTTP/2 keepalive ping may go unanswered before the
    /// connection is closed.
    pub keepalive_timeout: Duration,
    /// How long open calls get to finish on shutdown.
    pub shutdown_grace: Duration,
}

/// The longest an HTTP/2 ping waits for its answer (tonic's default): a
/// dead client is noticed within it of a ping however rare pings are; with
/// pings more frequent, the interval bounds the wait instead.
const MAX_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

impl LimitArgs {
    /// The typed settings of this section.
    pub fn settings(&self) -> Limits {
        let keepalive_interval = Duration::from_secs(self.keepalive_seconds);
        Limits {
            max_message_bytes: usize::try_from(self.max_message_bytes).unwrap_or(usize::MAX),
            max_concurrent_streams: self.max_concurrent_streams,
            max_calls_per_connection: usize::try_from(self.max_calls_per_connection)
                .unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            keepalive_interval,
            keepalive_timeout: keepalive_interval.min(MAX_KEEPALIVE_TIMEOUT),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Limits;
    use crate::config::Config;

    fn limits(args: &[&str]) -> Limits {
        Config::from_args(args)
            .expect("valid flags")
            .limits
            .settings()
    }

    #[test]
    fn defaults() {
        assert_eq!(
            limits(&[]),
            Limits {
                max_message_bytes: 4 * 1024 * 1024,
                max_concurrent_streams: 1024,
                max_calls_per_connection: 256,
                request_timeout: Duration::from_secs(30),
                keepalive_interval: Duration::from_secs(30),
                keepalive_timeout: Duration::from_secs(20),
                shutdown_grace: Duration::from_secs(10),
            }
        );
    }

    #[test]
    fn a_ping_waits_for_its_answer_at_most_the_interval_and_at_most_20_seconds() {
        let short = limits(&["--keepalive-seconds", "5"]);
        assert_eq!(short.keepalive_interval, Duration::from_secs(5));
        assert_eq!(short.keepalive_timeout, Duration::from_secs(5));
        let long = limits(&["--keepalive-seconds", "600"]);
        assert_eq!(long.keepalive_interval, Duration::from_secs(600));
        assert_eq!(long.keepalive_timeout, Duration::from_secs(20));
    }

    #[test]
    fn the_largest_values_convert_without_wrapping() {
        let max = u64::MAX.to_string();
        let settings = limits(&[
            "--max-calls-per-connection",
            &max,
            "--request-timeout-seconds",
            &max,
            "--shutdown-grace-seconds",
            &max,
            "--max-message-bytes",
            &u32::MAX.to_string(),
        ]);
        assert_eq!(settings.max_calls_per_connection, usize::MAX);
        assert_eq!(settings.request_timeout, Duration::from_secs(u64::MAX));
        assert_eq!(settings.shutdown_grace, Duration::from_secs(u64::MAX));
        assert_eq!(settings.max_message_bytes, u32::MAX as usize);
        assert_eq!(
            limits(&["--shutdown-grace-seconds", "0"]).shutdown_grace,
            Duration::ZERO
        );
    }

    #[test]
    fn values_below_their_floors_are_refused() {
        for args in [
            ["--max-message-bytes", "1023"],
            ["--max-concurrent-streams", "0"],
            ["--max-calls-per-connection", "0"],
            ["--request-timeout-seconds", "0"],
            ["--keepalive-seconds", "0"],
        ] {
            let err = Config::from_args(&args).expect_err("below the floor");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
        }
    }
}
