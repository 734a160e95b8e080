//! Commits: versions, atomicity, revisions, uniqueness, client tokens.

use super::*;

async fn insert_reads_back_at_version_1(store: Arc<dyn Store>) {
    let a = account(1);
    let s = server(&a, 1);
    let revision = store
        .commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .unwrap();
    assert_eq!(revision, 1);
    let events = store.events_from(1, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].revision, 1);
    assert_eq!(events[0].resource, Resource::SourceServer(s.clone()));

    let got = stored_server(&*store, &a, &s.id).expect("stored");
    assert_eq!(got.version, 1);
    assert_eq!(got.value, s);
    assert_eq!(store.read_model().revision(), 1);
    // Other accounts do not see it.
    assert_eq!(stored_server(&*store, &account(2), &s.id), None);
    assert_eq!(stored_server(&*store, &a, &sid(2)), None);
}

async fn update_at_current_version_gives_version_2(store: Arc<dyn Store>) {
    let a = account(1);
    let mut s = server(&a, 1);
    store
        .commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .unwrap();
    s.life_cycle.state = LifeCycleState::NotReady;
    let revision = store
        .commit(batch(vec![server_write(s.clone(), Some(1))]))
        .await
        .unwrap();
    assert_eq!(revision, 2);

    let got = stored_server(&*store, &a, &s.id).expect("stored");
    assert_eq!(got.version, 2);
    assert_eq!(got.value.life_cycle.state, LifeCycleState::NotReady);
}

async fn stale_version_conflicts_and_writes_nothing(store: Arc<dyn Store>) {
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

    assert_eq!(store.read_model().revision(), 2);
    let got = stored_server(&*store, &a, &s.id).expect("stored");
    assert_eq!(got.version, 2);
    assert!(!got.value.is_archived);
    assert_eq!(stored_server(&*store, &a, &sid(9)), None);
}

async fn a_conflict_rolls_back_the_whole_batch(store: Arc<dyn Store>) {
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
    assert_eq!(stored_server(&*store, &a, &sid(2)), None);
    assert_eq!(store.read_model().revision(), 1);

    // The next commit gets the next revision: no gap was left.
    let revision = store
        .commit(batch(vec![server_write(server(&a, 2), None)]))
        .await
        .unwrap();
    assert_eq!(revision, 2);
}

async fn one_batch_gets_consecutive_revisions(store: Arc<dyn Store>) {
    let a = account(1);
    let revision = store
        .commit(batch(vec![
            server_write(server(&a, 1), None),
            job_write(job(&a, 1, 1, ReplicationJobStatus::Ready), None),
            server_write(server(&a, 1), Some(1)),
        ]))
        .await
        .unwrap();
    assert_eq!(revision, 3);
    let events = store.events_from(1, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.revision).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        stored_server(&*store, &a, &sid(1)).map(|v| v.version),
        Some(2)
    );
}

async fn concurrent_commits_are_gap_free_and_published_in_order(store: Arc<dyn Store>) {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 25;
    const TOTAL: u64 = TASKS * PER_TASK;
    let mut receiver = store.read_model().subscribe();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let a = account(t % 3 + 1);
                for i in 0..PER_TASK {
                    let n = t * 1000 + i;
                    let revision = store
                        .commit(batch(vec![server_write(server(&a, n), None)]))
                        .await
                        .unwrap();
                    // Read-your-writes: the read model shows it already.
                    assert!(store.read_model().revision() >= revision);
                    assert!(stored_server(&*store, &a, &sid(n)).is_some());
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
    assert_eq!(store.read_model().revision(), TOTAL);
    let ids: HashSet<&str> = log.iter().map(|e| e.resource.id()).collect();
    assert_eq!(ids.len() as u64, TOTAL);

    for expected in 1..=TOTAL {
        let event = receiver.recv().await.unwrap();
        assert_eq!(event.revision, expected);
        assert_eq!(**event, log[(expected - 1) as usize]);
    }
    assert!(receiver.try_recv().is_err());
}

async fn events_from_pages_the_log(store: Arc<dyn Store>) {
    assert_eq!(store.read_model().revision(), 0);
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

async fn one_unfinished_job_per_source(store: Arc<dyn Store>) {
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
    assert_eq!(stored_job(&*store, &a, &jid(2)), None);
    assert_eq!(store.read_model().revision(), 1);

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
    let got = stored_job(&*store, &a, &jid(2)).expect("stored");
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

async fn idempotency_record_round_trip_and_reused_token_conflicts(store: Arc<dyn Store>) {
    let a = account(1);
    let record = IdempotencyRecord {
        account_id: a.clone(),
        created: Timestamp(1),
        token: "token-1".to_owned(),
        fingerprint: "abc".to_owned(),
        outcome: Outcome::SourceServer(Box::new(server(&a, 1))),
    };
    assert_eq!(store.idempotency_record(&a, "token-1").await.unwrap(), None);
    store
        .commit(WriteBatch {
            writes: vec![server_write(server(&a, 1), None)],
            idempotency: Some(record.clone()),
            agent_instance: None,
            fence: None,
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
            agent_instance: None,
            fence: None,
        })
        .await;
    assert!(is_conflict(again));
    assert_eq!(stored_server(&*store, &a, &sid(2)), None);
    assert_eq!(store.read_model().revision(), 1);

    // Tokens are per account.
    let other = IdempotencyRecord {
        account_id: account(2),
        created: Timestamp(1),
        ..record
    };
    store
        .commit(WriteBatch {
            writes: Vec::new(),
            idempotency: Some(other.clone()),
            agent_instance: None,
            fence: None,
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

async fn client_tokens_are_forgotten_after_their_retention(store: Arc<dyn Store>) {
    let a = account(1);
    for (n, created) in [(1, 100), (2, 200), (3, 300)] {
        store
            .commit(WriteBatch {
                writes: vec![server_write(server(&a, n), None)],
                idempotency: Some(IdempotencyRecord {
                    account_id: a.clone(),
                    created: Timestamp(created),
                    token: format!("token-{n}"),
                    fingerprint: "f".to_owned(),
                    outcome: Outcome::Done,
                }),
                agent_instance: None,
                fence: None,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .forget_client_tokens(Timestamp(250), None)
            .await
            .unwrap(),
        2
    );
    for (n, kept) in [(1, false), (2, false), (3, true)] {
        let record = store
            .idempotency_record(&a, &format!("token-{n}"))
            .await
            .unwrap();
        assert_eq!(record.is_some(), kept, "token-{n}");
    }
    // A forgotten token can be used again.
    store
        .commit(WriteBatch {
            writes: vec![server_write(server(&a, 4), None)],
            idempotency: Some(IdempotencyRecord {
                account_id: a.clone(),
                created: Timestamp(400),
                token: "token-1".to_owned(),
                fingerprint: "f".to_owned(),
                outcome: Outcome::Done,
            }),
            agent_instance: None,
            fence: None,
        })
        .await
        .unwrap();
}

conformance_tests!(
    concurrent_commits_are_gap_free_and_published_in_order,
    insert_reads_back_at_version_1,
    update_at_current_version_gives_version_2,
    stale_version_conflicts_and_writes_nothing,
    a_conflict_rolls_back_the_whole_batch,
    one_batch_gets_consecutive_revisions,
    events_from_pages_the_log,
    one_unfinished_job_per_source,
    idempotency_record_round_trip_and_reused_token_conflicts,
    client_tokens_are_forgotten_after_their_retention,
);
