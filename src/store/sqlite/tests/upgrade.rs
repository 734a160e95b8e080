//! The upgrade of a JSON database written by the previous release
//! (`tests/fixtures/json-store-schema3.db`) to the binary format: every
//! resource, version, event, client token, secret and account survives.

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
