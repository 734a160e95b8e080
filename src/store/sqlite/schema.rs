//! Connection settings and the versioned schema migrations.
//!
//! Migrations are append-only: each has a version, is applied once in its
//! own `BEGIN IMMEDIATE` transaction and recorded in `schema_migrations`.
//! To change the schema, append a new entry to [`MIGRATIONS`]; never edit
//! one that has shipped.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{map_err, upgrade};
use crate::store::StoreError;

/// How long a connection waits for a lock held by another one before
/// giving up with SQLITE_BUSY.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A rewrite of stored data that a schema change needs.
type Conversion = fn(&Connection) -> Result<(), StoreError>;

/// One schema change.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Rewrites the data after `sql`, in the same transaction.
    convert: Option<Conversion>,
}

/// Every schema change, in order.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sql: r"
CREATE TABLE accounts (
    account_id     TEXT    NOT NULL PRIMARY KEY,
    initialized_at INTEGER NOT NULL
);

CREATE TABLE source_servers (
    account_id       TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    life_cycle_state TEXT    NOT NULL,
    replication_type TEXT    NOT NULL,
    is_archived      INTEGER NOT NULL,
    pending_tasks    INTEGER NOT NULL,
    updated_revision INTEGER NOT NULL,
    body             TEXT    NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- active_source_servers: the WHERE clause must stay identical to the query's.
CREATE INDEX source_servers_active ON source_servers (updated_revision)
    WHERE (life_cycle_state NOT IN ('CUTOVER', 'DISCONNECTED') AND is_archived = 0)
       OR pending_tasks > 0;

CREATE TABLE replication_jobs (
    account_id       TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    source_id        TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    business_status  TEXT,
    unfinished       INTEGER NOT NULL,
    updated_revision INTEGER NOT NULL,
    body             TEXT    NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- At most one unfinished job per source server.
CREATE UNIQUE INDEX replication_jobs_one_unfinished ON replication_jobs (account_id, source_id)
    WHERE unfinished = 1;

-- sources_with_running_jobs and the source_ids filter.
CREATE INDEX replication_jobs_by_source ON replication_jobs (account_id, source_id, status);

-- active_replication_jobs: the WHERE clause must stay identical to the query's.
CREATE INDEX replication_jobs_active ON replication_jobs (updated_revision)
    WHERE status IN ('Running', 'Waiting');

CREATE TABLE events (
    revision      INTEGER NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    time          INTEGER NOT NULL,
    body          TEXT    NOT NULL
);

CREATE TABLE client_tokens (
    account_id  TEXT NOT NULL,
    token       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (account_id, token)
);

CREATE TABLE secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
",
        convert: None,
    },
    Migration {
        version: 2,
        name: "event log compaction",
        sql: r"
-- Revisions keep counting after compaction empties the log.
CREATE TABLE event_log (
    id                INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    compacted_through INTEGER NOT NULL
);
INSERT INTO event_log (id, compacted_through) VALUES (1, 0);

-- Age-based retention finds its cut-off by time.
CREATE INDEX events_by_time ON events (time);
",
        convert: None,
    },
    Migration {
        version: 3,
        name: "follow-up task rows",
        sql: r"
-- One row per follow-up task, written with the server that holds it.
CREATE TABLE follow_up_tasks (
    task_id          TEXT    NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL,
    source_server_id TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    deadline         INTEGER NOT NULL,
    completed_at     INTEGER,
    attempts         INTEGER NOT NULL,
    overdue          INTEGER NOT NULL
);
CREATE INDEX follow_up_tasks_pending ON follow_up_tasks (deadline) WHERE state = 'PENDING';
",
        convert: None,
    },
    Migration {
        version: 4,
        name: "binary storage format",
        sql: r"
-- Resources and events as cutover.storage.v1 protobuf (see store::codec).
-- Reads are served by the in-memory read model, so the tables keep only
-- what writes check: the key, the version, and the one-unfinished-job rule.
CREATE TABLE servers (
    account_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

CREATE TABLE jobs (
    account_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    unfinished INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

-- At most one unfinished job per source server.
CREATE UNIQUE INDEX jobs_one_unfinished ON jobs (account_id, source_id) WHERE unfinished = 1;

CREATE TABLE log (
    revision INTEGER NOT NULL PRIMARY KEY,
    time     INTEGER NOT NULL,
    body     BLOB    NOT NULL
);

-- Age-based retention finds its cut-off by time.
CREATE INDEX log_by_time ON log (time);

-- The encoding of the bodies above.
CREATE TABLE storage_format (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO storage_format (id, version) VALUES (1, 1);
",
        convert: Some(upgrade::binary_from_json),
    },
    Migration {
        version: 5,
        name: "agent instances",
        sql: r"
-- The server each agent instance's first report registered: a retried
-- first report finds it instead of registering another.
CREATE TABLE agent_instances (
    account_id  TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    server_id   TEXT NOT NULL,
    PRIMARY KEY (account_id, instance_id)
) WITHOUT ROWID;
",
        convert: None,
    },
    Migration {
        version: 6,
        name: "client token retention",
        sql: r"
-- Tokens are forgotten after a retention; those of earlier releases
-- start theirs now.
ALTER TABLE client_tokens ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE client_tokens SET created_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
CREATE INDEX client_tokens_by_age ON client_tokens (created_at);
",
        convert: None,
    },
    Migration {
        version: 7,
        name: "client token outcomes in the storage format",
        sql: r"
-- Outcomes as cutover.storage.v1 StoredOutcome (see store::codec) instead
-- of JSON. The JSON table is set aside for the conversion, which drops it.
ALTER TABLE client_tokens RENAME TO client_tokens_json;
DROP INDEX client_tokens_by_age;
CREATE TABLE client_tokens (
    account_id  TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    outcome     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, token)
);
CREATE INDEX client_tokens_by_age ON client_tokens (created_at);
",
        convert: Some(upgrade::outcomes_from_json),
    },
];

/// Opens a connection to `path` with the store's settings: WAL journal,
/// `synchronous=FULL` (a commit is fsynced before it returns) and a busy
/// timeout.
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(map_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "{}: cannot switch to WAL journal mode (got {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(map_err)?;
    // Each batch of a group commit runs in a savepoint: keep their
    // journals in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(map_err)?;
    Ok(conn)
}

/// Applies the migrations `conn`'s database has not seen yet, each in its
/// own IMMEDIATE transaction (so concurrent openers apply each once).
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER NOT NULL PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )
    .map_err(map_err)?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    // A database from a newer build is refused before anything is written.
    let newest: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(map_err)?;
    if newest > known {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {newest}, newer than this build knows ({known}); \
             it was written by a newer release"
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > newest) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_err)?;
        let applied: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |row| row.get(0),
            )
            .optional()
            .map_err(map_err)?;
        if applied.is_none() {
            tx.execute_batch(migration.sql).map_err(|err| {
                StoreError::Unavailable(format!(
                    "schema migration {} ({}) failed: {err}",
                    migration.version, migration.name
                ))
            })?;
            if let Some(convert) = migration.convert {
                convert(&tx)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![migration.version, migration.name, now_millis()],
            )
            .map_err(map_err)?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "applied schema migration"
            );
        }
        tx.commit().map_err(map_err)?;
    }
    Ok(())
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
