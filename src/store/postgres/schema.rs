//! The PostgreSQL schema and its versioned migrations.
//!
//! Append-only like SQLite's: each migration has a version, runs once in
//! its own transaction and is recorded in `schema_migrations`. Replicas
//! starting together take a session advisory lock around the whole run,
//! so each migration is applied by exactly one of them.

use futures_util::future::BoxFuture;
use tokio_postgres::{Client, Transaction};

use super::{map_err, upgrade};
use crate::store::{codec, StoreError};

/// The advisory lock key migrations hold ("cutover" in ASCII).
const MIGRATION_LOCK: i64 = 0x0063_7574_6f76_6572;

/// A rewrite of stored data that a schema change needs.
type Conversion = for<'t> fn(&'t Transaction<'_>) -> BoxFuture<'t, Result<(), StoreError>>;

struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
    /// Rewrites the data after `sql`, in the same transaction.
    convert: Option<Conversion>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sql: r"
CREATE TABLE accounts (
    account_id     TEXT   NOT NULL PRIMARY KEY,
    initialized_at BIGINT NOT NULL
);

-- Resources as cutover.storage.v1 protobuf (see store::codec). Reads are
-- served by each replica's read model, so the tables keep only what
-- writes check: the key, the version, and the one-unfinished-job rule.
CREATE TABLE servers (
    account_id TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    revision   BIGINT NOT NULL,
    body       BYTEA  NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE jobs (
    account_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    unfinished BOOLEAN NOT NULL,
    version    BIGINT  NOT NULL,
    revision   BIGINT  NOT NULL,
    body       BYTEA   NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- At most one unfinished job per source server, across every replica.
CREATE UNIQUE INDEX jobs_one_unfinished ON jobs (account_id, source_id) WHERE unfinished;

-- The event log. commit_id marks the first event of each group commit, so
-- a connection lost while committing is settled by looking it up.
CREATE TABLE log (
    revision  BIGINT NOT NULL PRIMARY KEY,
    time      BIGINT NOT NULL,
    commit_id BIGINT,
    body      BYTEA  NOT NULL
);
CREATE UNIQUE INDEX log_by_commit ON log (commit_id) WHERE commit_id IS NOT NULL;
CREATE INDEX log_by_time ON log (time);

-- The revision counter: updated near the end of every write transaction,
-- its row lock orders commits, so revision order is commit order and
-- every snapshot sees a gap-free prefix. Updated in place constantly:
-- fillfactor leaves room for HOT updates.
CREATE TABLE log_head (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision BIGINT  NOT NULL
) WITH (fillfactor = 10);
INSERT INTO log_head (id, revision) VALUES (1, 0);

-- Kept apart from the counter so compaction never waits on it.
CREATE TABLE log_compaction (
    id                INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    compacted_through BIGINT  NOT NULL
);
INSERT INTO log_compaction (id, compacted_through) VALUES (1, 0);

CREATE TABLE client_tokens (
    account_id  TEXT   NOT NULL,
    token       TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, token)
);
CREATE INDEX client_tokens_by_age ON client_tokens (created_at);

CREATE TABLE agent_instances (
    account_id  TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    server_id   TEXT NOT NULL,
    PRIMARY KEY (account_id, instance_id)
);

CREATE TABLE secrets (
    name  TEXT  NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Leases of background duties; fence grows with every claim.
CREATE TABLE leases (
    name        TEXT        NOT NULL PRIMARY KEY,
    owner       TEXT        NOT NULL,
    fence       BIGINT      NOT NULL,
    valid_until TIMESTAMPTZ NOT NULL
);

-- The encoding of the bodies above.
CREATE TABLE storage_format (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO storage_format (id, version) VALUES (1, 1);
",
        convert: None,
    },
    Migration {
        version: 2,
        name: "client token outcomes in the storage format",
        sql: r"
-- Outcomes as cutover.storage.v1 StoredOutcome (see store::codec) instead
-- of JSON; the conversion fills the new column and drops the JSON one.
ALTER TABLE client_tokens RENAME COLUMN outcome TO outcome_json;
ALTER TABLE client_tokens ADD COLUMN outcome BYTEA;
",
        convert: Some(upgrade::outcomes_from_json),
    },
];

/// Applies the migrations the database has not seen yet; refuses a
/// database written by a newer build or in a newer storage format.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map_err)?;
    let outcome = apply(client, i32::MAX).await;
    // The lock is the session's: closing the connection also frees it.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    outcome
}

/// Leaves the schema of a release that knew migrations up to `version`, as
/// that release would: what the upgrade tests start from.
#[cfg(test)]
pub(super) async fn migrate_through(client: &mut Client, version: i32) -> Result<(), StoreError> {
    apply(client, version).await
}

/// Applies the migrations the database has not seen yet, up to `through`.
async fn apply(client: &mut Client, through: i32) -> Result<(), StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER     NOT NULL PRIMARY KEY,
                 name       TEXT        NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(map_err)?;
    let newest: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(map_err)?
        .get(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if newest > known {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {newest}, newer than this build knows ({known}); \
             it was written by a newer release and is left untouched"
        )));
    }
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > newest && m.version <= through)
    {
        let tx = client.transaction().await.map_err(map_err)?;
        tx.batch_execute(migration.sql).await.map_err(|err| {
            StoreError::Unavailable(format!(
                "schema migration {} ({}) failed: {err}",
                migration.version, migration.name
            ))
        })?;
        if let Some(convert) = migration.convert {
            convert(&tx).await?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied schema migration"
        );
    }
    let format: i32 = client
        .query_one("SELECT version FROM storage_format", &[])
        .await
        .map_err(map_err)?
        .get(0);
    if u32::try_from(format).map_or(true, |f| f > codec::FORMAT_VERSION) {
        return Err(StoreError::Unavailable(format!(
            "the database is in storage format {format}, newer than this build reads ({})",
            codec::FORMAT_VERSION
        )));
    }
    Ok(())
}
