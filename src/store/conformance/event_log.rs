//! The oldest retained revision and compaction.

use super::*;

/// Commits `n` new servers of `acct`, numbered from `first`, one per batch.
async fn commit_servers(store: &dyn Store, acct: &AccountId, first: u64, n: u64) {
    for i in first..first + n {
        store
            .commit(batch(vec![server_write(server(acct, i), None)]))
            .await
            .expect("commit");
    }
}

async fn compaction_keeps_the_newest_and_revisions_keep_counting(store: Arc<dyn Store>) {
    let acct = account(1);
    commit_servers(&*store, &acct, 0, 10).await;
    assert_eq!(store.oldest_revision().await.unwrap(), 1);
    assert_eq!(store.compact_events(4, None, None).await.unwrap(), 6);
    assert_eq!(store.oldest_revision().await.unwrap(), 7);
    let kept: Vec<u64> = store
        .events_from(1, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(kept, [7, 8, 9, 10]);

    // Even an emptied log does not restart the count.
    assert_eq!(store.compact_events(0, None, None).await.unwrap(), 4);
    assert_eq!(store.read_model().revision(), 10);
    assert_eq!(store.oldest_revision().await.unwrap(), 11);
    commit_servers(&*store, &acct, 10, 1).await;
    assert_eq!(store.events_from(1, 100).await.unwrap()[0].revision, 11);
}

async fn compaction_by_age_removes_only_older_events(store: Arc<dyn Store>) {
    let acct = account(1);
    commit_servers(&*store, &acct, 0, 3).await;
    // Every test event is stamped at time 1.
    assert_eq!(
        store
            .compact_events(1_000, Some(Timestamp(1)), None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .compact_events(1_000, Some(Timestamp(2)), None)
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.oldest_revision().await.unwrap(), 4);
}

conformance_tests!(
    compaction_keeps_the_newest_and_revisions_keep_counting,
    compaction_by_age_removes_only_older_events,
);
