//! Durable storage of resources, the event log and idempotency records,
//! and the in-memory [`ReadModel`] every read is served from.
//!
//! One small trait, [`Store`], so that SQLite (embedded, the default) and a
//! later PostgreSQL implementation pass the same tests. The contract every
//! implementation keeps:
//! - a [`WriteBatch`] commits atomically: resources, their events and the
//!   idempotency record, or nothing; many batches may share one
//!   transaction (group commit), but each succeeds or fails on its own;
//! - each write carries the version it was decided on; a mismatch fails the
//!   batch with [`StoreError::Conflict`] (no lost update), as does a second
//!   unfinished job for one source server or a reused client token;
//! - events get the next gap-free revision in commit order, and are
//!   applied to the read model, and published to its subscribers, in that
//!   order, after they are durable and before the commit returns.

pub mod codec;
#[cfg(test)]
mod conformance;
#[cfg(test)]
pub(crate) mod fixtures;
mod lease;
mod outcome;
mod postgres;
mod read_model;
mod shared_event;
mod sqlite;

use async_trait::async_trait;

use crate::domain::{
    AccountId, BusinessStatus, LifeCycleState, LifecycleEvent, PendingEvent, ReplicationJobId,
    ReplicationJobStatus, ReplicationType, Resource, SourceServerId, Timestamp,
};

pub use lease::{Fence, LeaseName};
pub use outcome::{Outcome, Recordable};
pub use postgres::{PostgresOptions, PostgresStore};
pub use read_model::{AtRevision, Entry, OutOfOrder, ReadModel, ServerEntry, Snapshot};
pub use shared_event::SharedEvent;
pub use sqlite::SqliteStore;

/// A value with the version it was stored at (1 for the first write) and
/// the revision of the event that last wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version.
    pub version: u64,
    /// The revision of its last change.
    pub revision: u64,
}

impl<T> Versioned<T> {
    /// The same version of `f(value)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            value: f(self.value),
            version: self.version,
            revision: self.revision,
        }
    }
}

/// One resource write and the event that records it.
#[derive(Debug, Clone)]
pub struct ResourceWrite {
    /// The resource after the change.
    pub resource: Resource,
    /// The version the change was decided on; `None` when the resource
    /// must not exist yet.
    pub expected_version: Option<u64>,
    /// The event recording the change.
    pub event: PendingEvent,
}

/// A client token's record: what the first call with it asked and answered.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// The caller's account.
    pub account_id: AccountId,
    /// The client token.
    pub token: String,
    /// A digest of the request the token was first used with.
    pub fingerprint: String,
    /// The first call's answer, which a retry gets again; stores keep it
    /// in the storage encoding ([`codec::encode_outcome`]).
    pub outcome: Outcome,
    /// When the token was first used; it is forgotten after the
    /// deployment's retention.
    pub created: Timestamp,
}

/// A replication agent's stable identity, bound to the source server its
/// first report registered: any later report of the same instance that
/// does not name its server (a retry after a lost response) is about that
/// server, never a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInstance {
    /// The agent's account.
    pub account_id: AccountId,
    /// The id the agent generated once and keeps.
    pub instance_id: String,
    /// The server its first report registered.
    pub server_id: SourceServerId,
}

/// Everything one operation commits, atomically.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// Resource writes, each with its event, in order.
    pub writes: Vec<ResourceWrite>,
    /// The client token record, when the call carried one.
    pub idempotency: Option<IdempotencyRecord>,
    /// An agent instance bound by this batch; a second binding of the same
    /// instance conflicts.
    pub agent_instance: Option<AgentInstance>,
    /// The lease of the background duty this batch is a step of: it
    /// commits only while that lease still carries this fence, so a replica
    /// that lost the lease (paused, partitioned) cannot apply a step the
    /// new holder may already have applied.
    pub fence: Option<Fence>,
}

/// Filters of a source server listing; empty lists match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceServerFilter {
    /// Only these ids.
    pub ids: Vec<SourceServerId>,
    /// Only archived or unarchived servers.
    pub is_archived: Option<bool>,
    /// Only these replication types.
    pub replication_types: Vec<ReplicationType>,
    /// Only these lifecycle states.
    pub life_cycle_states: Vec<LifeCycleState>,
}

/// Filters of a replication job listing; empty lists match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicationJobFilter {
    /// Only these ids.
    pub ids: Vec<ReplicationJobId>,
    /// Only jobs of these source servers.
    pub source_ids: Vec<SourceServerId>,
    /// Only these statuses.
    pub statuses: Vec<ReplicationJobStatus>,
    /// Only these business statuses.
    pub business_statuses: Vec<BusinessStatus>,
}

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A version check, uniqueness rule or client token failed; nothing was
    /// written. The caller reloads and decides again.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// The store cannot be reached or is busy; a retry may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The batch's fence is stale: another replica took over the duty it
    /// was a step of. Nothing was written.
    #[error("lease lost: {0}")]
    Fenced(String),
    /// The storage has no space left: nothing was written, and writes
    /// succeed again once space is freed.
    #[error("storage is full: {0}")]
    Full(String),
}

/// Durable resources and the lifecycle event log, with the read model
/// they keep.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The current state of every resource, as of the last revision
    /// applied; reads never wait for the database.
    fn read_model(&self) -> &ReadModel;

    /// Marks `account` initialised; true if it was not before.
    async fn initialize_account(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// True once `account` was initialised.
    async fn is_account_initialized(&self, account: &AccountId) -> Result<bool, StoreError>;

    /// The record of a client token, if it was used.
    async fn idempotency_record(
        &self,
        account: &AccountId,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// The server an agent instance's first report registered, if any,
    /// answered once the read model holds it (UNAVAILABLE if it does not
    /// within a few seconds).
    async fn agent_instance(
        &self,
        account: &AccountId,
        instance_id: &str,
    ) -> Result<Option<SourceServerId>, StoreError>;

    /// Commits `batch` atomically and durably, and applies it to the read
    /// model; returns the revision at which the read model shows it.
    async fn commit(&self, batch: WriteBatch) -> Result<u64, StoreError>;

    /// Up to `limit` events with revision >= `from`, in revision order.
    async fn events_from(&self, from: u64, limit: usize)
        -> Result<Vec<LifecycleEvent>, StoreError>;

    /// The oldest revision still in the log (head + 1 when it is empty
    /// after compaction); a watcher cannot resume from before it.
    async fn oldest_revision(&self) -> Result<u64, StoreError>;

    /// Deletes the oldest events so that at most `keep_count` remain and
    /// none is older than `older_than`; returns how many were deleted.
    /// Revisions keep counting from where they were. Each step commits only
    /// under `fence`, when given.
    async fn compact_events(
        &self,
        keep_count: u64,
        older_than: Option<Timestamp>,
        fence: Option<Fence>,
    ) -> Result<u64, StoreError>;

    /// Forgets the client tokens first used before `older_than`; returns
    /// how many. Each step commits only under `fence`, when given.
    async fn forget_client_tokens(
        &self,
        older_than: Timestamp,
        fence: Option<Fence>,
    ) -> Result<u64, StoreError>;

    /// Takes or keeps the lease `name` for `owner` for `ttl` from the
    /// database's clock: renews it when `held` is the fence `owner` holds,
    /// else takes it if it is free or expired, with a new fence. Returns
    /// the fence held, or `None` when another owner holds the lease (or
    /// took it over: `held` is then lost). A store that only one process
    /// can open grants every lease at once.
    async fn hold_lease(
        &self,
        name: LeaseName,
        owner: &str,
        held: Option<u64>,
        ttl: std::time::Duration,
    ) -> Result<Option<u64>, StoreError>;

    /// A random 32-byte secret named `name`, created on first use and kept
    /// (used to sign pagination tokens so they survive restarts).
    async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError>;
}

impl WriteBatch {
    /// A batch of one resource write and its event.
    pub fn single(resource: Resource, expected_version: Option<u64>, event: PendingEvent) -> Self {
        WriteBatch {
            writes: vec![ResourceWrite {
                resource,
                expected_version,
                event,
            }],
            ..WriteBatch::default()
        }
    }
}

impl WriteBatch {
    /// A batch writing `transitions` of one resource in order, the first
    /// decided on `version` (`None`: a creation), each the next version.
    pub fn chain<R>(
        transitions: Vec<crate::domain::Transition<R>>,
        version: Option<u64>,
        wrap: impl Fn(R) -> Resource,
    ) -> Self {
        let mut expected = version;
        let writes = transitions
            .into_iter()
            .map(|transition| {
                let write = ResourceWrite {
                    resource: wrap(transition.resource),
                    expected_version: expected,
                    event: transition.event,
                };
                expected = Some(expected.map_or(1, |v| v + 1));
                write
            })
            .collect();
        WriteBatch {
            writes,
            ..WriteBatch::default()
        }
    }
}

/// Longest wait for the read model to apply what a reader found committed
/// in the database: microseconds normally; the bound is for a stuck
/// applier.
const APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The refusal when the read model has not applied `revision` in time.
fn not_applied(revision: u64) -> StoreError {
    StoreError::Unavailable(format!(
        "the read model has not applied revision {revision} yet; retry"
    ))
}
