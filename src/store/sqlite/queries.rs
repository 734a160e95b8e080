//! The store's reads, as blocking functions over one connection: what the
//! read model is loaded from at start-up, and what it does not hold (the
//! log, client tokens, accounts, secrets).

use rusqlite::{params, Connection, OptionalExtension};

use super::{map_err, to_i64};
use crate::domain::{AccountId, LifecycleEvent, Resource, SourceServerId};
use crate::store::{codec, IdempotencyRecord, StoreError, Versioned};

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what}: negative value {value}")))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Sends every row of `sql` (version, revision, body), decoded with
/// `decode`, to `sink`, until it returns false.
fn each_versioned<T>(
    conn: &Connection,
    sql: &str,
    what: &str,
    decode: impl Fn(&[u8]) -> Result<T, StoreError>,
    sink: &mut impl FnMut(Versioned<T>) -> bool,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(sql).map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    while let Some(row) = rows.next().map_err(map_err)? {
        let version: i64 = row.get(0).map_err(map_err)?;
        let revision: i64 = row.get(1).map_err(map_err)?;
        let body = row
            .get_ref(2)
            .map_err(map_err)?
            .as_blob()
            .map_err(|err| StoreError::Corrupt(format!("{what}: body is not a blob: {err}")))?;
        let stored = Versioned {
            value: decode(body)?,
            version: to_u64(version, what)?,
            revision: to_u64(revision, what)?,
        };
        if !sink(stored) {
            break;
        }
    }
    Ok(())
}

/// Sends every stored resource, servers first, to `sink` until it returns
/// false.
pub(super) fn stored_resources(
    conn: &Connection,
    mut sink: impl FnMut(Versioned<Resource>) -> bool,
) -> Result<(), StoreError> {
    each_versioned(
        conn,
        "SELECT version, revision, body FROM servers",
        "source server",
        |body| codec::decode_source_server(body).map(Resource::SourceServer),
        &mut sink,
    )?;
    each_versioned(
        conn,
        "SELECT version, revision, body FROM jobs",
        "replication job",
        |body| codec::decode_replication_job(body).map(Resource::ReplicationJob),
        &mut sink,
    )
}

/// The storage format of the database's bodies.
pub(super) fn storage_format(conn: &Connection) -> Result<u32, StoreError> {
    let version: i64 = conn
        .query_row("SELECT version FROM storage_format", [], |row| row.get(0))
        .map_err(map_err)?;
    u32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("storage format version {version}")))
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

/// The record of a client token.
pub(super) fn idempotency_record(
    conn: &Connection,
    account: &AccountId,
    token: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT fingerprint, outcome, created_at FROM client_tokens
         WHERE account_id = ?1 AND token = ?2",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![account.as_str(), token], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .optional()
    })
    .map_err(map_err)?
    .map(|(fingerprint, outcome, created)| {
        Ok(IdempotencyRecord {
            account_id: account.clone(),
            token: token.to_owned(),
            fingerprint,
            outcome: codec::decode_outcome(&outcome)?,
            created: crate::domain::Timestamp(created),
        })
    })
    .transpose()
}

/// The server an agent instance registered.
pub(super) fn agent_instance(
    conn: &Connection,
    account: &AccountId,
    instance_id: &str,
) -> Result<Option<SourceServerId>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT server_id FROM agent_instances WHERE account_id = ?1 AND instance_id = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![account.as_str(), instance_id], |row| row.get(0))
                .optional()
        })
        .map_err(map_err)?;
    id.map(|id| {
        SourceServerId::parse("server_id", &id)
            .map_err(|err| StoreError::Corrupt(format!("agent instance {instance_id:?}: {err}")))
    })
    .transpose()
}

/// Up to `limit` events from revision `from` on.
pub(super) fn events_from(
    conn: &Connection,
    from: u64,
    limit: usize,
) -> Result<Vec<LifecycleEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT revision, body FROM log WHERE revision >= ?1 ORDER BY revision LIMIT ?2",
        )
        .map_err(map_err)?;
    let mut rows = stmt
        .query(params![to_i64(from), limit_of(limit)])
        .map_err(map_err)?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let revision = to_u64(row.get(0).map_err(map_err)?, "event revision")?;
        let body = row.get_ref(1).map_err(map_err)?.as_blob().map_err(|err| {
            StoreError::Corrupt(format!("event {revision}: body is not a blob: {err}"))
        })?;
        let event = codec::decode_event(body)?;
        if event.revision != revision {
            return Err(StoreError::Corrupt(format!(
                "event stored at revision {revision} says it is {}",
                event.revision
            )));
        }
        events.push(event);
    }
    Ok(events)
}

/// The latest revision, 0 when there is none.
pub(super) fn head_revision(conn: &Connection) -> Result<u64, StoreError> {
    let head: i64 = conn
        .prepare_cached(
            "SELECT MAX(COALESCE((SELECT MAX(revision) FROM log), 0),
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
