//! The event log beyond appends: consistent snapshots for watchers, the
//! oldest retained revision, and compaction.

use rusqlite::{params, Connection, TransactionBehavior};

use super::{map_err, queries};
use crate::{
    domain::{
        AccountId, DomainError, FollowUpTaskId, ReplicationJob, Resource, SourceServer,
        SourceServerId, Timestamp,
    },
    store::StoreError,
};

/// Most events deleted per transaction, so compaction never holds the
/// writer for long.
const COMPACTION_BATCH: i64 = 10_000;

/// Every resource of `account` and the revision they reflect, read in one
/// transaction.
pub(super) fn snapshot(
    conn: &Connection,
    account: &AccountId,
) -> Result<(u64, Vec<Resource>), StoreError> {
    conn.execute_batch("BEGIN").map_err(map_err)?;
    let result = (|| {
        let revision = queries::head_revision(conn)?;
        let mut resources = Vec::new();
        let mut servers = conn
            .prepare_cached("SELECT body FROM source_servers WHERE account_id = ?1 ORDER BY id")
            .map_err(map_err)?;
        for body in servers
            .query_map([account.as_str()], |row| row.get::<_, String>(0))
            .map_err(map_err)?
        {
            let body = body.map_err(map_err)?;
            let server: SourceServer = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("source server in snapshot: {e}")))?;
            resources.push(Resource::SourceServer(server));
        }
        let mut jobs = conn
            .prepare_cached("SELECT body FROM replication_jobs WHERE account_id = ?1 ORDER BY id")
            .map_err(map_err)?;
        for body in jobs
            .query_map([account.as_str()], |row| row.get::<_, String>(0))
            .map_err(map_err)?
        {
            let body = body.map_err(map_err)?;
            let job: ReplicationJob = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("replication job in snapshot: {e}")))?;
            resources.push(Resource::ReplicationJob(job));
        }
        Ok((revision, resources))
    })();
    conn.execute_batch("COMMIT").map_err(map_err)?;
    result
}

/// The oldest revision a watcher can still start from.
pub(super) fn oldest_revision(conn: &Connection) -> Result<u64, StoreError> {
    let compacted: i64 = conn
        .prepare_cached("SELECT compacted_through FROM event_log")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(map_err)?;
    Ok(u64::try_from(compacted).unwrap_or(0) + 1)
}

/// Deletes the oldest events beyond `keep_count`, and those older than
/// `older_than`; returns how many were deleted.
pub(super) fn compact(
    conn: &mut Connection,
    keep_count: u64,
    older_than: Option<Timestamp>,
) -> Result<u64, StoreError> {
    let head = i64::try_from(queries::head_revision(conn)?).unwrap_or(i64::MAX);
    let by_count = head.saturating_sub(i64::try_from(keep_count).unwrap_or(i64::MAX));
    let by_age: i64 = match older_than {
        Some(cutoff) => conn
            .query_row(
                "SELECT COALESCE(MAX(revision), 0) FROM events WHERE time < ?1",
                [cutoff.0],
                |row| row.get(0),
            )
            .map_err(map_err)?,
        None => 0,
    };
    let through = by_count.max(by_age);
    let mut deleted = 0u64;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_err)?;
        let current: i64 = tx
            .query_row("SELECT compacted_through FROM event_log", [], |row| {
                row.get(0)
            })
            .map_err(map_err)?;
        if current >= through {
            return Ok(deleted);
        }
        let step = through.min(current.saturating_add(COMPACTION_BATCH));
        let count = tx
            .execute("DELETE FROM events WHERE revision <= ?1", params![step])
            .map_err(map_err)?;
        tx.execute("UPDATE event_log SET compacted_through = ?1", params![step])
            .map_err(map_err)?;
        tx.commit().map_err(map_err)?;
        deleted += count as u64;
    }
}

/// Pending follow-up tasks past `now` not yet flagged overdue, oldest
/// deadline first: (account, server, task).
pub(super) fn overdue_follow_up_tasks(
    conn: &Connection,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(AccountId, SourceServerId, FollowUpTaskId)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT account_id, source_server_id, task_id FROM follow_up_tasks
             WHERE state = 'PENDING' AND deadline <= ?1 AND overdue = 0 ORDER BY deadline LIMIT ?2",
        )
        .map_err(map_err)?;
    let rows = stmt
        .query_map(
            params![now.0, i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
        )
        .map_err(map_err)?;
    let corrupt = |e: DomainError| StoreError::Corrupt(format!("follow-up task row: {e}"));
    rows.map(|row| {
        let (account, server, task) = row.map_err(map_err)?;
        Ok((
            AccountId::parse("account_id", &account).map_err(corrupt)?,
            SourceServerId::parse("source_server_id", &server).map_err(corrupt)?,
            FollowUpTaskId::parse("task_id", &task).map_err(corrupt)?,
        ))
    })
    .collect()
}

/// (pending, overdue among them) follow-up tasks.
pub(super) fn follow_up_task_counts(conn: &Connection) -> Result<(u64, u64), StoreError> {
    let (pending, overdue): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(overdue), 0) FROM follow_up_tasks WHERE state = 'PENDING'",
        )
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(map_err)?;
    Ok((
        u64::try_from(pending).unwrap_or(0),
        u64::try_from(overdue).unwrap_or(0),
    ))
}
