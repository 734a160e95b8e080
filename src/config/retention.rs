//! Retention: how much of the event log and how long client tokens are
//! kept, and how often the rest is deleted.

use std::time::Duration;

use clap::Args;

use super::span;
use crate::{background::Retention, domain::Millis};

/// Options of retention.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Retention")]
pub struct RetentionArgs {
    /// Most lifecycle events kept in the log; older ones are compacted.
    #[arg(
        long,
        env = "CUTOVER_EVENT_RETENTION_COUNT",
        default_value_t = 1_000_000
    )]
    pub event_retention_count: u64,
    /// Hours lifecycle events are kept (0: no age limit).
    #[arg(long, env = "CUTOVER_EVENT_RETENTION_HOURS", default_value_t = 168)]
    pub event_retention_hours: u64,
    /// Milliseconds between compactions of the event log (and deletions
    /// of forgotten client tokens).
    #[arg(long, env = "CUTOVER_COMPACTION_INTERVAL_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub compaction_interval_ms: u64,
    /// Seconds a client token is remembered: a retry within it replays the
    /// first answer; after it, the token is forgotten.
    #[arg(long, env = "CUTOVER_CLIENT_TOKEN_RETENTION_SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    pub client_token_retention_seconds: u64,
}

impl RetentionArgs {
    /// The typed settings of this section.
    pub fn settings(&self) -> Retention {
        Retention {
            max_events: self.event_retention_count,
            max_age: (self.event_retention_hours > 0)
                .then(|| span(self.event_retention_hours, Millis::hours(1))),
            client_tokens: span(self.client_token_retention_seconds, Millis(1000)),
            interval: Duration::from_millis(self.compaction_interval_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{background::Retention, config::Config, domain::Millis};

    fn retention(args: &[&str]) -> Retention {
        Config::from_args(args)
            .expect("valid flags")
            .retention
            .settings()
    }

    #[test]
    fn defaults_keep_a_million_events_for_a_week_and_tokens_for_a_day() {
        let settings = retention(&[]);
        assert_eq!(settings.max_events, 1_000_000);
        assert_eq!(settings.max_age, Some(Millis::hours(168)));
        assert_eq!(settings.client_tokens, Millis::hours(24));
        assert_eq!(settings.interval, Duration::from_secs(60));
    }

    #[test]
    fn zero_hours_is_no_age_limit() {
        assert_eq!(retention(&["--event-retention-hours", "0"]).max_age, None);
        assert_eq!(
            retention(&["--event-retention-hours", "1"]).max_age,
            Some(Millis(3_600_000))
        );
    }

    #[test]
    fn ages_too_long_for_milliseconds_saturate() {
        let max = u64::MAX.to_string();
        // Fits in an i64 of hours, not of milliseconds.
        let hours = (i64::MAX / 1000).to_string();
        for hours in [&max, &hours] {
            let settings = retention(&[
                "--event-retention-hours",
                hours,
                "--client-token-retention-seconds",
                &max,
                "--event-retention-count",
                &max,
            ]);
            assert_eq!(settings.max_age, Some(Millis(i64::MAX)));
            assert_eq!(settings.client_tokens, Millis(i64::MAX));
            assert_eq!(settings.max_events, u64::MAX);
        }
    }

    #[test]
    fn values_below_their_floors_are_refused() {
        for args in [
            ["--compaction-interval-ms", "9"],
            ["--client-token-retention-seconds", "0"],
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
