//! Tests of the SQLite store, against real database files: shared
//! builders here, the tests by theme in the submodules.

mod committer;
mod durability;
mod event_log;
mod reads;
mod upgrade;
mod writes;

use std::collections::HashSet;

use tempfile::TempDir;

use crate::store::fixtures::*;

use super::SqliteStore;
use crate::domain::{
    AccountId, BusinessStatus, FollowUpTask, FollowUpTaskId, FollowUpTaskKind, LifeCycleState,
    Millis, ReplicationJob, ReplicationJobId, ReplicationJobStatus, ReplicationType, Resource,
    SourceServer, SourceServerId, Timestamp,
};
use crate::store::{
    Entry, IdempotencyRecord, ReplicationJobFilter, ServerEntry, SourceServerFilter, Store,
    StoreError, Versioned, WriteBatch,
};

fn open() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/cutover.db")).expect("open store");
    (dir, store)
}

/// A source server as the store's read model holds it.
fn stored_server(
    store: &SqliteStore,
    account: &AccountId,
    id: &SourceServerId,
) -> Option<Versioned<SourceServer>> {
    let entry = store.read_model().source_server(account, id)?;
    Some(entry.server.map(|server| SourceServer::clone(&server)))
}

/// A replication job as the store's read model holds it.
fn stored_job(
    store: &SqliteStore,
    account: &AccountId,
    id: &ReplicationJobId,
) -> Option<Versioned<ReplicationJob>> {
    let entry = store.read_model().replication_job(account, id)?;
    Some(entry.map(|job| ReplicationJob::clone(&job)))
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}
