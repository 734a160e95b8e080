//! The upgrades of JSON databases written by earlier releases to the
//! binary format: of resources and events (`tests/fixtures/json-store-schema3.db`),
//! where every resource, version, event, client token, secret and account
//! survives; and of client token outcomes (`json-tokens-schema6.db`), where
//! every token keeps its answer, fingerprint and age.

use std::path::Path;

use rusqlite::Connection;

use super::*;
use crate::domain::LifecycleEvent;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/json-store-schema3.db"
);

/// What the old release stored, decoded with the serde form it wrote.
struct Stored {
    servers: Vec<(AccountId, Versioned<SourceServer>)>,
    jobs: Vec<(AccountId, Versioned<ReplicationJob>)>,
    events: Vec<LifecycleEvent>,
    tokens: Vec<IdempotencyRecord>,
    secret: Vec<u8>,
}

fn rows<T>(db: &Connection, sql: &str, row: impl Fn(&rusqlite::Row<'_>) -> T) -> Vec<T> {
    let mut stmt = db.prepare(sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        out.push(row(r));
    }
    out
}

fn json<T: serde::de::DeserializeOwned>(row: &rusqlite::Row<'_>, column: usize) -> T {
    serde_json::from_str(&row.get::<_, String>(column).unwrap()).unwrap()
}

fn versioned<T>(row: &rusqlite::Row<'_>, value: T) -> Versioned<T> {
    Versioned {
        value,
        version: row.get::<_, i64>(0).unwrap() as u64,
        revision: row.get::<_, i64>(1).unwrap() as u64,
    }
}

fn read_old(path: &Path) -> Stored {
    let db = Connection::open(path).unwrap();
    let servers = rows(
        &db,
        "SELECT version, updated_revision, body FROM source_servers ORDER BY id",
        |row| {
            let server: SourceServer = json(row, 2);
            (server.account_id.clone(), versioned(row, server))
        },
    );
    let jobs = rows(
        &db,
        "SELECT version, updated_revision, body FROM replication_jobs ORDER BY id",
        |row| {
            let job: ReplicationJob = json(row, 2);
            (job.account_id.clone(), versioned(row, job))
        },
    );
    let events = rows(
        &db,
        "SELECT revision, body FROM events ORDER BY revision",
        |row| {
            let mut event: LifecycleEvent = json(row, 1);
            event.revision = row.get::<_, i64>(0).unwrap() as u64;
            event
        },
    );
    let tokens = rows(
        &db,
        "SELECT account_id, token, fingerprint, outcome FROM client_tokens ORDER BY token",
        |row| {
            let token: String = row.get(1).unwrap();
            // That release answered CutOverReplicationJob with the job and
            // the fixture's other tokenised calls with a server.
            let outcome = match token.as_str() {
                "cut-over-1" => Outcome::ReplicationJob(json(row, 3)),
                _ => Outcome::SourceServer(json(row, 3)),
            };
            IdempotencyRecord {
                account_id: AccountId::parse("a", &row.get::<_, String>(0).unwrap()).unwrap(),
                token,
                fingerprint: row.get(2).unwrap(),
                outcome,
                // That release did not record when: the upgrade starts the
                // retention of its tokens then.
                created: Timestamp(0),
            }
        },
    );
    let secret = db
        .query_row(
            "SELECT value FROM secrets WHERE name = 'page-token-key'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    Stored {
        servers,
        jobs,
        events,
        tokens,
        secret,
    }
}

#[tokio::test]
async fn a_json_database_of_the_previous_release_opens_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    let old = read_old(&path);
    assert_eq!(old.servers.len(), 4);
    assert_eq!(old.jobs.len(), 2);
    assert_eq!(old.tokens.len(), 3);
    let head = old.events.last().unwrap().revision;

    let store = SqliteStore::open(&path).unwrap();
    let model = store.read_model();
    assert_eq!(model.revision(), head);
    for (account, server) in &old.servers {
        assert_eq!(
            stored_server(&store, account, &server.value.id).as_ref(),
            Some(server)
        );
    }
    for (account, job) in &old.jobs {
        assert_eq!(
            stored_job(&store, account, &job.value.id).as_ref(),
            Some(job)
        );
    }
    assert_eq!(store.events_from(1, 10_000).await.unwrap(), old.events);
    for token in &old.tokens {
        let kept = store
            .idempotency_record(&token.account_id, &token.token)
            .await
            .unwrap()
            .expect("kept");
        assert!(kept.created.0 > 1_700_000_000_000, "{:?}", kept.created);
        assert_eq!(
            IdempotencyRecord {
                created: Timestamp(0),
                ..kept
            },
            *token
        );
    }
    assert_eq!(store.secret("page-token-key").await.unwrap(), old.secret);
    let account = &old.servers[0].0;
    assert!(store.is_account_initialized(account).await.unwrap());

    // The JSON tables are gone; the log goes on from where it was.
    {
        let raw = Connection::open(&path).unwrap();
        let tables: Vec<String> = rows(
            &raw,
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            |row| row.get(0).unwrap(),
        );
        for gone in [
            "events",
            "follow_up_tasks",
            "replication_jobs",
            "source_servers",
        ] {
            assert!(!tables.iter().any(|t| t == gone), "{gone} in {tables:?}");
        }
    }
    let revision = store
        .commit(batch(vec![server_write(server(account, 1), None)]))
        .await
        .unwrap();
    assert_eq!(revision, head + 1);
    drop(store);

    // Reopening upgrades nothing again.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.read_model().revision(), head + 1);
    assert_eq!(
        store.events_from(1, 10_000).await.unwrap().len(),
        old.events.len() + 1
    );
}

/// A copy of the schema-6 fixture in a directory of its own.
fn json_tokens_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cutover.db");
    std::fs::copy(JSON_TOKENS_FIXTURE, &path).unwrap();
    (dir, path)
}

#[tokio::test]
async fn json_client_token_outcomes_of_the_previous_release_keep_their_answers() {
    let (_dir, path) = json_tokens_copy();
    let old = json_tokens(&path);
    assert_eq!(old.len(), 5);

    let store = SqliteStore::open(&path).unwrap();
    for token in &old {
        assert_eq!(
            store
                .idempotency_record(&token.account_id, &token.token)
                .await
                .unwrap()
                .as_ref(),
            Some(token),
            "{}",
            token.token
        );
    }
    {
        let raw = Connection::open(&path).unwrap();
        let tables: Vec<String> = rows(
            &raw,
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            |row| row.get(0).unwrap(),
        );
        assert!(
            !tables.iter().any(|t| t == "client_tokens_json"),
            "{tables:?}"
        );
        let kinds: Vec<String> = rows(
            &raw,
            "SELECT DISTINCT typeof(outcome) FROM client_tokens",
            |row| row.get(0).unwrap(),
        );
        assert_eq!(kinds, ["blob"]);
    }

    // A kept token is still used: a batch reusing it conflicts.
    let a = &old[0].account_id;
    let reuse = WriteBatch {
        writes: vec![server_write(server(a, 1), None)],
        idempotency: Some(old[0].clone()),
        agent_instance: None,
        fence: None,
    };
    assert!(matches!(
        store.commit(reuse).await,
        Err(StoreError::Conflict(_))
    ));

    // Retention forgets them by the age the old release recorded.
    let newest = old.iter().map(|t| t.created).max().unwrap();
    let forgotten = store.forget_client_tokens(newest, None).await.unwrap();
    assert_eq!(
        forgotten,
        old.iter().filter(|t| t.created < newest).count() as u64
    );
    assert!(forgotten > 0);
    drop(store);

    // Reopening upgrades nothing again; what retention kept is as it was.
    let store = SqliteStore::open(&path).unwrap();
    for token in &old {
        let kept = store
            .idempotency_record(&token.account_id, &token.token)
            .await
            .unwrap();
        assert_eq!(kept.is_some(), token.created == newest, "{}", token.token);
        if let Some(kept) = kept {
            assert_eq!(&kept, token);
        }
    }
}

#[tokio::test]
async fn an_outcome_that_does_not_decode_stops_the_upgrade_and_leaves_the_database_as_it_was() {
    let (_dir, path) = json_tokens_copy();
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute(
            "UPDATE client_tokens SET outcome = '{\"id\":' WHERE token = 'ack-1'",
            [],
        )
        .unwrap();
    }
    match SqliteStore::open(&path) {
        Err(StoreError::Corrupt(detail)) => assert!(detail.contains("\"ack-1\""), "{detail}"),
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, got a store"),
    }
    let raw = Connection::open(&path).unwrap();
    let newest: i64 = raw
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(newest, 6);
    let kinds: Vec<String> = rows(
        &raw,
        "SELECT DISTINCT typeof(outcome) FROM client_tokens",
        |row| row.get(0).unwrap(),
    );
    assert_eq!(kinds, ["text"]);
}
