//! Prometheus/OpenMetrics metrics of the service, and the HTTP endpoint that
//! exposes them.
//!
//! One [`Metrics`] is shared (as `Arc<Metrics>`) by every handler. Families,
//! all prefixed `cutover_`:
//!
//! | name | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `cutover_requests_total` | counter | `wire`, `operation`, `code` | calls finished (gRPC unary calls and stream opens, MGN and SMC requests) |
//! | `cutover_request_errors_total` | counter | `wire`, `operation`, `code` | those that finished with a code other than `OK` |
//! | `cutover_request_duration_seconds` | histogram | `wire`, `operation` | their latency, buckets 0.5 ms … 10 s |
//! | `cutover_open_watchers` | gauge | | watch streams open now |
//! | `cutover_watchers_fell_behind_total` | counter | | times a watcher fell out of the live window and re-read from the log |
//! | `cutover_events_committed_total` | counter | | lifecycle events committed |
//! | `cutover_follow_up_tasks_pending` | gauge | | follow-up tasks pending now |
//! | `cutover_follow_up_tasks_overdue` | gauge | | follow-up tasks overdue now |
//!
//! Events per second is `rate(cutover_events_committed_total[1m])`; error
//! ratio is `sum(rate(cutover_request_errors_total[5m])) /
//! sum(rate(cutover_requests_total[5m]))`.
//!
//! `wire` is `grpc`, `mgn` or `smc`. `operation` is the operation's name
//! on its wire (`FinalizeCutover`, `CutOverReplicationJob`), so one use case
//! reads alike on every wire; any string is accepted, but only the first
//! [`MAX_METHODS`] distinct values of each wire are kept as labels and later
//! ones are recorded as `other`, so the series count stays bounded. `code`
//! is the wire's own: the gRPC code name (`OK`, `FAILED_PRECONDITION`, …),
//! MGN's exception name (`ConflictException`) or SMC's error code
//! (`ReplicationJob.InvalidStatus`), and `OK` for a success on any wire.

mod http;
mod labels;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub use self::http::CONTENT_TYPE;
pub use self::labels::MAX_METHODS;
use self::labels::{MethodCap, OperationLabels, RequestLabels};
pub use self::labels::{Wire, OK};

/// Upper bounds (seconds) of the `cutover_request_duration_seconds` buckets,
/// 0.5 ms to 10 s; `+Inf` is implicit.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Service metrics, shared by every handler.
///
/// Recording is lock-free apart from brief read locks; [`Metrics::render`]
/// gives the exposition and [`Metrics::serve`] serves it over HTTP.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Each wire's admitted operation names, by [`Wire::index`].
    operations: [MethodCap; Wire::COUNT],
    /// The OK counter and duration histogram of each admitted operation of
    /// each wire, resolved once: looking both up by label set on every call
    /// was a fifth of the Get handler's CPU in a profile.
    ok_calls: [RwLock<HashMap<Box<str>, MethodHandles>>; Wire::COUNT],
    requests: Family<RequestLabels, Counter>,
    request_errors: Family<RequestLabels, Counter>,
    request_duration: HistogramFamily,
    open_watchers: Gauge,
    watchers_fell_behind: Counter,
    events_committed: Counter,
    follow_up_pending: Gauge,
    follow_up_overdue: Gauge,
}

/// One operation's OK counter and duration histogram (clones share them).
#[derive(Debug, Clone)]
struct MethodHandles {
    calls: Counter,
    duration: Histogram,
}

impl Metrics {
    /// A fresh set of metrics, every family registered and at zero.
    pub fn new() -> Arc<Metrics> {
        Arc::new(Self::with_method_cap(MAX_METHODS))
    }

    /// Metrics whose `operation` label admits `cap` distinct values per
    /// wire.
    fn with_method_cap(cap: usize) -> Metrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let request_errors = Family::<RequestLabels, Counter>::default();
        let request_duration: HistogramFamily =
            Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        let open_watchers = Gauge::default();
        let watchers_fell_behind = Counter::default();
        let events_committed = Counter::default();
        let follow_up_pending = Gauge::default();
        let follow_up_overdue = Gauge::default();

        let mut registry = Registry::with_prefix("cutover");
        registry.register(
            "requests",
            "Calls finished (gRPC unary calls and stream opens, MGN and SMC requests), \
             by wire, operation and the wire's code",
            requests.clone(),
        );
        registry.register(
            "request_errors",
            "Calls finished with a code other than OK, by wire, operation and code",
            request_errors.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Latency of calls, by wire and operation",
            Unit::Seconds,
            request_duration.clone(),
        );
        registry.register(
            "open_watchers",
            "Watch streams open now",
            open_watchers.clone(),
        );
        registry.register(
            "watchers_fell_behind",
            "Times a watcher fell out of the live window (a slow consumer) and read the \
             missed events back from the stored log, instead of the server buffering them",
            watchers_fell_behind.clone(),
        );
        registry.register(
            "events_committed",
            "Lifecycle events committed; rate() of it gives events per second",
            events_committed.clone(),
        );
        registry.register(
            "follow_up_tasks_pending",
            "Follow-up tasks pending now",
            follow_up_pending.clone(),
        );
        registry.register(
            "follow_up_tasks_overdue",
            "Follow-up tasks overdue now",
            follow_up_overdue.clone(),
        );

        Metrics {
            registry,
            operations: std::array::from_fn(|_| MethodCap::new(cap)),
            ok_calls: std::array::from_fn(|_| RwLock::new(HashMap::new())),
            requests,
            request_errors,
            request_duration,
            open_watchers,
            watchers_fell_behind,
            events_committed,
            follow_up_pending,
            follow_up_overdue,
        }
    }

    /// One call finished: `operation` on `wire`, answered with the wire's
    /// `code` ([`OK`] for a success) after `elapsed`.
    ///
    /// Counts it in `cutover_requests_total`, in
    /// `cutover_request_errors_total` if `code` is not `OK`, and observes
    /// `elapsed` in `cutover_request_duration_seconds`.
    pub fn request_finished(&self, wire: Wire, operation: &str, code: &str, elapsed: Duration) {
        let ok = code == OK;
        let ok_calls = &self.ok_calls[wire.index()];
        if ok {
            let handles = ok_calls.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(handles) = handles.get(operation) {
                handles.calls.inc();
                handles.duration.observe(elapsed.as_secs_f64());
                return;
            }
        }
        let label = self.operations[wire.index()].label(operation);
        let admitted = label == operation;
        let labels = RequestLabels {
            wire,
            operation: label,
            code: code.to_owned(),
        };
        let calls = self.requests.get_or_create(&labels).clone();
        calls.inc();
        if !ok {
            self.request_errors.get_or_create(&labels).inc();
        }
        let RequestLabels {
            operation: label, ..
        } = labels;
        let duration = self
            .request_duration
            .get_or_create(&OperationLabels {
                wire,
                operation: label,
            })
            .clone();
        duration.observe(elapsed.as_secs_f64());
        if ok && admitted {
            ok_calls
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(operation.into(), MethodHandles { calls, duration });
        }
    }

    /// The counter the watch fan-out raises each time a watcher falls out
    /// of the live window (`cutover_watchers_fell_behind_total`).
    pub fn watchers_fell_behind(&self) -> Counter {
        self.watchers_fell_behind.clone()
    }

    /// A watch stream opened: raises `cutover_open_watchers` until the
    /// returned guard drops.
    pub fn watcher_opened(self: &Arc<Self>) -> WatcherGuard {
        self.open_watchers.inc();
        WatcherGuard {
            metrics: Arc::clone(self),
        }
    }

    /// `count` lifecycle events committed: adds to
    /// `cutover_events_committed_total`, whose `rate()` is events per second.
    pub fn events_committed(&self, count: u64) {
        self.events_committed.inc_by(count);
    }

    /// Follow-up tasks pending and overdue right now: sets
    /// `cutover_follow_up_tasks_pending` and `cutover_follow_up_tasks_overdue`.
    pub fn set_follow_up_tasks(&self, pending: u64, overdue: u64) {
        self.follow_up_pending.set(saturating_i64(pending));
        self.follow_up_overdue.set(saturating_i64(overdue));
    }

    /// The text exposition in OpenMetrics 1.0.0 format (content type
    /// [`CONTENT_TYPE`]), ending in `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail, and the registry's encoders
        // only fail when the writer does.
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("encoding the metrics exposition failed");
        }
        out
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Held while a watch stream is open; dropping it lowers
/// `cutover_open_watchers` again.
#[derive(Debug)]
#[must_use = "the watcher counts as open only while the guard lives"]
pub struct WatcherGuard {
    metrics: Arc<Metrics>,
}

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.metrics.open_watchers.dec();
    }
}
