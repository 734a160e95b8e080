//! Reads from the read model the store keeps: listings, filters,
//! pagination, running jobs and the active-resource queries.

use super::*;

async fn list_source_servers_filters_and_pages(store: Arc<dyn Store>) {
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

    let ids = |servers: Vec<ServerEntry>| {
        servers
            .into_iter()
            .map(|s| s.server.value.id.clone())
            .collect::<Vec<_>>()
    };
    let all = SourceServerFilter::default();
    assert_eq!(
        ids(store
            .read_model()
            .list_source_servers(&a, &all, None, 100)
            .items),
        (0..10).map(sid).collect::<Vec<_>>()
    );

    // Pages of 4 by `after`.
    let first = ids(store
        .read_model()
        .list_source_servers(&a, &all, None, 4)
        .items);
    assert_eq!(first, (0..4).map(sid).collect::<Vec<_>>());
    let second = ids(store
        .read_model()
        .list_source_servers(&a, &all, first.last(), 4)
        .items);
    assert_eq!(second, (4..8).map(sid).collect::<Vec<_>>());
    let third = ids(store
        .read_model()
        .list_source_servers(&a, &all, second.last(), 4)
        .items);
    assert_eq!(third, [sid(8), sid(9)]);

    let archived = SourceServerFilter {
        is_archived: Some(true),
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .read_model()
            .list_source_servers(&a, &archived, None, 100)
            .items),
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
            .read_model()
            .list_source_servers(&a, &filter, None, 100)
            .items),
        [sid(7)]
    );
    let cut_over = SourceServerFilter {
        life_cycle_states: vec![LifeCycleState::Cutover],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .read_model()
            .list_source_servers(&a, &cut_over, Some(&sid(0)), 2)
            .items),
        [sid(3), sid(6)]
    );
    assert_eq!(
        ids(store
            .read_model()
            .list_source_servers(&account(2), &all, None, 100)
            .items),
        [sid(100)]
    );
    assert!(store
        .read_model()
        .list_source_servers(&account(3), &all, None, 100)
        .items
        .is_empty());
}

async fn list_replication_jobs_filters_and_pages(store: Arc<dyn Store>) {
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

    let ids = |jobs: Vec<Entry<ReplicationJob>>| {
        jobs.into_iter()
            .map(|j| j.value.id.clone())
            .collect::<Vec<_>>()
    };
    let all = ReplicationJobFilter::default();
    let first = ids(store
        .read_model()
        .list_replication_jobs(&a, &all, None, 5)
        .items);
    assert_eq!(first, (0..5).map(jid).collect::<Vec<_>>());
    let rest = ids(store
        .read_model()
        .list_replication_jobs(&a, &all, first.last(), 5)
        .items);
    assert_eq!(rest, (5..8).map(jid).collect::<Vec<_>>());

    let running = ReplicationJobFilter {
        statuses: vec![ReplicationJobStatus::Running],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .read_model()
            .list_replication_jobs(&a, &running, None, 100)
            .items),
        [jid(0), jid(4)]
    );
    let syncing = ReplicationJobFilter {
        business_statuses: vec![BusinessStatus::Syncing],
        ..Default::default()
    };
    assert_eq!(
        ids(store
            .read_model()
            .list_replication_jobs(&a, &syncing, None, 100)
            .items),
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
            .read_model()
            .list_replication_jobs(&a, &by_source, None, 100)
            .items),
        [jid(1), jid(3), jid(5)]
    );
    assert_eq!(
        ids(store
            .read_model()
            .list_replication_jobs(&account(2), &all, None, 100)
            .items),
        [jid(50)]
    );
}

async fn running_jobs_make_their_source_in_use(store: Arc<dyn Store>) {
    let a = account(1);
    for n in [1, 2, 3, 4] {
        store
            .commit(batch(vec![server_write(server(&a, n), None)]))
            .await
            .unwrap();
    }
    store
        .commit(batch(vec![
            job_write(job(&a, 1, 1, ReplicationJobStatus::Running), None),
            job_write(job(&a, 2, 2, ReplicationJobStatus::Waiting), None),
            job_write(job(&account(2), 4, 4, ReplicationJobStatus::Running), None),
        ]))
        .await
        .unwrap();
    let model = store.read_model();
    let running = |n| model.source_server(&a, &sid(n)).map(|e| e.has_running_job);
    assert_eq!(running(1), Some(true));
    assert_eq!(running(2), Some(false));
    assert_eq!(running(4), Some(false), "a job of another account");
    assert_eq!(running(9), None);
    assert_eq!(
        model
            .unfinished_job(&a, &sid(2))
            .map(|j| j.value.id.clone()),
        Some(jid(2))
    );
    // The job stops: its source is no longer in use.
    store
        .commit(batch(vec![job_write(
            job(&a, 1, 1, ReplicationJobStatus::Stopped),
            Some(1),
        )]))
        .await
        .unwrap();
    assert_eq!(running(1), Some(false));
    let snapshot = model.snapshot(&a);
    assert!(!snapshot.source_server(&sid(1)).unwrap().has_running_job);
}

async fn active_resources_come_oldest_change_first(store: Arc<dyn Store>) {
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

    let active = store.read_model().active_source_servers(100);
    let ids: Vec<_> = active
        .iter()
        .map(|v| (v.value.id.clone(), v.version))
        .collect();
    assert_eq!(ids, [(sid(3), 1), (sid(5), 1), (sid(6), 2)]);
    assert_eq!(store.read_model().active_source_servers(1).len(), 1);

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
        .read_model()
        .active_replication_jobs(100)
        .into_iter()
        .map(|v| (v.value.id.clone(), v.version))
        .collect();
    assert_eq!(jobs, [(jid(3), 1), (jid(1), 2)]);
}

async fn accounts_initialise_once(store: Arc<dyn Store>) {
    let a = account(1);
    assert!(!store.is_account_initialized(&a).await.unwrap());
    assert!(store.initialize_account(&a, Timestamp(1)).await.unwrap());
    assert!(!store.initialize_account(&a, Timestamp(2)).await.unwrap());
    assert!(store.is_account_initialized(&a).await.unwrap());
    assert!(!store.is_account_initialized(&account(2)).await.unwrap());
}

conformance_tests!(
    list_source_servers_filters_and_pages,
    list_replication_jobs_filters_and_pages,
    running_jobs_make_their_source_in_use,
    active_resources_come_oldest_change_first,
    accounts_initialise_once,
);
