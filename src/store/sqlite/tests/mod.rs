//! Tests of the SQLite store, against real database files: shared
//! builders here, the tests by theme in the submodules.

mod durability;
mod event_log;
mod reads;
mod writes;

use std::collections::{BTreeMap, HashSet};

use tempfile::TempDir;

use super::SqliteStore;
use crate::domain::{
    AccountId, BusinessStatus, DataReplicationInfo, DataReplicationState, FollowUpTask,
    FollowUpTaskId, FollowUpTaskKind, JobSchedule, LifeCycle, LifeCycleState, Millis,
    ReplicationJob, ReplicationJobId, ReplicationJobStatus, ReplicationType, Resource,
    SourceProperties, SourceServer, SourceServerId, Timestamp, Transition,
};
use crate::store::{
    Entry, IdempotencyRecord, ReplicationJobFilter, ResourceWrite, ServerEntry, SourceServerFilter,
    Store, StoreError, Versioned, WriteBatch,
};

fn account(n: u64) -> AccountId {
    AccountId::parse("account", &format!("{n:012}")).expect("valid account id")
}

fn sid(n: u64) -> SourceServerId {
    SourceServerId::parse("id", &format!("s-{n:017}")).expect("valid source server id")
}

fn jid(n: u64) -> ReplicationJobId {
    ReplicationJobId::parse("id", &format!("j-{n:020}")).expect("valid job id")
}

fn server(acct: &AccountId, n: u64) -> SourceServer {
    SourceServer {
        account_id: acct.clone(),
        id: sid(n),
        is_archived: false,
        tags: BTreeMap::from([("n".to_owned(), n.to_string())]),
        replication_type: ReplicationType::AgentBased,
        launched_instance: None,
        source_properties: SourceProperties::default(),
        data_replication_info: DataReplicationInfo {
            state: DataReplicationState::Stopped,
            lag: None,
            eta: None,
            last_snapshot: None,
            replicated_disks: Vec::new(),
            initiation: None,
            error: None,
        },
        life_cycle: LifeCycle {
            state: LifeCycleState::PendingInstallation,
            added_to_service: Timestamp(1),
            first_byte: None,
            elapsed_replication: None,
            last_seen_by_service: None,
            last_test: None,
            last_cutover: None,
        },
        follow_up_tasks: Vec::new(),
    }
}

fn job(acct: &AccountId, n: u64, source: u64, status: ReplicationJobStatus) -> ReplicationJob {
    ReplicationJob {
        account_id: acct.clone(),
        id: jid(n),
        source_id: sid(source),
        name: format!("job {n}"),
        description: String::new(),
        status,
        business_status: (status == ReplicationJobStatus::Running)
            .then_some(BusinessStatus::Syncing),
        progress: 12.5,
        error_code: None,
        status_info: String::new(),
        schedule: JobSchedule::Incremental {
            frequency_hours: 12,
            max_images: 3,
        },
        created: Timestamp(1),
        started: None,
        ended: None,
        current_run: None,
        runs: Vec::new(),
        image_ids: Vec::new(),
        cycles: 0,
        next_run: None,
        cut_over: None,
    }
}

fn server_write(s: SourceServer, expected_version: Option<u64>) -> ResourceWrite {
    let t = Transition::of_server(None, s, Timestamp(1));
    ResourceWrite {
        resource: Resource::SourceServer(t.resource),
        expected_version,
        event: t.event,
    }
}

fn job_write(j: ReplicationJob, expected_version: Option<u64>) -> ResourceWrite {
    let t = Transition::of_job(None, j, Timestamp(1));
    ResourceWrite {
        resource: Resource::ReplicationJob(t.resource),
        expected_version,
        event: t.event,
    }
}

fn batch(writes: Vec<ResourceWrite>) -> WriteBatch {
    WriteBatch {
        writes,
        idempotency: None,
    }
}

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
