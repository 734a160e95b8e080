//! Time as the domain sees it: instants and spans in milliseconds, always
//! passed in by the caller so the state machines never read a clock.

use serde::{Deserialize, Serialize};

/// An instant, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Timestamp {
    /// The instant `span` after this one, saturating instead of overflowing.
    pub fn plus(self, span: Millis) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    /// The span from `earlier` to this instant; zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Millis {
        Millis(self.0.saturating_sub(earlier.0).max(0))
    }
}

impl Millis {
    /// A span of whole minutes.
    pub const fn minutes(n: i64) -> Millis {
        Millis(n * 60_000)
    }

    /// A span of whole hours.
    pub const fn hours(n: i64) -> Millis {
        Millis(n * 3_600_000)
    }
}

/// How much faster than real time the deployment runs: every duration the
/// service applies (deadlines, job frequencies, heartbeat windows, simulated
/// replication) is divided by it. 1 in production; large in tests, so a
/// 90-minute deadline can pass in about a second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeScale(f64);

impl TimeScale {
    /// Real time.
    pub const REAL: TimeScale = TimeScale(1.0);

    /// A scale of `factor`; factors below 1 (or not finite) mean real time.
    pub fn new(factor: f64) -> TimeScale {
        if factor.is_finite() && factor >= 1.0 {
            TimeScale(factor)
        } else {
            TimeScale::REAL
        }
    }

    /// The factor.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// `span` as it passes at this scale (at least 1 ms).
    pub fn compress(self, span: Millis) -> Millis {
        Millis(((span.0 as f64) / self.0).round().max(1.0) as i64)
    }
}
