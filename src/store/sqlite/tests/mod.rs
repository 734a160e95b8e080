//! Tests of the SQLite store, against real database files: shared
//! builders here, the tests by theme in the submodules.

mod committer;
mod durability;
mod upgrade;

use std::collections::HashSet;

use tempfile::TempDir;

use crate::store::fixtures::*;

use super::SqliteStore;
use crate::domain::{
    AccountId, ReplicationJob, ReplicationJobId, ReplicationJobStatus, SourceServer,
    SourceServerId, Timestamp,
};
use crate::store::{
    IdempotencyRecord, SourceServerFilter, Store, StoreError, Versioned, WriteBatch,
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
