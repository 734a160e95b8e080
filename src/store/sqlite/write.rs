//! The store's writes, as blocking functions over the writer connection.

use rusqlite::{ffi, params, Connection, TransactionBehavior};

use super::map_err;
use super::queries::{encode, head_revision, secret, to_i64};
use crate::domain::{
    AccountId, BusinessStatus, LifecycleEvent, ReplicationJob, Resource, SourceServer, Timestamp,
};
use crate::store::{StoreError, WriteBatch};

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

/// Writes `batch` in one IMMEDIATE transaction; returns its events with
/// their revisions. Nothing is written unless everything is.
pub(super) fn commit(
    conn: &mut Connection,
    batch: WriteBatch,
) -> Result<Vec<LifecycleEvent>, StoreError> {
    if !conn.is_autocommit() {
        // A transaction left open by an earlier failure (its rollback
        // failed too) would make every later BEGIN fail: end it first.
        conn.execute_batch("ROLLBACK").map_err(map_err)?;
    }
    // Dropping `tx` on an error path rolls back.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let mut revision = head_revision(&tx)?;
    let mut events = Vec::with_capacity(batch.writes.len());
    for write in batch.writes {
        revision += 1;
        match &write.resource {
            Resource::SourceServer(server) => {
                write_server(&tx, server, write.expected_version, revision)?;
            }
            Resource::ReplicationJob(job) => write_job(&tx, job, write.expected_version, revision)?,
        }
        let event = LifecycleEvent {
            revision,
            event: write.event,
            resource: write.resource,
        };
        insert_event(&tx, &event)?;
        events.push(event);
    }
    if let Some(record) = &batch.idempotency {
        tx.prepare_cached(
            "INSERT INTO client_tokens (account_id, token, fingerprint, outcome) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![record.account_id.as_str(), record.token, record.fingerprint, record.outcome])
        })
        .map_err(|err| match constraint(&err) {
            Some(_) => StoreError::Conflict(format!("client token {:?} was already used", record.token)),
            None => map_err(err),
        })?;
    }
    tx.commit().map_err(map_err)?;
    Ok(events)
}

fn write_server(
    conn: &Connection,
    server: &SourceServer,
    expected_version: Option<u64>,
    revision: u64,
) -> Result<(), StoreError> {
    let body = encode(server, "source server")?;
    let pending = server
        .follow_up_tasks
        .iter()
        .filter(|t| t.is_pending())
        .count();
    let pending = i64::try_from(pending).unwrap_or(i64::MAX);
    let id = server.id.as_str();
    let columns = params![
        server.account_id.as_str(),
        id,
        server.life_cycle.state.as_str(),
        server.replication_type.as_str(),
        server.is_archived,
        pending,
        to_i64(revision),
        body,
        expected_version.map(to_i64),
    ];
    let changed = match expected_version {
        None => conn
            .prepare_cached(
                "INSERT INTO source_servers (account_id, id, life_cycle_state, replication_type, is_archived,
                     pending_tasks, updated_revision, body, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, COALESCE(?9, 1))",
            ) // ?9 is NULL here: a new resource starts at version 1.
            .and_then(|mut stmt| stmt.execute(columns))
            .map_err(|err| match constraint(&err) {
                Some(_) => StoreError::Conflict(format!("source server {id} already exists")),
                None => map_err(err),
            })?,
        Some(_) => conn
            .prepare_cached(
                "UPDATE source_servers SET life_cycle_state = ?3, replication_type = ?4, is_archived = ?5,
                     pending_tasks = ?6, updated_revision = ?7, body = ?8, version = version + 1
                 WHERE account_id = ?1 AND id = ?2 AND version = ?9",
            )
            .and_then(|mut stmt| stmt.execute(columns))
            .map_err(map_err)?,
    };
    if let (0, Some(version)) = (changed, expected_version) {
        return Err(StoreError::Conflict(format!(
            "source server {id} is no longer at version {version}"
        )));
    }
    write_follow_up_tasks(conn, server)
}

/// Keeps one row per follow-up task in step with the server that holds it,
/// in the same transaction: the scheduler finds due and overdue tasks by
/// deadline without reading every server.
fn write_follow_up_tasks(conn: &Connection, server: &SourceServer) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO follow_up_tasks (task_id, account_id, source_server_id, kind, state, created_at,
                 deadline, completed_at, attempts, overdue)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (task_id) DO UPDATE SET state = excluded.state, completed_at = excluded.completed_at,
                 attempts = excluded.attempts, overdue = excluded.overdue",
        )
        .map_err(map_err)?;
    for task in &server.follow_up_tasks {
        stmt.execute(params![
            task.id.as_str(),
            server.account_id.as_str(),
            server.id.as_str(),
            task.kind.as_str(),
            if task.is_pending() {
                "PENDING"
            } else {
                "COMPLETED"
            },
            task.created.0,
            task.deadline.0,
            task.completed.map(|t| t.0),
            i64::from(task.attempts),
            task.overdue,
        ])
        .map_err(map_err)?;
    }
    Ok(())
}

fn write_job(
    conn: &Connection,
    job: &ReplicationJob,
    expected_version: Option<u64>,
    revision: u64,
) -> Result<(), StoreError> {
    let body = encode(job, "replication job")?;
    let id = job.id.as_str();
    let columns = params![
        job.account_id.as_str(),
        id,
        job.source_id.as_str(),
        job.status.as_str(),
        job.business_status.map(BusinessStatus::as_str),
        job.status.is_unfinished(),
        to_i64(revision),
        body,
        expected_version.map(to_i64),
    ];
    let on_error = |err: rusqlite::Error| match constraint(&err) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE) => StoreError::Conflict(format!(
            "source server {} already has an unfinished replication job",
            job.source_id
        )),
        Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::Conflict(format!("replication job {id} already exists"))
        }
        _ => map_err(err),
    };
    let changed = match expected_version {
        None => conn
            .prepare_cached(
                "INSERT INTO replication_jobs (account_id, id, source_id, status, business_status, unfinished,
                     updated_revision, body, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, COALESCE(?9, 1))",
            )
            .and_then(|mut stmt| stmt.execute(columns))
            .map_err(on_error)?,
        Some(_) => conn
            .prepare_cached(
                "UPDATE replication_jobs SET source_id = ?3, status = ?4, business_status = ?5, unfinished = ?6,
                     updated_revision = ?7, body = ?8, version = version + 1
                 WHERE account_id = ?1 AND id = ?2 AND version = ?9",
            )
            .and_then(|mut stmt| stmt.execute(columns))
            .map_err(on_error)?,
    };
    match (changed, expected_version) {
        (0, Some(version)) => Err(StoreError::Conflict(format!(
            "replication job {id} is no longer at version {version}"
        ))),
        _ => Ok(()),
    }
}

fn insert_event(conn: &Connection, event: &LifecycleEvent) -> Result<(), StoreError> {
    let body = encode(event, "event")?;
    conn.prepare_cached(
        "INSERT INTO events (revision, account_id, resource_type, resource_id, event_type, time, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            to_i64(event.revision),
            event.resource.account_id().as_str(),
            event.resource.kind().to_string(),
            event.resource.id(),
            event.event.event_type.as_str(),
            event.event.time.0,
            body,
        ])
    })
    .map_err(map_err)?;
    Ok(())
}
