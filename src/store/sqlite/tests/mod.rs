//! Tests of the SQLite store, against real database files: shared
//! builders here, the tests by theme in the submodules.

mod committer;
mod durability;
mod upgrade;

use std::collections::HashSet;

use tempfile::TempDir;

use crate::store::conformance::{stored_job, stored_server};
use crate::store::fixtures::*;

use super::SqliteStore;
use crate::domain::{AccountId, ReplicationJob, ReplicationJobStatus, SourceServer, Timestamp};
use crate::store::{
    IdempotencyRecord, Outcome, SourceServerFilter, Store, StoreError, Versioned, WriteBatch,
};

fn open() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/cutover.db")).expect("open store");
    (dir, store)
}
