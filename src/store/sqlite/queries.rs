//! The store's SQL, as blocking functions over one connection. The async
//! wrappers in the parent module run them on the blocking thread pool.

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;

use super::map_err;
use crate::domain::{
    AccountId, LifecycleEvent, ReplicationJob, ReplicationJobId, ReplicationJobStatus, Resource,
    SourceServer, SourceServerId, Timestamp,
};
use crate::store::{
    IdempotencyRecord, ReplicationJobFilter, SourceServerFilter, StoreError, Versioned, WriteBatch,
};

/// `SQLITE_CONSTRAINT_PRIMARYKEY`: an INSERT hit an existing key.
const CONSTRAINT_PRIMARYKEY: i32 = 1555;
/// `SQLITE_CONSTRAINT_UNIQUE`: a unique index rejected the row.
const CONSTRAINT_UNIQUE: i32 = 2067;

/// Which constraint `err` violated, if it is a constraint violation.
fn constraint(err: &rusqlite::Error) -> Option<i32> {
    match err {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Some(e.extended_code)
        }
        _ => None,
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what}: negative value {value}")))
}

fn decode<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|err| StoreError::Corrupt(format!("{what}: {err}")))
}

fn encode<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|err| StoreError::Corrupt(format!("cannot encode {what}: {err}")))
}

/// A JSON array of `items`, bound to one `?` and expanded by `json_each`,
/// so a filter of any length is one placeholder.
fn json_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Value, StoreError> {
    let list: Vec<&str> = items.into_iter().collect();
    Ok(Value::Text(encode(&list, "filter")?))
}

/// A WHERE clause under construction: conditions joined by AND, each with
/// its `?` values in order.
struct Conditions {
    sql: Vec<&'static str>,
    values: Vec<Value>,
}

impl Conditions {
    fn new(sql: &'static str, value: Value) -> Self {
        Conditions { sql: vec![sql], values: vec![value] }
    }

    fn push(&mut self, sql: &'static str, value: Value) {
        self.sql.push(sql);
        self.values.push(value);
    }

    fn push_list<'a>(&mut self, sql: &'static str, items: impl ExactSizeIterator<Item = &'a str>) -> Result<(), StoreError> {
        if items.len() > 0 {
            self.push(sql, json_list(items)?);
        }
        Ok(())
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }
}

/// Runs `sql` and decodes each row's (version, body) as a `T`.
fn versioned_rows<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    values: &[Value],
    what: &str,
) -> Result<Vec<Versioned<T>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_err)?;
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(map_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    rows.into_iter()
        .map(|(version, body)| {
            Ok(Versioned {
                value: decode(&body, what)?,
                version: to_u64(version, what)?,
            })
        })
        .collect()
}

/// Marks `account` initialised; true when it was not before.
pub(super) fn initialize_account(conn: &Connection, account: &AccountId, now: Timestamp) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached("INSERT OR IGNORE INTO accounts (account_id, initialized_at) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![account.as_str(), now.0]))
        .map_err(map_err)?;
    Ok(inserted > 0)
}

/// True once `account` was initialised.
pub(super) fn is_account_initialized(conn: &Connection, account: &AccountId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = ?1)")
        .and_then(|mut stmt| stmt.query_row([account.as_str()], |row| row.get(0)))
        .map_err(map_err)
}

/// One source server with its version.
pub(super) fn source_server(
    conn: &Connection,
    account: &AccountId,
    id: &SourceServerId,
) -> Result<Option<Versioned<SourceServer>>, StoreError> {
    let values = [Value::Text(account.as_str().to_owned()), Value::Text(id.as_str().to_owned())];
    let rows = versioned_rows(
        conn,
        "SELECT version, body FROM source_servers WHERE account_id = ?1 AND id = ?2",
        &values,
        "source server",
    )?;
    Ok(rows.into_iter().next())
}

/// One replication job with its version.
pub(super) fn replication_job(
    conn: &Connection,
    account: &AccountId,
    id: &ReplicationJobId,
) -> Result<Option<Versioned<ReplicationJob>>, StoreError> {
    let values = [Value::Text(account.as_str().to_owned()), Value::Text(id.as_str().to_owned())];
    let rows = versioned_rows(
        conn,
        "SELECT version, body FROM replication_jobs WHERE account_id = ?1 AND id = ?2",
        &values,
        "replication job",
    )?;
    Ok(rows.into_iter().next())
}

/// A page of source servers, in one statement.
pub(super) fn list_source_servers(
    conn: &Connection,
    account: &AccountId,
    filter: &SourceServerFilter,
    after: Option<&SourceServerId>,
    limit: usize,
) -> Result<Vec<SourceServer>, StoreError> {
    let mut cond = Conditions::new("account_id = ?", Value::Text(account.as_str().to_owned()));
    if let Some(after) = after {
        cond.push("id > ?", Value::Text(after.as_str().to_owned()));
    }
    cond.push_list("id IN (SELECT value FROM json_each(?))", filter.ids.iter().map(|id| id.as_str()))?;
    if let Some(archived) = filter.is_archived {
        cond.push("is_archived = ?", Value::Integer(i64::from(archived)));
    }
    cond.push_list(
        "replication_type IN (SELECT value FROM json_each(?))",
        filter.replication_types.iter().map(|t| t.as_str()),
    )?;
    cond.push_list(
        "life_cycle_state IN (SELECT value FROM json_each(?))",
        filter.life_cycle_states.iter().map(|s| s.as_str()),
    )?;
    cond.values.push(Value::Integer(limit_of(limit)));
    let sql = format!("SELECT version, body FROM source_servers WHERE {} ORDER BY id LIMIT ?", cond.clause());
    let rows = versioned_rows(conn, &sql, &cond.values, "source server")?;
    Ok(rows.into_iter().map(|v| v.value).collect())
}

/// A page of replication jobs, in one statement.
pub(super) fn list_replication_jobs(
    conn: &Connection,
    account: &AccountId,
    filter: &ReplicationJobFilter,
    after: Option<&ReplicationJobId>,
    limit: usize,
) -> Result<Vec<ReplicationJob>, StoreError> {
    let mut cond = Conditions::new("account_id = ?", Value::Text(account.as_str().to_owned()));
    if let Some(after) = after {
        cond.push("id > ?", Value::Text(after.as_str().to_owned()));
    }
    cond.push_list("id IN (SELECT value FROM json_each(?))", filter.ids.iter().map(|id| id.as_str()))?;
    cond.push_list(
        "source_id IN (SELECT value FROM json_each(?))",
        filter.source_ids.iter().map(|id| id.as_str()),
    )?;
    cond.push_list(
        "status IN (SELECT value FROM json_each(?))",
        filter.statuses.iter().map(|s| s.as_str()),
    )?;
    cond.push_list(
        "business_status IN (SELECT value FROM json_each(?))",
        filter.business_statuses.iter().map(|s| s.as_str()),
    )?;
    cond.values.push(Value::Integer(limit_of(limit)));
    let sql = format!("SELECT version, body FROM replication_jobs WHERE {} ORDER BY id LIMIT ?", cond.clause());
    let rows = versioned_rows(conn, &sql, &cond.values, "replication job")?;
    Ok(rows.into_iter().map(|v| v.value).collect())
}

/// Which of `sources` have a Running job in `account`.
pub(super) fn sources_with_running_jobs(
    conn: &Connection,
    account: &AccountId,
    sources: &[SourceServerId],
) -> Result<HashSet<SourceServerId>, StoreError> {
    if sources.is_empty() {
        return Ok(HashSet::new());
    }
    let list = json_list(sources.iter().map(|id| id.as_str()))?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT source_id FROM replication_jobs
             WHERE account_id = ?1 AND status = ?2 AND source_id IN (SELECT value FROM json_each(?3))",
        )
        .map_err(map_err)?;
    let ids = stmt
        .query_map(
            params![account.as_str(), ReplicationJobStatus::Running.as_str(), list],
            |row| row.get::<_, String>(0),
        )
        .map_err(map_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    ids.iter()
        .map(|id| {
            SourceServerId::parse("source_id", id)
                .map_err(|err| StoreError::Corrupt(format!("replication job source id: {err}")))
        })
        .collect()
}

/// Source servers of any account the data plane or scheduler must act on,
/// oldest change first.
pub(super) fn active_source_servers(conn: &Connection, limit: usize) -> Result<Vec<Versioned<SourceServer>>, StoreError> {
    // The WHERE clause matches the partial index `source_servers_active`.
    versioned_rows(
        conn,
        "SELECT version, body FROM source_servers
         WHERE (life_cycle_state NOT IN ('CUTOVER', 'DISCONNECTED') AND is_archived = 0)
            OR pending_tasks > 0
         ORDER BY updated_revision LIMIT ?1",
        &[Value::Integer(limit_of(limit))],
        "source server",
    )
}

/// Running or Waiting jobs of any account, oldest change first.
pub(super) fn active_replication_jobs(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<Versioned<ReplicationJob>>, StoreError> {
    // The WHERE clause matches the partial index `replication_jobs_active`.
    versioned_rows(
        conn,
        "SELECT version, body FROM replication_jobs
         WHERE status IN ('Running', 'Waiting')
         ORDER BY updated_revision LIMIT ?1",
        &[Value::Integer(limit_of(limit))],
        "replication job",
    )
}

/// The record of a client token.
pub(super) fn idempotency_record(
    conn: &Connection,
    account: &AccountId,
    token: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    conn.prepare_cached("SELECT fingerprint, outcome FROM client_tokens WHERE account_id = ?1 AND token = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![account.as_str(), token], |row| {
                Ok(IdempotencyRecord {
                    account_id: account.clone(),
                    token: token.to_owned(),
                    fingerprint: row.get(0)?,
                    outcome: row.get(1)?,
                })
            })
            .optional()
        })
        .map_err(map_err)
}

/// Up to `limit` events from revision `from` on.
pub(super) fn events_from(conn: &Connection, from: u64, limit: usize) -> Result<Vec<LifecycleEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT revision, body FROM events WHERE revision >= ?1 ORDER BY revision LIMIT ?2")
        .map_err(map_err)?;
    let rows = stmt
        .query_map(params![to_i64(from), limit_of(limit)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(map_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    rows.into_iter()
        .map(|(revision, body)| {
            let what = format!("event {revision}");
            let mut event: LifecycleEvent = decode(&body, &what)?;
            event.revision = to_u64(revision, &what)?;
            Ok(event)
        })
        .collect()
}

/// The latest revision, 0 when there is none.
pub(super) fn head_revision(conn: &Connection) -> Result<u64, StoreError> {
    let head: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(revision), 0) FROM events")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(map_err)?;
    to_u64(head, "head revision")
}

/// The secret `name`, if it exists.
pub(super) fn secret(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    conn.prepare_cached("SELECT value FROM secrets WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |row| row.get(0)).optional())
        .map_err(map_err)
}

/// Stores `value` as the secret `name` unless one exists, and returns the
/// one that is stored (so concurrent creators agree).
pub(super) fn create_secret(conn: &Connection, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![name, value]))
        .map_err(map_err)?;
    secret(conn, name)?.ok_or_else(|| StoreError::Unavailable(format!("secret {name} vanished after creation")))
}

/// Writes `batch` in one IMMEDIATE transaction; returns its events with
/// their revisions. Nothing is written unless everything is.
pub(super) fn commit(conn: &mut Connection, batch: WriteBatch) -> Result<Vec<LifecycleEvent>, StoreError> {
    // Dropping `tx` on an error path rolls back.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(map_err)?;
    let mut revision = head_revision(&tx)?;
    let mut events = Vec::with_capacity(batch.writes.len());
    for write in batch.writes {
        revision += 1;
        match &write.resource {
            Resource::SourceServer(server) => write_server(&tx, server, write.expected_version, revision)?,
            Resource::ReplicationJob(job) => write_job(&tx, job, write.expected_version, revision)?,
        }
        let event = LifecycleEvent { revision, event: write.event, resource: write.resource };
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
    let pending = server.follow_up_tasks.iter().filter(|t| t.is_pending()).count();
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
            )
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
    match (changed, expected_version) {
        (0, Some(version)) => Err(StoreError::Conflict(format!(
            "source server {id} is no longer at version {version}"
        ))),
        _ => Ok(()),
    }
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
        job.business_status.map(|s| s.as_str()),
        job.status.is_unfinished(),
        to_i64(revision),
        body,
        expected_version.map(to_i64),
    ];
    let on_error = |err: rusqlite::Error| match constraint(&err) {
        Some(CONSTRAINT_UNIQUE) => StoreError::Conflict(format!(
            "source server {} already has an unfinished replication job",
            job.source_id
        )),
        Some(CONSTRAINT_PRIMARYKEY) => StoreError::Conflict(format!("replication job {id} already exists")),
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
