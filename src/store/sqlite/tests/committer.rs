//! Group commit: many batches in one transaction, each with its own
//! outcome. The committer is held on a chore while the batches queue, so
//! they are committed as one group, deterministically.

use std::sync::mpsc;

use super::*;

/// Holds the committer until the returned sender is dropped or sent to,
/// so that everything queued meanwhile is committed as one group.
async fn hold_committer(store: &SqliteStore) -> mpsc::Sender<()> {
    let (release, held) = mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel();
    let committer = store.clone();
    tokio::spawn(async move {
        committer
            .inner
            .committer
            .run(move |_| {
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
    });
    running.await.expect("the chore runs");
    release
}

/// Commits `batches` concurrently while the committer is held, so they
/// form one group; returns each outcome, in the order given.
async fn commit_as_one_group(
    store: &SqliteStore,
    batches: Vec<WriteBatch>,
) -> Vec<Result<u64, StoreError>> {
    let release = hold_committer(store).await;
    let mut calls = Vec::new();
    for batch in batches {
        let committing = store.clone();
        calls.push(tokio::spawn(async move { committing.commit(batch).await }));
        // Each call is queued before the next is made, so the group keeps
        // their order.
        while store.inner.committer.queued() < calls.len() {
            tokio::task::yield_now().await;
        }
    }
    drop(release);
    let mut outcomes = Vec::new();
    for call in calls {
        outcomes.push(call.await.expect("commit task"));
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_batches_commit_together_each_with_its_own_revisions() {
    let (_dir, store) = open();
    let a = account(1);
    let batches = (0..64)
        .map(|n| batch(vec![server_write(server(&a, n), None)]))
        .collect();
    let groups_before = store.inner.committer.groups();
    let outcomes = commit_as_one_group(&store, batches).await;
    let mut revisions: Vec<u64> = outcomes.into_iter().map(|o| o.unwrap()).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=64).collect::<Vec<_>>());
    assert_eq!(
        store.inner.committer.groups() - groups_before,
        1,
        "one transaction"
    );
    let log = store.events_from(1, 100).await.unwrap();
    assert_eq!(log.len(), 64);
    for n in 0..64 {
        assert!(stored_server(&store, &a, &sid(n)).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poisoned_batch_fails_alone_and_leaves_no_gap() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![server_write(server(&a, 1), None)]))
        .await
        .unwrap();
    let outcomes = commit_as_one_group(
        &store,
        vec![
            batch(vec![server_write(server(&a, 2), None)]),
            // A stale version, after a write that would have succeeded:
            // the whole batch rolls back, its first write included.
            batch(vec![
                server_write(server(&a, 3), None),
                server_write(server(&a, 1), Some(9)),
            ]),
            // A resource that exists already.
            batch(vec![server_write(server(&a, 1), None)]),
            batch(vec![server_write(server(&a, 4), None)]),
        ],
    )
    .await;
    assert_eq!(outcomes[0], Ok(2));
    assert!(matches!(outcomes[1], Err(StoreError::Conflict(_))));
    assert!(matches!(outcomes[2], Err(StoreError::Conflict(_))));
    assert_eq!(outcomes[3], Ok(3));
    assert!(stored_server(&store, &a, &sid(3)).is_none());
    assert_eq!(store.read_model().revision(), 3);
    let revisions: Vec<u64> = store
        .events_from(1, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(revisions, [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writes_of_one_resource_in_one_group_let_exactly_one_win() {
    let (_dir, store) = open();
    let a = account(1);
    store
        .commit(batch(vec![server_write(server(&a, 1), None)]))
        .await
        .unwrap();
    let batches = (0..20)
        .map(|n| {
            let mut s = server(&a, 1);
            s.tags.insert("writer".to_owned(), n.to_string());
            batch(vec![server_write(s, Some(1))])
        })
        .collect();
    let outcomes = commit_as_one_group(&store, batches).await;
    let won: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.is_ok().then_some(i))
        .collect();
    assert_eq!(won, [0], "the first in the group wins");
    assert!(outcomes[1..]
        .iter()
        .all(|o| matches!(o, Err(StoreError::Conflict(_)))));
    let stored = stored_server(&store, &a, &sid(1)).unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.value.tags["writer"], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_token_in_two_batches_of_a_group_commits_once() {
    let (_dir, store) = open();
    let a = account(1);
    let record = IdempotencyRecord {
        account_id: a.clone(),
        created: Timestamp(1),
        token: "retry-me".to_owned(),
        fingerprint: "f".to_owned(),
        outcome: Outcome::Done,
    };
    let with_token = |n| WriteBatch {
        writes: vec![server_write(server(&a, n), None)],
        idempotency: Some(record.clone()),
        agent_instance: None,
        fence: None,
    };
    let outcomes = commit_as_one_group(&store, vec![with_token(1), with_token(2)]).await;
    assert_eq!(outcomes[0], Ok(1));
    assert!(matches!(outcomes[1], Err(StoreError::Conflict(_))));
    assert!(stored_server(&store, &a, &sid(2)).is_none());
    assert_eq!(
        store.idempotency_record(&a, "retry-me").await.unwrap(),
        Some(record)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_transaction_fails_its_whole_group_and_the_next_one_succeeds() {
    let (_dir, store) = open();
    let a = account(1);
    // Another connection holds the write lock past the busy timeout.
    let blocker = rusqlite::Connection::open(store.path()).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let outcomes = commit_as_one_group(
        &store,
        (0..3)
            .map(|n| batch(vec![server_write(server(&a, n), None)]))
            .collect(),
    )
    .await;
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Err(StoreError::Unavailable(_)))));
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.read_model().revision(), 0);
    let revision = store
        .commit(batch(vec![server_write(server(&a, 0), None)]))
        .await
        .unwrap();
    assert_eq!(revision, 1, "no revision was used by the failed group");
}
