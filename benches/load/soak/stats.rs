//! What the load records as it goes: latencies, errors and counts, taken
//! by the sampler once per interval.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use crate::soak::histogram::{Histogram, Recorder};

/// Errors of one kind: how many, and the first message.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorKind {
    /// Occurrences over the whole run.
    pub(crate) count: u64,
    /// The first one's message.
    pub(crate) example: String,
}

/// Shared by every load task.
pub(crate) struct Stats {
    reads: Recorder,
    mutations: Recorder,
    lag: Recorder,
    read_count: AtomicU64,
    mutation_count: AtomicU64,
    errors_interval: AtomicU64,
    errors: Mutex<BTreeMap<String, ErrorKind>>,
    /// Calls due while the in-flight limit was reached (client overload).
    pub(crate) skipped: AtomicU64,
    /// Agent command streams reopened.
    pub(crate) reconnects: AtomicU64,
    /// Commands the reconnecting agents received.
    pub(crate) commands: AtomicU64,
    /// Events received by the watchers.
    pub(crate) deliveries: AtomicU64,
    /// Highest revision any watcher received (or was told of by a bookmark).
    pub(crate) head: AtomicU64,
    /// Flows (new servers) finished.
    pub(crate) flows: AtomicU64,
}

/// One interval's figures, drained from [`Stats`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Interval {
    /// Read latencies.
    pub(crate) reads: Histogram,
    /// Mutation latencies.
    pub(crate) mutations: Histogram,
    /// Watcher lag: from an event's time to its receipt.
    pub(crate) lag: Histogram,
    /// Errors of any kind.
    pub(crate) errors: u64,
    /// Skipped calls.
    pub(crate) skipped: u64,
    /// Agent reconnections.
    pub(crate) reconnects: u64,
    /// Watch events received.
    pub(crate) deliveries: u64,
}

impl Stats {
    /// Nothing recorded yet.
    pub(crate) fn new() -> Stats {
        Stats {
            reads: Recorder::new(),
            mutations: Recorder::new(),
            lag: Recorder::new(),
            read_count: AtomicU64::new(0),
            mutation_count: AtomicU64::new(0),
            errors_interval: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            skipped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            commands: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            head: AtomicU64::new(0),
            flows: AtomicU64::new(0),
        }
    }

    /// Records a read's latency.
    pub(crate) fn read(&self, started: Instant) {
        self.reads.record(started.elapsed());
        self.read_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a mutation's latency.
    pub(crate) fn mutation(&self, started: Instant) {
        self.mutations.record(started.elapsed());
        self.mutation_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a watcher's lag behind an event.
    pub(crate) fn lag(&self, lag: Duration) {
        self.lag.record(lag);
    }

    /// Counts an error of `kind` (e.g. `StartTest: FailedPrecondition`).
    pub(crate) fn error(&self, kind: impl Into<String>, message: impl Into<String>) {
        self.errors_interval.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().expect("error table poisoned");
        let entry = errors.entry(kind.into()).or_default();
        if entry.count == 0 {
            entry.example = message.into();
        }
        entry.count += 1;
    }

    /// Counts a failed call: its kind is the method and the gRPC code.
    pub(crate) fn failed(&self, method: &str, status: &tonic::Status) {
        self.error(
            format!("{method}: {:?}", status.code()),
            status.message().to_owned(),
        );
    }

    /// Raises the highest revision seen to `revision`.
    pub(crate) fn saw(&self, revision: u64) {
        self.head.fetch_max(revision, Ordering::Relaxed);
    }

    /// Calls recorded in all: (reads, mutations).
    pub(crate) fn calls(&self) -> (u64, u64) {
        (
            self.read_count.load(Ordering::Relaxed),
            self.mutation_count.load(Ordering::Relaxed),
        )
    }

    /// The errors of the whole run, by kind.
    pub(crate) fn error_kinds(&self) -> BTreeMap<String, ErrorKind> {
        self.errors.lock().expect("error table poisoned").clone()
    }

    /// Everything since the last call; counting starts over.
    pub(crate) fn drain(&self) -> Interval {
        Interval {
            reads: self.reads.drain(),
            mutations: self.mutations.drain(),
            lag: self.lag.drain(),
            errors: self.errors_interval.swap(0, Ordering::Relaxed),
            skipped: self.skipped.swap(0, Ordering::Relaxed),
            reconnects: self.reconnects.swap(0, Ordering::Relaxed),
            deliveries: self.deliveries.swap(0, Ordering::Relaxed),
        }
    }
}
