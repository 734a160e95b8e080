//! The store's writes, as blocking functions over the writer connection,
//! run by the committer inside its transaction.

use rusqlite::{ffi, params, Connection};

use super::{map_err, queries::secret, to_i64};
use crate::domain::{AccountId, LifecycleEvent, ReplicationJob, Resource, SourceServer, Timestamp};
use crate::store::{codec, IdempotencyRecord, StoreError, WriteBatch};

/// Which constraint `err` violated, if it is a constraint violation.
fn constraint(err: &rusqlite::Error) -> Option<i32> {
    match err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Some(e.extended_code)
        }
        _ => None,
    }
}

/// Marks `account` initialised; true when it was not before.
pub(super) fn initialize_account(
    conn: &Connection,
    account: &AccountId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO accounts (account_id, initialized_at) VALUES (?1, ?2)",
        )
        .and_then(|mut stmt| stmt.execute(params![account.as_str(), now.0]))
        .map_err(map_err)?;
    Ok(inserted > 0)
}

/// Stores `value` as the secret `name` unless one exists, and returns the
/// one that is stored (so concurrent creators agree).
pub(super) fn create_secret(
    conn: &Connection,
    name: &str,
    value: &[u8],
) -> Result<Vec<u8>, StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![name, value]))
        .map_err(map_err)?;
    secret(conn, name)?
        .ok_or_else(|| StoreError::Unavailable(format!("secret {name} vanished after creation")))
}

/// Writes `batch` inside the caller's transaction, its events numbered
/// from `head + 1`; returns them. Version checks, the one-unfinished-job
/// rule and client-token reuse are checked here, against the stored state:
/// any failure is a [`StoreError::Conflict`] and the caller rolls the
/// batch back.
pub(super) fn write_batch(
    conn: &Connection,
    batch: WriteBatch,
    head: u64,
    buffer: &mut Vec<u8>,
) -> Result<Vec<LifecycleEvent>, StoreError> {
    let mut revision = head;
    let mut events = Vec::with_capacity(batch.writes.len());
    for write in batch.writes {
        revision += 1;
        buffer.clear();
        match &write.resource {
            Resource::SourceServer(server) => {
                codec::encode_source_server(server, buffer);
                write_server(conn, server, write.expected_version, revision, buffer)?;
            }
            Resource::ReplicationJob(job) => {
                codec::encode_replication_job(job, buffer);
                write_job(conn, job, write.expected_version, revision, buffer)?;
            }
        }
        let event = LifecycleEvent {
            revision,
            event: write.event,
            resource: write.resource,
        };
        buffer.clear();
        codec::encode_event(&event, buffer);
        conn.prepare_cached("INSERT INTO log (revision, time, body) VALUES (?1, ?2, ?3)")
            .and_then(|mut stmt| {
                stmt.execute(params![to_i64(revision), event.event.time.0, &buffer[..]])
            })
            .map_err(map_err)?;
        events.push(event);
    }
    if let Some(record) = &batch.idempotency {
        buffer.clear();
        codec::encode_outcome(&record.outcome, buffer);
        insert_token(conn, record, buffer)?;
    }
    if let Some(instance) = &batch.agent_instance {
        conn.prepare_cached(
            "INSERT INTO agent_instances (account_id, instance_id, server_id) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                instance.account_id.as_str(),
                instance.instance_id,
                instance.server_id.as_str()
            ])
        })
        .map_err(|err| match constraint(&err) {
            Some(_) => StoreError::Conflict(format!(
                "agent instance {:?} already registered a server",
                instance.instance_id
            )),
            None => map_err(err),
        })?;
    }
    Ok(events)
}

/// Inserts `record`, its outcome encoded as `outcome`.
fn insert_token(
    conn: &Connection,
    record: &IdempotencyRecord,
    outcome: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO client_tokens (account_id, token, fingerprint, outcome, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            record.account_id.as_str(),
            record.token,
            record.fingerprint,
            outcome,
            record.created.0
        ])
    })
    .map_err(|err| match constraint(&err) {
        Some(_) => {
            StoreError::Conflict(format!("client token {:?} was already used", record.token))
        }
        None => map_err(err),
    })?;
    Ok(())
}

/// Deletes up to `limit` client tokens first used before `older_than`;
/// returns how many.
pub(super) fn forget_client_tokens(
    conn: &Connection,
    older_than: Timestamp,
    limit: i64,
) -> Result<u64, StoreError> {
    conn.prepare_cached(
        "DELETE FROM client_tokens WHERE rowid IN
             (SELECT rowid FROM client_tokens WHERE created_at < ?1 LIMIT ?2)",
    )
    .and_then(|mut stmt| stmt.execute(params![older_than.0, limit]))
    .map(|deleted| deleted as u64)
    .map_err(map_err)
}

/// A version check that matched no row.
fn stale(what: &str, id: &str, version: u64) -> StoreError {
    StoreError::Conflict(format!("{what} {id} is no longer at version {version}"))
}

fn write_server(
    conn: &Connection,
    server: &SourceServer,
    expected_version: Option<u64>,
    revision: u64,
    body: &[u8],
) -> Result<(), StoreError> {
    let (account, id) = (server.account_id.as_str(), server.id.as_str());
    match expected_version {
        None => conn
            .prepare_cached(
                "INSERT INTO servers (account_id, id, version, revision, body) VALUES (?1, ?2, 1, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![account, id, to_i64(revision), body]))
            .map_err(|err| match constraint(&err) {
                Some(_) => StoreError::Conflict(format!("source server {id} already exists")),
                None => map_err(err),
            })
            .map(drop),
        Some(version) => {
            let changed = conn
                .prepare_cached(
                    "UPDATE servers SET version = version + 1, revision = ?3, body = ?4
                     WHERE account_id = ?1 AND id = ?2 AND version = ?5",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![account, id, to_i64(revision), body, to_i64(version)])
                })
                .map_err(map_err)?;
            match changed {
                0 => Err(stale("source server", id, version)),
                _ => Ok(()),
            }
        }
    }
}

fn write_job(
    conn: &Connection,
    job: &ReplicationJob,
    expected_version: Option<u64>,
    revision: u64,
    body: &[u8],
) -> Result<(), StoreError> {
    let (account, id) = (job.account_id.as_str(), job.id.as_str());
    let on_error = |err: rusqlite::Error| match constraint(&err) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE) => StoreError::Conflict(format!(
            "source server {} already has an unfinished replication job",
            job.source_id
        )),
        Some(_) => StoreError::Conflict(format!("replication job {id} already exists")),
        None => map_err(err),
    };
    let columns = params![
        account,
        id,
        job.source_id.as_str(),
        job.status.is_unfinished(),
        to_i64(revision),
        body,
        expected_version.map(to_i64),
    ];
    match expected_version {
        None => conn
            .prepare_cached(
                "INSERT INTO jobs (account_id, id, source_id, unfinished, version, revision, body)
                 VALUES (?1, ?2, ?3, ?4, COALESCE(?7, 1), ?5, ?6)",
            ) // ?7 is NULL here: a new resource starts at version 1.
            .and_then(|mut stmt| stmt.execute(columns))
            .map_err(on_error)
            .map(drop),
        Some(version) => {
            // Most updates change neither the job's source nor whether it
            // is unfinished: leaving the indexed columns out of the SET
            // keeps SQLite from rewriting the partial index's entry (one
            // more random page in the WAL per update).
            let mut changed = conn
                .prepare_cached(
                    "UPDATE jobs SET version = version + 1, revision = ?5, body = ?6
                     WHERE account_id = ?1 AND id = ?2 AND version = ?7
                         AND source_id = ?3 AND unfinished = ?4",
                )
                .and_then(|mut stmt| stmt.execute(columns))
                .map_err(on_error)?;
            if changed == 0 {
                changed = conn
                    .prepare_cached(
                        "UPDATE jobs SET source_id = ?3, unfinished = ?4, version = version + 1,
                             revision = ?5, body = ?6
                         WHERE account_id = ?1 AND id = ?2 AND version = ?7",
                    )
                    .and_then(|mut stmt| stmt.execute(columns))
                    .map_err(on_error)?;
            }
            match changed {
                0 => Err(stale("replication job", id, version)),
                _ => Ok(()),
            }
        }
    }
}
