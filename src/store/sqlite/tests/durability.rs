//! Durability: reopening, crashes, secrets, corrupt rows, migrations.

use super::*;

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
    assert_eq!(versions, [1, 2, 3]);
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
