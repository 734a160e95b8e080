//! The event log beyond appends: the oldest retained revision, and
//! compaction, one bounded step at a time so it never holds the writer
//! connection for long.

use rusqlite::{params, Connection, TransactionBehavior};

use super::{map_err, queries};
use crate::{domain::Timestamp, store::StoreError};

/// Most events deleted per transaction.
const COMPACTION_BATCH: i64 = 10_000;

/// The oldest revision a watcher can still start from.
pub(super) fn oldest_revision(conn: &Connection) -> Result<u64, StoreError> {
    let compacted: i64 = conn
        .prepare_cached("SELECT compacted_through FROM event_log")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(map_err)?;
    Ok(u64::try_from(compacted).unwrap_or(0) + 1)
}

/// The revision through which the log should be compacted so that at most
/// `keep_count` events remain and none is older than `older_than`.
pub(super) fn compaction_target(
    conn: &Connection,
    keep_count: u64,
    older_than: Option<Timestamp>,
) -> Result<i64, StoreError> {
    let head = i64::try_from(queries::head_revision(conn)?).unwrap_or(i64::MAX);
    let by_count = head.saturating_sub(i64::try_from(keep_count).unwrap_or(i64::MAX));
    let by_age: i64 = match older_than {
        Some(cutoff) => conn
            .query_row(
                "SELECT COALESCE(MAX(revision), 0) FROM log WHERE time < ?1",
                [cutoff.0],
                |row| row.get(0),
            )
            .map_err(map_err)?,
        None => 0,
    };
    Ok(by_count.max(by_age))
}

/// Deletes at most one batch of events at or before `through`; returns how
/// many were deleted and the oldest revision left, `None` once nothing
/// more is to be deleted.
pub(super) fn compact_step(
    conn: &mut Connection,
    through: i64,
) -> Result<Option<(u64, u64)>, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let current: i64 = tx
        .query_row("SELECT compacted_through FROM event_log", [], |row| {
            row.get(0)
        })
        .map_err(map_err)?;
    if current >= through {
        return Ok(None);
    }
    let step = through.min(current.saturating_add(COMPACTION_BATCH));
    let deleted = tx
        .execute("DELETE FROM log WHERE revision <= ?1", params![step])
        .map_err(map_err)?;
    tx.execute("UPDATE event_log SET compacted_through = ?1", params![step])
        .map_err(map_err)?;
    tx.commit().map_err(map_err)?;
    Ok(Some((deleted as u64, u64::try_from(step).unwrap_or(0) + 1)))
}
