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
        created: Timestamp(1),
        token: "t".to_owned(),
        fingerprint: "f".to_owned(),
        outcome: Outcome::Done,
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
                agent_instance: None,
                fence: None,
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
    assert_eq!(stored_server(&store, &a, &s.id).map(|v| v.version), Some(2));
    assert_eq!(stored_job(&store, &a, &jid(1)).map(|v| v.version), Some(1));
    assert_eq!(
        store.idempotency_record(&a, "t").await.unwrap(),
        Some(record)
    );
    assert_eq!(store.read_model().revision(), 3);
    assert_eq!(store.events_from(0, 100).await.unwrap(), log);
    assert_eq!(store.secret("paging").await.unwrap(), secret);
    // The log continues where it stopped.
    let revision = store
        .commit(batch(vec![server_write(server(&a, 2), None)]))
        .await
        .unwrap();
    assert_eq!(revision, 4);
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
    // What `kill -9` leaves on disk: the files as they are while the
    // store runs, never closed or checkpointed, the commits only in the
    // WAL. (The running store keeps its lock, so the copy is opened.)
    let crashed = tempfile::tempdir().unwrap();
    for file in ["cutover.db", "cutover.db-wal"] {
        std::fs::copy(dir.path().join(file), crashed.path().join(file)).unwrap();
    }
    let store = SqliteStore::open(&crashed.path().join("cutover.db")).unwrap();
    assert_eq!(store.read_model().revision(), 20);
    let all = store
        .read_model()
        .list_source_servers(&a, &SourceServerFilter::default(), None, 100);
    assert_eq!(all.items.len(), 20);
    assert_eq!(all.revision, 20);
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secret_is_created_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let store = SqliteStore::open(&path).unwrap();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
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
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.secret("paging").await.unwrap(), secret);
}

#[tokio::test]
async fn a_second_process_cannot_open_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let store = SqliteStore::open(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Unavailable(why) if why.contains("in use")),
        "{err}"
    );
    drop(store);
    SqliteStore::open(&path).expect("the lock goes with the store");
}

#[tokio::test]
async fn undecodable_rows_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    let a = account(1);
    let store = SqliteStore::open(&path).unwrap();
    store
        .commit(batch(vec![server_write(server(&a, 1), None)]))
        .await
        .unwrap();
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute("UPDATE log SET body = X'0aff'", []).unwrap();
    }
    assert!(matches!(
        store.events_from(1, 10).await,
        Err(StoreError::Corrupt(_))
    ));
    drop(store);
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute("UPDATE servers SET body = X'0aff'", [])
            .unwrap();
    }
    // Reads come from the read model, loaded at start: a corrupt row
    // stops the start with a clear error rather than serve without it.
    assert!(matches!(
        SqliteStore::open(&path),
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
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_stays_bounded_under_continuous_writes() {
    let (_dir, store) = open();
    let a = account(1);
    // Enough random-key writes to fill the WAL many times over if it never
    // started over: each dirties a page of its own.
    let writers: Vec<_> = (0..32u64)
        .map(|w| {
            let store = store.clone();
            let a = a.clone();
            tokio::spawn(async move {
                for i in 0..400 {
                    let n = (i * 32 + w) * 7_919 % 1_000_003;
                    store
                        .commit(batch(vec![server_write(server(&a, n), None)]))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let wal = std::fs::metadata(store.path().with_extension("db-wal"))
        .unwrap()
        .len();
    assert!(
        wal < 40 << 20,
        "the WAL is {} MiB after 12,800 writes",
        wal >> 20
    );
}
