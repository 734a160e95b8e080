//! What only a store shared by several replicas must do: one log for all,
//! conflicts across replicas, leases and fences. The single-store contract
//! runs in [`crate::store::contract`] on both backends.

use std::{sync::Arc, time::Duration};

use crate::store::conformance::{fresh_postgres_database, open_postgres};
use crate::store::fixtures::*;
use crate::store::{Fence, LeaseName, Store, StoreError};

/// Two replicas' stores on one fresh database.
async fn two_replicas() -> (Arc<dyn Store>, Arc<dyn Store>) {
    let url = fresh_postgres_database().await;
    let a = open_postgres(url.clone()).await;
    let b = open_postgres(url).await;
    (Arc::new(a), Arc::new(b))
}

/// Waits, with a deadline, until `store`'s read model reached `revision`.
async fn applied(store: &dyn Store, revision: u64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while store.read_model().revision() < revision {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the read model catches up with the shared log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_gap_free_log_and_see_each_others_writes() {
    let (a, b) = two_replicas().await;
    let mut tasks = Vec::new();
    for (n, store) in [&a, &b, &a, &b].into_iter().enumerate() {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            let acct = account(1);
            for i in 0..25 {
                let id = n as u64 * 100 + i;
                store
                    .commit(batch(vec![server_write(server(&acct, id), None)]))
                    .await
                    .expect("commit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    applied(&*a, 100).await;
    applied(&*b, 100).await;
    let (log_a, log_b) = (
        a.events_from(1, 1000).await.expect("log"),
        b.events_from(1, 1000).await.expect("log"),
    );
    assert_eq!(
        log_a.iter().map(|e| e.revision).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    assert_eq!(log_a, log_b);
    for n in [0, 100, 200, 300] {
        for store in [&a, &b] {
            assert!(
                store
                    .read_model()
                    .source_server(&account(1), &sid(n + 24))
                    .is_some(),
                "every replica's read model holds every replica's writes"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflict_returns_once_the_loser_reads_the_winning_write() {
    let (a, b) = two_replicas().await;
    let acct = account(1);
    let s = server(&acct, 1);
    a.commit(batch(vec![server_write(s.clone(), None)]))
        .await
        .expect("create");
    applied(&*b, 1).await;
    b.commit(batch(vec![server_write(s.clone(), Some(1))]))
        .await
        .expect("B updates");
    let lost = a
        .commit(batch(vec![server_write(s.clone(), Some(1))]))
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    let seen = a
        .read_model()
        .source_server(&acct, &s.id)
        .expect("stored")
        .server
        .version;
    assert_eq!(seen, 2, "A decides again on the version it lost to");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_creation_on_two_replicas_succeeds_once() {
    let (a, b) = two_replicas().await;
    let acct = account(1);
    for round in 0..10 {
        let s = server(&acct, round);
        let (first, second) = tokio::join!(
            a.commit(batch(vec![server_write(s.clone(), None)])),
            b.commit(batch(vec![server_write(s.clone(), None)])),
        );
        let outcomes = [first, second];
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(_) | Err(StoreError::Conflict(_)))),
            "the loser is told of a conflict, not an outage: {outcomes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_moves_after_expiry_and_the_old_fence_is_refused() {
    let (a, b) = two_replicas().await;
    let ttl = Duration::from_millis(300);
    let lease = LeaseName::Scheduler;
    let first = a
        .hold_lease(lease, "a", None, ttl)
        .await
        .expect("claim")
        .expect("a free lease is taken");
    assert_eq!(
        b.hold_lease(lease, "b", None, ttl).await.expect("claim"),
        None,
        "a held lease is not taken"
    );
    assert_eq!(
        a.hold_lease(lease, "a", Some(first), ttl)
            .await
            .expect("renew"),
        Some(first),
        "renewal keeps the fence"
    );
    let second = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(fence) = b.hold_lease(lease, "b", None, ttl).await.expect("claim") {
                return fence;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("b takes the lease once it expires");
    assert!(second > first, "a new claim, a new fence");
    assert_eq!(
        a.hold_lease(lease, "a", Some(first), ttl)
            .await
            .expect("renew"),
        None,
        "the old holder learns it lost the lease"
    );

    let acct = account(1);
    let mut stale = batch(vec![server_write(server(&acct, 1), None)]);
    stale.fence = Some(Fence {
        lease,
        token: first,
    });
    let refused = a.commit(stale).await;
    assert!(matches!(refused, Err(StoreError::Fenced(_))), "{refused:?}");
    assert!(a.read_model().source_server(&acct, &sid(1)).is_none());

    let mut current = batch(vec![server_write(server(&acct, 1), None)]);
    current.fence = Some(Fence {
        lease,
        token: second,
    });
    b.commit(current).await.expect("the holder's step commits");

    // Compaction and token expiry are fenced the same way.
    let compaction = a
        .compact_events(
            0,
            None,
            Some(Fence {
                lease,
                token: first,
            }),
        )
        .await;
    assert!(
        matches!(compaction, Err(StoreError::Fenced(_))),
        "{compaction:?}"
    );
    assert_eq!(a.oldest_revision().await.expect("oldest"), 1);
}
