//! Tests of the SQLite store, against real database files.

use std::collections::{BTreeMap, HashSet};

use tempfile::TempDir;

use super::{queries, SqliteStore};
use crate::domain::{
    AccountId, BusinessStatus, DataReplicationInfo, DataReplicationState, FollowUpTask,
    FollowUpTaskId, FollowUpTaskKind, JobSchedule, LifeCycle, LifeCycleState, Millis,
    ReplicationJob, ReplicationJobId, ReplicationJobStatus, ReplicationType, Resource,
    SourceProperties, SourceServer, SourceServerId, Timestamp, Transition,
};
use crate::store::{
    IdempotencyRecord, ReplicationJobFilter, ResourceWrite, SourceServerFilter, Store, StoreError,
    WriteBatch,
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

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

#[tokio::test]
async fn insert_reads_back_at_version_1() {
    let (_dir, store) = open();
    let a = account(1);
    let s = server(&a, 1);
    let events = store
        .commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].revision, 1);
    assert_eq!(events[0].resource, Resource::SourceServer(s.clone()));

    let got = store
        .source_server(&a, &s.id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.version, 1);
    assert_eq!(got.value, s);
    assert_eq!(store.head_revision().await.unwrap(), 1);
    // Other accounts do not see it.
    assert_eq!(store.source_server(&account(2), &s.id).await.unwrap(), None);
    assert_eq!(store.source_server(&a, &sid(2)).await.unwrap(), None);
}

#[tokio::test]
async fn update_at_current_version_gives_version_2() {
    let (_dir, store) = open();
    let a = account(1);
    let mut s = server(&a, 1);
    store
        .commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .unwrap();
    s.life_cycle.state = LifeCycleState::NotReady;
    let events = store
        .commit(batch(vec![server_write(s.clone(), Some(1))]))
        .await
        .unwrap();
    assert_eq!(events[0].revision, 2);

    let got = store
        .source_server(&a, &s.id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.version, 2);
    assert_eq!(got.value.life_cycle.state, LifeCycleState::NotReady);
}

#[tokio::test]
async fn stale_version_conflicts_and_writes_nothing() {
    let (_dir, store) = open();
    let a = account(1);
    let mut s = server(&a, 1);
    store
        .commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .unwrap();
    store
        .commit(batch(vec![server_write(s.clone(), Some(1))]))
        .await
        .unwrap();

    s.is_archived = true;
    assert!(is_conflict(
        store
            .commit(batch(vec![server_write(s.clone(), Some(1))]))
            .await
    ));
    // Updating a server that does not exist is a conflict too.
    assert!(is_conflict(
        store
            .commit(batch(vec![server_write(server(&a, 9), Some(1))]))
            .await
    ));
    // And so is creating one that exists.
    assert!(is_conflict(
        store
            .commit(batch(vec![server_write(server(&a, 1), None)]))
            .await
    ));

    assert_eq!(store.head_revision().await.unwrap(), 2);
    let got = store
        .source_server(&a, &s.id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.version, 2);
    assert!(!got.value.is_archived);
    assert_eq!(store.source_server(&a, &sid(9)).await.unwrap(), None);
}

#[tokio::test]
async fn a_conflict_rolls_back_the_whole_batch() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![server_write(server(&a, 1), None)]))
        .await
        .unwrap();

    let result = store
        .commit(batch(vec![
            server_write(server(&a, 2), None),
            server_write(server(&a, 1), Some(7)),
        ]))
        .await;
    assert!(is_conflict(result));
    assert_eq!(store.source_server(&a, &sid(2)).await.unwrap(), None);
    assert_eq!(store.head_revision().await.unwrap(), 1);

    // The next commit gets the next revision: no gap was left.
    let events = store
        .commit(batch(vec![server_write(server(&a, 2), None)]))
        .await
        .unwrap();
    assert_eq!(events[0].revision, 2);
}

#[tokio::test]
async fn one_batch_gets_consecutive_revisions() {
    let (_dir, store) = open();
    let a = account(1);
    let events = store
        .commit(batch(vec![
            server_write(server(&a, 1), None),
            job_write(job(&a, 1, 1, ReplicationJobStatus::Ready), None),
            server_write(server(&a, 1), Some(1)),
        ]))
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.revision).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        store
            .source_server(&a, &sid(1))
            .await
            .unwrap()
            .map(|v| v.version),
        Some(2)
    );
    assert_eq!(store.events_from(1, 10).await.unwrap(), events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commits_are_gap_free_and_published_in_order() {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 25;
    const TOTAL: u64 = TASKS * PER_TASK;
    let (_dir, store) = open();
    let mut receiver = store.subscribe();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let a = account(t % 3 + 1);
                for i in 0..PER_TASK {
                    let n = t * 1000 + i;
                    let events = store
                        .commit(batch(vec![server_write(server(&a, n), None)]))
                        .await
                        .unwrap();
                    assert_eq!(events.len(), 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let log = store.events_from(1, 10_000).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.revision).collect::<Vec<_>>(),
        (1..=TOTAL).collect::<Vec<_>>()
    );
    assert_eq!(store.head_revision().await.unwrap(), TOTAL);
    let ids: HashSet<&str> = log.iter().map(|e| e.resource.id()).collect();
    assert_eq!(ids.len() as u64, TOTAL);

    for expected in 1..=TOTAL {
        let event = receiver.recv().await.unwrap();
        assert_eq!(event.revision, expected);
        assert_eq!(*event, log[(expected - 1) as usize]);
    }
    assert!(receiver.try_recv().is_err());
}

#[tokio::test]
async fn events_from_pages_the_log() {
    let (_dir, store) = open();
    assert_eq!(store.head_revision().await.unwrap(), 0);
    assert!(store.events_from(0, 10).await.unwrap().is_empty());
    let a = account(1);
    for n in 0..5 {
        store
            .commit(batch(vec![server_write(server(&a, n), None)]))
            .await
            .unwrap();
    }
    let page: Vec<u64> = store
        .events_from(2, 2)
        .await
        .unwrap()
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(page, [2, 3]);
    let rest: Vec<u64> = store
        .events_from(4, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(rest, [4, 5]);
    assert!(store.events_from(6, 100).await.unwrap().is_empty());
    assert!(store.events_from(u64::MAX, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_unfinished_job_per_source() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![job_write(
            job(&a, 1, 1, ReplicationJobStatus::Ready),
            None,
        )]))
        .await
        .unwrap();

    let second = store
        .commit(batch(vec![job_write(
            job(&a, 2, 1, ReplicationJobStatus::Ready),
            None,
        )]))
        .await;
    assert!(is_conflict(second));
    assert_eq!(store.replication_job(&a, &jid(2)).await.unwrap(), None);
    assert_eq!(store.head_revision().await.unwrap(), 1);

    // Other sources and other accounts are not affected.
    store
        .commit(batch(vec![job_write(
            job(&a, 3, 2, ReplicationJobStatus::Waiting),
            None,
        )]))
        .await
        .unwrap();
    store
        .commit(batch(vec![job_write(
            job(&account(2), 4, 1, ReplicationJobStatus::Ready),
            None,
        )]))
        .await
        .unwrap();

    // Once the first job is Finished, a new one may be created.
    let finished = job(&a, 1, 1, ReplicationJobStatus::Finished);
    store
        .commit(batch(vec![job_write(finished, Some(1))]))
        .await
        .unwrap();
    store
        .commit(batch(vec![job_write(
            job(&a, 2, 1, ReplicationJobStatus::Ready),
            None,
        )]))
        .await
        .unwrap();
    let got = store
        .replication_job(&a, &jid(2))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (got.version, got.value.status),
        (1, ReplicationJobStatus::Ready)
    );

    // Reviving the finished job while another is unfinished conflicts.
    let revived = job(&a, 1, 1, ReplicationJobStatus::Ready);
    assert!(is_conflict(
        store.commit(batch(vec![job_write(revived, Some(2))])).await
    ));
}

#[tokio::test]
async fn idempotency_record_round_trip_and_reused_token_conflicts() {
    let (_dir, store) = open();
    let a = account(1);
    let record = IdempotencyRecord {
        account_id: a.clone(),
        token: "token-1".to_owned(),
        fingerprint: "abc".to_owned(),
        outcome: "{\"ok\":true}".to_owned(),
    };
    assert_eq!(store.idempotency_record(&a, "token-1").await.unwrap(), None);
    store
        .commit(WriteBatch {
            writes: vec![server_write(server(&a, 1), None)],
            idempotency: Some(record.clone()),
        })
        .await
        .unwrap();
    assert_eq!(
        store.idempotency_record(&a, "token-1").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store
            .idempotency_record(&account(2), "token-1")
            .await
            .unwrap(),
        None
    );

    // The same token again conflicts and rolls back its batch's writes.
    let again = store
        .commit(WriteBatch {
            writes: vec![server_write(server(&a, 2), None)],
            idempotency: Some(record.clone()),
        })
        .await;
    assert!(is_conflict(again));
    assert_eq!(store.source_server(&a, &sid(2)).await.unwrap(), None);
    assert_eq!(store.head_revision().await.unwrap(), 1);

    // Tokens are per account.
    let other = IdempotencyRecord {
        account_id: account(2),
        ..record
    };
    store
        .commit(WriteBatch {
            writes: Vec::new(),
            idempotency: Some(other.clone()),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .idempotency_record(&account(2), "token-1")
            .await
            .unwrap(),
        Some(other)
    );
}

#[tokio::test]
async fn list_source_servers_filters_and_pages() {
    let (_dir, store) = open();
    let a = account(1);
    let mut writes = Vec::new();
    for n in 0..10 {
        let mut s = server(&a, n);
        s.is_archived = n % 2 == 0;
        s.replication_type = if n < 5 {
            ReplicationType::AgentBased
        } else {
            ReplicationType::SnapshotShipping
        };
        s.life_cycle.state = if n % 3 == 0 {
            LifeCycleState::Cutover
        } else {
            LifeCycleState::NotReady
        };
        writes.push(server_write(s, None));
    }
    writes.push(server_write(server(&account(2), 100), None));
    store.commit(batch(writes)).await.unwrap();

    let ids = |servers: Vec<SourceServer>| servers.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let all = SourceServerFilter::default();
    assert_eq!(
        ids(store
            .list_source_servers(&a, &all, None, 100)
            .await
            .unwrap()),
        (0..10).map(sid).collect::<Vec<_>>()
    );

    // Pages of 4 by `after`.
    let first = ids(store.list_source_servers(&a, &all, None, 4).await.unwrap());
    assert_eq!(first, (0..4).map(sid).collect::<Vec<_>>());
    let second = ids(store
        .list_source_servers(&a, &all, first.last(), 4)
        .await
        .unwrap());
    assert_eq!(second, (4..8).map(sid).collect::<Vec<_>>());
    let third = ids(store
        .list_source_servers(&a, &all, second.last(), 4)
        .await
        .unwrap());
    assert_eq!(third, [sid(8), sid(9)]);

    let archived = SourceServerFilter {
        is_archived: Some(true),
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .list_source_servers(&a, &archived, None, 100)
            .await
            .unwrap()),
        [0, 2, 4, 6, 8].map(sid)
    );
    let filter = SourceServerFilter {
        ids: vec![sid(1), sid(3), sid(6), sid(7), sid(100)],
        is_archived: Some(false),
        replication_types: vec![ReplicationType::SnapshotShipping],
        life_cycle_states: vec![LifeCycleState::NotReady, LifeCycleState::Testing],
    };
    assert_eq!(
        ids(store
            .list_source_servers(&a, &filter, None, 100)
            .await
            .unwrap()),
        [sid(7)]
    );
    let cut_over = SourceServerFilter {
        life_cycle_states: vec![LifeCycleState::Cutover],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .list_source_servers(&a, &cut_over, Some(&sid(0)), 2)
            .await
            .unwrap()),
        [sid(3), sid(6)]
    );
    assert_eq!(
        ids(store
            .list_source_servers(&account(2), &all, None, 100)
            .await
            .unwrap()),
        [sid(100)]
    );
    assert!(store
        .list_source_servers(&account(3), &all, None, 100)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn list_replication_jobs_filters_and_pages() {
    let (_dir, store) = open();
    let a = account(1);
    let statuses = [
        ReplicationJobStatus::Running,
        ReplicationJobStatus::Waiting,
        ReplicationJobStatus::Ready,
        ReplicationJobStatus::Finished,
    ];
    let writes = (0..8)
        .map(|n| job_write(job(&a, n, n, statuses[n as usize % 4]), None))
        .collect();
    store.commit(batch(writes)).await.unwrap();
    store
        .commit(batch(vec![job_write(
            job(&account(2), 50, 1, ReplicationJobStatus::Running),
            None,
        )]))
        .await
        .unwrap();

    let ids = |jobs: Vec<ReplicationJob>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let all = ReplicationJobFilter::default();
    let first = ids(store
        .list_replication_jobs(&a, &all, None, 5)
        .await
        .unwrap());
    assert_eq!(first, (0..5).map(jid).collect::<Vec<_>>());
    let rest = ids(store
        .list_replication_jobs(&a, &all, first.last(), 5)
        .await
        .unwrap());
    assert_eq!(rest, (5..8).map(jid).collect::<Vec<_>>());

    let running = ReplicationJobFilter {
        statuses: vec![ReplicationJobStatus::Running],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .list_replication_jobs(&a, &running, None, 100)
            .await
            .unwrap()),
        [jid(0), jid(4)]
    );
    let syncing = ReplicationJobFilter {
        business_statuses: vec![BusinessStatus::Syncing],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .list_replication_jobs(&a, &syncing, None, 100)
            .await
            .unwrap()),
        [jid(0), jid(4)]
    );
    let by_source = ReplicationJobFilter {
        ids: vec![jid(1), jid(2), jid(3), jid(5)],
        source_ids: vec![sid(1), sid(3), sid(5), sid(7)],
        statuses: vec![
            ReplicationJobStatus::Waiting,
            ReplicationJobStatus::Finished,
        ],
        business_statuses: Vec::new(),
    };
    assert_eq!(
        ids(store
            .list_replication_jobs(&a, &by_source, None, 100)
            .await
            .unwrap()),
        [jid(1), jid(3), jid(5)]
    );
    assert_eq!(
        ids(store
            .list_replication_jobs(&account(2), &all, None, 100)
            .await
            .unwrap()),
        [jid(50)]
    );
}

#[tokio::test]
async fn sources_with_running_jobs_are_found() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![
            job_write(job(&a, 1, 1, ReplicationJobStatus::Running), None),
            job_write(job(&a, 2, 2, ReplicationJobStatus::Waiting), None),
            job_write(job(&a, 3, 3, ReplicationJobStatus::Running), None),
            job_write(job(&account(2), 4, 4, ReplicationJobStatus::Running), None),
        ]))
        .await
        .unwrap();
    let found = store
        .sources_with_running_jobs(&a, &[sid(1), sid(2), sid(4), sid(9)])
        .await
        .unwrap();
    assert_eq!(found, HashSet::from([sid(1)]));
    assert!(store
        .sources_with_running_jobs(&a, &[])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn active_resources_come_oldest_change_first() {
    let (_dir, store) = open();
    let a = account(1);
    let b = account(2);
    let mut cut_over = server(&a, 1);
    cut_over.life_cycle.state = LifeCycleState::Cutover;
    let mut archived = server(&a, 2);
    archived.life_cycle.state = LifeCycleState::Disconnected;
    archived.is_archived = true;
    let mut with_task = server(&b, 3);
    with_task.life_cycle.state = LifeCycleState::Cutover;
    with_task.follow_up_tasks.push(FollowUpTask::record(
        FollowUpTaskId::parse("id", "task-00000000000000000001").unwrap(),
        FollowUpTaskKind::AgentUninstall,
        Timestamp(5),
        Millis::minutes(10),
    ));
    let mut done_task = with_task.clone();
    done_task.id = sid(4);
    done_task.follow_up_tasks[0].completed = Some(Timestamp(6));
    let ready = server(&b, 5);
    let testing = {
        let mut s = server(&a, 6);
        s.life_cycle.state = LifeCycleState::Testing;
        s
    };
    store
        .commit(batch(vec![
            server_write(testing.clone(), None),
            server_write(cut_over, None),
            server_write(archived, None),
            server_write(with_task.clone(), None),
            server_write(done_task, None),
            server_write(ready.clone(), None),
        ]))
        .await
        .unwrap();
    // Touch the oldest so it becomes the newest change.
    store
        .commit(batch(vec![server_write(testing.clone(), Some(1))]))
        .await
        .unwrap();

    let active = store.active_source_servers(100).await.unwrap();
    let ids: Vec<_> = active
        .iter()
        .map(|v| (v.value.id.clone(), v.version))
        .collect();
    assert_eq!(ids, [(sid(3), 1), (sid(5), 1), (sid(6), 2)]);
    assert_eq!(store.active_source_servers(1).await.unwrap().len(), 1);

    store
        .commit(batch(vec![
            job_write(job(&a, 1, 1, ReplicationJobStatus::Waiting), None),
            job_write(job(&a, 2, 2, ReplicationJobStatus::Ready), None),
            job_write(job(&b, 3, 3, ReplicationJobStatus::Running), None),
            job_write(job(&a, 4, 4, ReplicationJobStatus::Finished), None),
        ]))
        .await
        .unwrap();
    store
        .commit(batch(vec![job_write(
            job(&a, 1, 1, ReplicationJobStatus::Running),
            Some(1),
        )]))
        .await
        .unwrap();
    let jobs: Vec<_> = store
        .active_replication_jobs(100)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.value.id, v.version))
        .collect();
    assert_eq!(jobs, [(jid(3), 1), (jid(1), 2)]);
}

#[tokio::test]
async fn accounts_initialise_once() {
    let (_dir, store) = open();
    let a = account(1);
    assert!(!store.is_account_initialized(&a).await.unwrap());
    assert!(store.initialize_account(&a, Timestamp(1)).await.unwrap());
    assert!(!store.initialize_account(&a, Timestamp(2)).await.unwrap());
    assert!(store.is_account_initialized(&a).await.unwrap());
    assert!(!store.is_account_initialized(&account(2)).await.unwrap());
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let a = account(1);
    let s = server(&a, 1);
    let record = IdempotencyRecord {
        account_id: a.clone(),
        token: "t".to_owned(),
        fingerprint: "f".to_owned(),
        outcome: "o".to_owned(),
    };
    let (log, secret) = {
        let store = SqliteStore::open(&path).unwrap();
        store.initialize_account(&a, Timestamp(1)).await.unwrap();
        store
            .commit(WriteBatch {
                writes: vec![
                    server_write(s.clone(), None),
                    job_write(job(&a, 1, 1, ReplicationJobStatus::Running), None),
                ],
                idempotency: Some(record.clone()),
            })
            .await
            .unwrap();
        store
            .commit(batch(vec![server_write(s.clone(), Some(1))]))
            .await
            .unwrap();
        (
            store.events_from(0, 100).await.unwrap(),
            store.secret("paging").await.unwrap(),
        )
    };

    let store = SqliteStore::open(&path).unwrap();
    assert!(store.is_account_initialized(&a).await.unwrap());
    assert_eq!(
        store
            .source_server(&a, &s.id)
            .await
            .unwrap()
            .map(|v| v.version),
        Some(2)
    );
    assert_eq!(
        store
            .replication_job(&a, &jid(1))
            .await
            .unwrap()
            .map(|v| v.version),
        Some(1)
    );
    assert_eq!(
        store.idempotency_record(&a, "t").await.unwrap(),
        Some(record)
    );
    assert_eq!(store.head_revision().await.unwrap(), 3);
    assert_eq!(store.events_from(0, 100).await.unwrap(), log);
    assert_eq!(store.secret("paging").await.unwrap(), secret);
    // The log continues where it stopped.
    let events = store
        .commit(batch(vec![server_write(server(&a, 2), None)]))
        .await
        .unwrap();
    assert_eq!(events[0].revision, 4);
}

#[tokio::test]
async fn commits_survive_a_process_that_never_closed_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let a = account(1);
    let first = SqliteStore::open(&path).unwrap();
    for n in 0..20 {
        first
            .commit(batch(vec![server_write(server(&a, n), None)]))
            .await
            .unwrap();
    }
    // Like `kill -9`: no close, no checkpoint; the commits are only in the WAL.
    std::mem::forget(first);
    assert!(dir.path().join("cutover.db-wal").exists());

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.head_revision().await.unwrap(), 20);
    let all = store
        .list_source_servers(&a, &SourceServerFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secret_is_created_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let store = SqliteStore::open(&path).unwrap();
    let other = SqliteStore::open(&path).unwrap();
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { store.secret("paging").await.unwrap() })
        })
        .collect();
    let mut values = HashSet::new();
    for call in calls {
        values.insert(call.await.unwrap());
    }
    assert_eq!(values.len(), 1);
    let secret = values.into_iter().next().unwrap();
    assert_eq!(secret.len(), 32);
    assert_ne!(store.secret("other").await.unwrap(), secret);
    drop((store, other));

    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.secret("paging").await.unwrap(), secret);
}

#[tokio::test]
async fn undecodable_rows_are_corrupt() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![server_write(server(&a, 1), None)]))
        .await
        .unwrap();
    {
        let raw = rusqlite::Connection::open(store.path()).unwrap();
        raw.execute("UPDATE source_servers SET body = '{\"nope\":1}'", [])
            .unwrap();
        raw.execute("UPDATE events SET body = 'not json'", [])
            .unwrap();
    }
    assert!(matches!(
        store.source_server(&a, &sid(1)).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store
            .list_source_servers(&a, &SourceServerFilter::default(), None, 10)
            .await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.events_from(1, 10).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn migrations_are_recorded_and_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    drop(SqliteStore::open(&path).unwrap());
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<i64> = raw
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, [1]);
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    // A database from a newer build is refused.
    raw.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        [],
    )
    .unwrap();
    drop(raw);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn active_queries_use_their_partial_indexes() {
    let (_dir, store) = open();
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    let plan = |sql: &str| -> String {
        raw.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([10_i64], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("\n")
    };
    let servers = plan(queries::ACTIVE_SOURCE_SERVERS);
    assert!(servers.contains("source_servers_active"), "{servers}");
    let jobs = plan(queries::ACTIVE_REPLICATION_JOBS);
    assert!(jobs.contains("replication_jobs_active"), "{jobs}");
}
