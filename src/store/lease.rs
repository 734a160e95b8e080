//! Leases on background duties, with fencing.
//!
//! Several replicas on one database must not each run the scheduler, the
//! compaction or the built-in simulator: one replica holds each duty's
//! lease, renews it, and another takes it over once it expires. A lease
//! alone is not enough: a replica paused past its lease (a long GC-like
//! stall, a frozen VM) wakes believing it still holds it. So each claim
//! bumps the lease's *fence*, and every write a duty makes carries the
//! fence it was decided under; the store commits it only while the lease
//! still carries that fence (PostgreSQL locks the lease row in the same
//! transaction), so a stale holder's step is refused, never applied twice.

use std::fmt;

/// A background duty only one replica performs at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseName {
    /// The scheduler: incremental runs, stall and overdue marks.
    Scheduler,
    /// Event log compaction and client token expiry.
    Retention,
    /// The built-in simulator (agents and the replication
    /// infrastructure), whose steps (final syncs, teardowns) must run once.
    Simulator,
}

impl LeaseName {
    /// Every duty, in the order replicas claim them.
    pub const ALL: [LeaseName; 3] = [
        LeaseName::Scheduler,
        LeaseName::Retention,
        LeaseName::Simulator,
    ];

    /// The lease's key in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseName::Scheduler => "scheduler",
            LeaseName::Retention => "retention",
            LeaseName::Simulator => "data-plane",
        }
    }
}

impl fmt::Display for LeaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lease a write is a step of, and the fence its holder claimed it
/// with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    /// The duty.
    pub lease: LeaseName,
    /// The fence: bumped on every claim of the lease.
    pub token: u64,
}
