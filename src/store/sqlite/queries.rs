//! The store's reads, as blocking functions over one connection. The
//! async wrappers in the parent module run them on the blocking thread
//! pool.

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use super::map_err;
use crate::domain::{
    AccountId, LifecycleEvent, ReplicationJob, ReplicationJobId, ReplicationJobStatus,
    SourceServer, SourceServerId,
};
use crate::store::{
    IdempotencyRecord, ReplicationJobFilter, SourceServerFilter, StoreError, Versioned,
};

/// Servers to act on. The WHERE clause matches the partial index
/// `source_servers_active` (a test checks the plan uses it).
pub(super) const ACTIVE_SOURCE_SERVERS: &str = "SELECT version, body FROM source_servers
    WHERE (life_cycle_state NOT IN ('CUTOVER', 'DISCONNECTED') AND is_archived = 0)
       OR pending_tasks > 0
    ORDER BY updated_revision LIMIT ?1";

/// Jobs to act on. The WHERE clause matches the partial index
/// `replication_jobs_active` (a test checks the plan uses it).
pub(super) const ACTIVE_REPLICATION_JOBS: &str = "SELECT version, body FROM replication_jobs
    WHERE status IN ('Running', 'Waiting')
    ORDER BY updated_revision LIMIT ?1";

pub(super) fn to_i64(value: u64) -> i64 {
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

pub(super) fn encode<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|err| StoreError::Corrupt(format!("cannot encode {what}: {err}")))
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
        Conditions {
            sql: vec![sql],
            values: vec![value],
        }
    }

    fn push(&mut self, sql: &'static str, value: Value) {
        self.sql.push(sql);
        self.values.push(value);
    }

    fn push_list<'a>(
        &mut self,
        sql: &'static str,
        items: impl ExactSizeIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
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

/// True once `account` was initialised.
pub(super) fn is_account_initialized(
    conn: &Connection,
    account: &AccountId,
) -> Result<bool, StoreError> {
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
    let values = [
        Value::Text(account.as_str().to_owned()),
        Value::Text(id.as_str().to_owned()),
    ];
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
    let values = [
        Value::Text(account.as_str().to_owned()),
        Value::Text(id.as_str().to_owned()),
    ];
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
    cond.push_list(
        "id IN (SELECT value FROM json_each(?))",
        filter.ids.iter().map(SourceServerId::as_str),
    )?;
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
    let sql = format!(
        "SELECT version, body FROM source_servers WHERE {} ORDER BY id LIMIT ?",
        cond.clause()
    );
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
    cond.push_list(
        "id IN (SELECT value FROM json_each(?))",
        filter.ids.iter().map(ReplicationJobId::as_str),
    )?;
    cond.push_list(
        "source_id IN (SELECT value FROM json_each(?))",
        filter.source_ids.iter().map(SourceServerId::as_str),
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
    let sql = format!(
        "SELECT version, body FROM replication_jobs WHERE {} ORDER BY id LIMIT ?",
        cond.clause()
    );
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
    let list = json_list(sources.iter().map(SourceServerId::as_str))?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT source_id FROM replication_jobs
             WHERE account_id = ?1 AND status = ?2 AND source_id IN (SELECT value FROM json_each(?3))",
        )
        .map_err(map_err)?;
    let ids = stmt
        .query_map(
            params![
                account.as_str(),
                ReplicationJobStatus::Running.as_str(),
                list
            ],
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
pub(super) fn active_source_servers(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<Versioned<SourceServer>>, StoreError> {
    versioned_rows(
        conn,
        ACTIVE_SOURCE_SERVERS,
        &[Value::Integer(limit_of(limit))],
        "source server",
    )
}

/// Running or Waiting jobs of any account, oldest change first.
pub(super) fn active_replication_jobs(
    conn: &Connection,
    limit: usize,
) -> Result<Vec<Versioned<ReplicationJob>>, StoreError> {
    versioned_rows(
        conn,
        ACTIVE_REPLICATION_JOBS,
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
    conn.prepare_cached(
        "SELECT fingerprint, outcome FROM client_tokens WHERE account_id = ?1 AND token = ?2",
    )
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
pub(super) fn events_from(
    conn: &Connection,
    from: u64,
    limit: usize,
) -> Result<Vec<LifecycleEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT revision, body FROM events WHERE revision >= ?1 ORDER BY revision LIMIT ?2",
        )
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
        .prepare_cached(
            "SELECT MAX(COALESCE((SELECT MAX(revision) FROM events), 0),
                        (SELECT compacted_through FROM event_log))",
        )
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
