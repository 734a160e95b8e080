//! The upgrades of databases written by releases that stored data as JSON
//! to the binary format: resources and events (schema versions 1 to 3),
//! then client token outcomes (up to schema version 6). Every row is
//! decoded with the serde form those releases wrote and re-encoded with
//! [`codec`], inside the migration's transaction, so an upgrade that fails
//! (a row that does not decode, a full disk) leaves the database as it was.

use rusqlite::{params, Connection};
use serde::de::DeserializeOwned;

use super::map_err;
use crate::domain::{LifecycleEvent, ReplicationJob, SourceServer};
use crate::store::{codec, outcome, StoreError};

/// Rows between two progress lines in the log.
const PROGRESS_EVERY: u64 = 100_000;

fn from_json<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|err| {
        StoreError::Corrupt(format!(
            "cannot upgrade {what}: its stored JSON does not decode: {err}"
        ))
    })
}

/// Copies a JSON table into its binary successor, row by row: `convert`
/// decodes one row and writes its replacement.
fn copy_rows(
    conn: &Connection,
    select: &str,
    what: &str,
    mut convert: impl FnMut(&rusqlite::Row<'_>) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare(select).map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    let mut copied = 0u64;
    while let Some(row) = rows.next().map_err(map_err)? {
        convert(row)?;
        copied += 1;
        if copied.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(copied, what, "upgrading the database to the binary format");
        }
    }
    Ok(copied)
}

/// Rewrites the JSON tables of schema 3 into the binary tables of schema 4
/// and drops them.
pub(super) fn binary_from_json(conn: &Connection) -> Result<(), StoreError> {
    let mut body = Vec::with_capacity(4096);
    let mut insert = conn
        .prepare("INSERT INTO servers (account_id, id, version, revision, body) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(map_err)?;
    let servers = copy_rows(
        conn,
        "SELECT version, updated_revision, body FROM source_servers",
        "source servers",
        |row| {
            let json: String = row.get(2).map_err(map_err)?;
            let server: SourceServer = from_json(&json, "a source server")?;
            body.clear();
            codec::encode_source_server(&server, &mut body);
            let (version, revision): (i64, i64) =
                (row.get(0).map_err(map_err)?, row.get(1).map_err(map_err)?);
            insert
                .execute(params![
                    server.account_id.as_str(),
                    server.id.as_str(),
                    version,
                    revision,
                    body
                ])
                .map_err(map_err)?;
            Ok(())
        },
    )?;
    let mut insert = conn
        .prepare(
            "INSERT INTO jobs (account_id, id, source_id, unfinished, version, revision, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_err)?;
    let jobs = copy_rows(
        conn,
        "SELECT version, updated_revision, body FROM replication_jobs",
        "replication jobs",
        |row| {
            let json: String = row.get(2).map_err(map_err)?;
            let job: ReplicationJob = from_json(&json, "a replication job")?;
            body.clear();
            codec::encode_replication_job(&job, &mut body);
            let (version, revision): (i64, i64) =
                (row.get(0).map_err(map_err)?, row.get(1).map_err(map_err)?);
            insert
                .execute(params![
                    job.account_id.as_str(),
                    job.id.as_str(),
                    job.source_id.as_str(),
                    job.status.is_unfinished(),
                    version,
                    revision,
                    body
                ])
                .map_err(map_err)?;
            Ok(())
        },
    )?;
    let mut insert = conn
        .prepare("INSERT INTO log (revision, time, body) VALUES (?1, ?2, ?3)")
        .map_err(map_err)?;
    let events = copy_rows(conn, "SELECT revision, body FROM events", "events", |row| {
        let revision: i64 = row.get(0).map_err(map_err)?;
        let json: String = row.get(1).map_err(map_err)?;
        let mut event: LifecycleEvent = from_json(&json, &format!("event {revision}"))?;
        event.revision = u64::try_from(revision)
            .map_err(|_| StoreError::Corrupt(format!("event with negative revision {revision}")))?;
        body.clear();
        codec::encode_event(&event, &mut body);
        insert
            .execute(params![revision, event.event.time.0, body])
            .map_err(map_err)?;
        Ok(())
    })?;
    drop(insert);
    conn.execute_batch(
        "DROP TABLE source_servers; DROP TABLE replication_jobs; DROP TABLE events;
         DROP TABLE follow_up_tasks;",
    )
    .map_err(map_err)?;
    if servers + jobs + events > 0 {
        tracing::info!(
            servers,
            jobs,
            events,
            "upgraded the database to the binary format"
        );
    }
    Ok(())
}

/// Rewrites the client tokens of schema 6, whose outcomes are JSON
/// (`client_tokens_json`), into the table of schema 7, whose outcomes are
/// `StoredOutcome`, and drops the old table. Every token keeps its
/// fingerprint and age, so a retry still gets the first answer, a
/// different request with it is still refused, and retention still
/// forgets it when it would have.
pub(super) fn outcomes_from_json(conn: &Connection) -> Result<(), StoreError> {
    let mut body = Vec::with_capacity(4096);
    let mut insert = conn
        .prepare(
            "INSERT INTO client_tokens (account_id, token, fingerprint, outcome, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(map_err)?;
    let tokens = copy_rows(
        conn,
        "SELECT account_id, token, fingerprint, outcome, created_at FROM client_tokens_json",
        "client tokens",
        |row| {
            let (account, token, fingerprint, json, created): (
                String,
                String,
                String,
                String,
                i64,
            ) = (
                row.get(0).map_err(map_err)?,
                row.get(1).map_err(map_err)?,
                row.get(2).map_err(map_err)?,
                row.get(3).map_err(map_err)?,
                row.get(4).map_err(map_err)?,
            );
            let recorded =
                outcome::from_json(&json).map_err(|err| about_token(&account, &token, err))?;
            body.clear();
            codec::encode_outcome(&recorded, &mut body);
            insert
                .execute(params![account, token, fingerprint, body, created])
                .map_err(map_err)?;
            Ok(())
        },
    )?;
    drop(insert);
    conn.execute_batch("DROP TABLE client_tokens_json;")
        .map_err(map_err)?;
    if tokens > 0 {
        tracing::info!(
            tokens,
            "upgraded client token outcomes to the binary format"
        );
    }
    Ok(())
}

/// `err` naming the client token whose row it is about.
fn about_token(account: &str, token: &str, err: StoreError) -> StoreError {
    match err {
        StoreError::Corrupt(detail) => StoreError::Corrupt(format!(
            "client token {token:?} of account {account}: {detail}"
        )),
        other => other,
    }
}
