//! What only a store shared by several replicas must do: one log for all,
//! conflicts across replicas, leases and fences. The single-store contract
//! runs in [`crate::store::contract`] on both backends.

use std::{sync::Arc, time::Duration};

use crate::store::conformance::{fresh_postgres_database, open_postgres};
use crate::store::fixtures::*;
use crate::store::{Fence, IdempotencyRecord, LeaseName, Store, StoreError, WriteBatch};

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

/// A fresh database with the schema of the release before client token
/// outcomes moved to the storage codec (schema 1), holding `tokens` as that
/// release wrote them: with `json` as each one's outcome.
async fn database_of_schema_1(
    tokens: &[IdempotencyRecord],
    json: impl Fn(&IdempotencyRecord) -> String,
) -> String {
    let url = fresh_postgres_database().await;
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    super::schema::migrate_through(&mut client, 1)
        .await
        .expect("schema 1");
    for token in tokens {
        client
            .execute(
                "INSERT INTO client_tokens (account_id, token, fingerprint, outcome, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &token.account_id.as_str(),
                    &token.token,
                    &token.fingerprint,
                    &json(token),
                    &token.created.0,
                ],
            )
            .await
            .expect("a JSON token");
    }
    url
}

/// The tokens of the SQLite fixture and their JSON, which the PostgreSQL
/// store of that release wrote alike (one serde form for both).
fn fixture_tokens() -> (Vec<IdempotencyRecord>, Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cutover.db");
    std::fs::copy(JSON_TOKENS_FIXTURE, &path).expect("copy the fixture");
    let tokens = json_tokens(&path);
    let raw = rusqlite::Connection::open(&path).expect("open the fixture");
    let mut stmt = raw
        .prepare("SELECT token, outcome FROM client_tokens")
        .expect("tokens");
    let json = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("tokens")
        .collect::<Result<_, _>>()
        .expect("tokens");
    (tokens, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn json_client_token_outcomes_of_schema_1_keep_their_answers() {
    let (tokens, json) = fixture_tokens();
    let json_of = |t: &IdempotencyRecord| {
        json.iter()
            .find(|(token, _)| *token == t.token)
            .map(|(_, json)| json.clone())
            .expect("its JSON")
    };
    let url = database_of_schema_1(&tokens, json_of).await;
    let store = open_postgres(url.clone()).await;
    for token in &tokens {
        assert_eq!(
            store
                .idempotency_record(&token.account_id, &token.token)
                .await
                .expect("read")
                .as_ref(),
            Some(token),
            "{}",
            token.token
        );
    }
    let reuse = WriteBatch {
        writes: vec![server_write(server(&tokens[0].account_id, 1), None)],
        idempotency: Some(tokens[0].clone()),
        agent_instance: None,
        fence: None,
    };
    assert!(matches!(
        store.commit(reuse).await,
        Err(StoreError::Conflict(_))
    ));
    let newest = tokens.iter().map(|t| t.created).max().expect("tokens");
    let forgotten = store
        .forget_client_tokens(newest, None)
        .await
        .expect("forget");
    assert_eq!(
        forgotten,
        tokens.iter().filter(|t| t.created < newest).count() as u64
    );
    drop(store);

    // Another replica starting later migrates nothing again.
    let store = open_postgres(url).await;
    for token in &tokens {
        let kept = store
            .idempotency_record(&token.account_id, &token.token)
            .await
            .expect("read");
        assert_eq!(kept.is_some(), token.created == newest, "{}", token.token);
        if let Some(kept) = kept {
            assert_eq!(&kept, token);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outcome_that_does_not_decode_stops_the_upgrade_of_schema_1() {
    let (tokens, _) = fixture_tokens();
    let url = database_of_schema_1(&tokens, |t| {
        if t.token == "ack-1" {
            "[{".to_owned()
        } else {
            "null".to_owned()
        }
    })
    .await;
    match crate::store::PostgresStore::open(crate::store::PostgresOptions {
        url: url.clone(),
        poll_interval: Duration::from_millis(50),
    })
    .await
    {
        Err(StoreError::Corrupt(detail)) => assert!(detail.contains("\"ack-1\""), "{detail}"),
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, got a store"),
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let newest: i32 = client
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .await
        .expect("versions")
        .get(0);
    assert_eq!(newest, 1);
    let kept: Vec<String> = client
        .query("SELECT outcome FROM client_tokens ORDER BY token", &[])
        .await
        .expect("the JSON column is still there")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(kept.len(), tokens.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_upgrade_of_schema_1_converts_tokens_past_its_first_page() {
    let url = database_of_schema_1(&[], |_| unreachable!()).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    // Two accounts, so that pages cross from one to the next.
    client
        .batch_execute(
            "INSERT INTO client_tokens (account_id, token, fingerprint, outcome, created_at)
             SELECT a, 't-' || n, 'f', 'null', n
             FROM unnest(ARRAY['000000000001', '000000000002']) AS a,
                  generate_series(1, 1500) AS n",
        )
        .await
        .expect("JSON tokens");
    let store = open_postgres(url).await;
    let mut done = Vec::new();
    crate::store::codec::encode_outcome(&crate::store::Outcome::Done, &mut done);
    let converted: i64 = client
        .query_one(
            "SELECT count(*) FROM client_tokens WHERE outcome = $1",
            &[&done],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(converted, 3000);
    let last = store
        .idempotency_record(&account(2), "t-1500")
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(last.outcome, crate::store::Outcome::Done);
}
