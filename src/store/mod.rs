//! Durable storage of resources, the event log and idempotency records.
//!
//! One small trait, [`Store`], so that SQLite (embedded, the default) and a
//! later PostgreSQL implementation pass the same tests. The contract every
//! implementation keeps:
//! - a [`WriteBatch`] commits atomically: resources, their events and the
//!   idempotency record, or nothing;
//! - each write carries the version it was decided on; a mismatch fails the
//!   whole batch with [`StoreError::Conflict`] (no lost update), as does a
//!   second unfinished job for one source server or a reused client token;
//! - events get the next gap-free revision in commit order, and are
//!   published to subscribers in that order after they are durable.

mod shared_event;
mod sqlite;

use std::collections::HashSet;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::domain::{
    AccountId, BusinessStatus, DomainError, FollowUpTaskId, LifeCycleState, LifecycleEvent,
    PendingEvent, ReplicationJob, ReplicationJobId, ReplicationJobStatus, ReplicationType,
    Resource, SourceServer, SourceServerId, Timestamp,
};

pub use shared_event::SharedEvent;
pub use sqlite::SqliteStore;

/// A value with the version it was stored at (1 for the first write).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version.
    pub version: u64,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The caller's account.
    pub account_id: AccountId,
    /// The client token.
    pub token: String,
    /// A digest of the request the token was first used with.
    pub fingerprint: String,
    /// The first call's outcome, serialised by the control plane.
    pub outcome: String,
}

/// Everything one operation commits, atomically.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// Resource writes, each with its event, in order.
    pub writes: Vec<ResourceWrite>,
    /// The client token record, when the call carried one.
    pub idempotency: Option<IdempotencyRecord>,
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
}

impl From<StoreError> for DomainError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(cause) | StoreError::Unavailable(cause) => {
                DomainError::unavailable(cause)
            }
            StoreError::Corrupt(cause) => DomainError::internal(cause),
        }
    }
}

/// Durable resources and the lifecycle event log.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Marks `account` initialised; true if it was not before.
    async fn initialize_account(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// True once `account` was initialised.
    async fn is_account_initialized(&self, account: &AccountId) -> Result<bool, StoreError>;

    /// One source server of `account`.
    async fn source_server(
        &self,
        account: &AccountId,
        id: &SourceServerId,
    ) -> Result<Option<Versioned<SourceServer>>, StoreError>;

    /// One replication job of `account`.
    async fn replication_job(
        &self,
        account: &AccountId,
        id: &ReplicationJobId,
    ) -> Result<Option<Versioned<ReplicationJob>>, StoreError>;

    /// A page of `account`'s source servers matching `filter`, ordered by
    /// id, starting after `after`, read as one consistent snapshot.
    async fn list_source_servers(
        &self,
        account: &AccountId,
        filter: &SourceServerFilter,
        after: Option<&SourceServerId>,
        limit: usize,
    ) -> Result<Vec<SourceServer>, StoreError>;

    /// A page of `account`'s replication jobs matching `filter`, ordered by
    /// id, starting after `after`, read as one consistent snapshot.
    async fn list_replication_jobs(
        &self,
        account: &AccountId,
        filter: &ReplicationJobFilter,
        after: Option<&ReplicationJobId>,
        limit: usize,
    ) -> Result<Vec<ReplicationJob>, StoreError>;

    /// Which of `sources` have a Running replication job.
    async fn sources_with_running_jobs(
        &self,
        account: &AccountId,
        sources: &[SourceServerId],
    ) -> Result<HashSet<SourceServerId>, StoreError>;

    /// Source servers, of any account, that the data plane or scheduler
    /// must act on: not yet cut over, disconnected or archived, or with a
    /// pending follow-up task. At most `limit`, oldest change first.
    async fn active_source_servers(
        &self,
        limit: usize,
    ) -> Result<Vec<Versioned<SourceServer>>, StoreError>;

    /// Replication jobs, of any account, that are Running or Waiting.
    async fn active_replication_jobs(
        &self,
        limit: usize,
    ) -> Result<Vec<Versioned<ReplicationJob>>, StoreError>;

    /// The record of a client token, if it was used.
    async fn idempotency_record(
        &self,
        account: &AccountId,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Commits `batch` atomically and durably; returns its events with
    /// their revisions.
    async fn commit(&self, batch: WriteBatch) -> Result<Vec<LifecycleEvent>, StoreError>;

    /// Up to `limit` events with revision >= `from`, in revision order.
    async fn events_from(&self, from: u64, limit: usize)
        -> Result<Vec<LifecycleEvent>, StoreError>;

    /// The latest committed revision (0 when the log is empty).
    async fn head_revision(&self) -> Result<u64, StoreError>;

    /// Every resource of `account` and the revision they reflect, as one
    /// consistent snapshot.
    async fn snapshot(&self, account: &AccountId) -> Result<(u64, Vec<Resource>), StoreError>;

    /// Pending follow-up tasks whose deadline is at or before `now` and
    /// that are not flagged overdue yet, oldest deadline first, as
    /// (account, source server, task).
    async fn overdue_follow_up_tasks(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(AccountId, SourceServerId, FollowUpTaskId)>, StoreError>;

    /// How many follow-up tasks are pending, and how many of those are
    /// overdue.
    async fn follow_up_task_counts(&self) -> Result<(u64, u64), StoreError>;

    /// The oldest revision still in the log (head + 1 when it is empty
    /// after compaction); a watcher cannot resume from before it.
    async fn oldest_revision(&self) -> Result<u64, StoreError>;

    /// Deletes the oldest events so that at most `keep_count` remain and
    /// none is older than `older_than`; returns how many were deleted.
    /// Revisions keep counting from where they were.
    async fn compact_events(
        &self,
        keep_count: u64,
        older_than: Option<Timestamp>,
    ) -> Result<u64, StoreError>;

    /// Committed events as they become durable, in revision order.
    fn subscribe(&self) -> broadcast::Receiver<std::sync::Arc<SharedEvent>>;

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
            idempotency: None,
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
            idempotency: None,
        }
    }
}
