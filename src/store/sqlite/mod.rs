//! The embedded SQLite store, the default [`Store`].
//!
//! One database file in WAL mode with `synchronous=FULL`: a commit that
//! returned is fsynced and survives a crash of the process or the machine.
//! One writer connection, behind a mutex, runs every commit as `BEGIN
//! IMMEDIATE … COMMIT` and publishes the committed events while it still
//! holds the mutex, so subscribers see them in revision order. Reads use a
//! small pool of other connections and never wait for the writer. All
//! SQLite calls run on tokio's blocking thread pool.

mod event_log;
mod queries;
mod schema;
#[cfg(test)]
mod tests;
mod write;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};
use tokio::sync::broadcast;

use crate::domain::{
    AccountId, FollowUpTaskId, LifecycleEvent, ReplicationJob, ReplicationJobId, Resource,
    SourceServer, SourceServerId, Timestamp,
};
use crate::store::{
    IdempotencyRecord, ReplicationJobFilter, SharedEvent, SourceServerFilter, Store, StoreError,
    Versioned, WriteBatch,
};

/// Capacity of the channel committed events are published on; a
/// subscriber further behind than this sees `Lagged` and must catch up
/// from [`Store::events_from`].
const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// Reader connections kept open between reads; more are opened on demand
/// and closed after use.
const MAX_IDLE_READERS: usize = 8;

/// The SQLite implementation of [`Store`]. Cheap to clone; clones share
/// the connections and the event channel.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    events: broadcast::Sender<Arc<SharedEvent>>,
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the
    /// database at `path`, and applies pending schema migrations. Blocks:
    /// call it at start-up, or from a blocking context.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the file cannot be created or
    /// opened, cannot use WAL, or a migration fails, or when the database
    /// was migrated by a newer build; [`StoreError::Corrupt`] when the file
    /// is not a database.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| {
                StoreError::Unavailable(format!(
                    "cannot create directory {}: {err}",
                    parent.display()
                ))
            })?;
        }
        let mut writer = schema::connect(path)?;
        schema::migrate(&mut writer)?;
        let reader = open_reader(path)?;
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(vec![reader]),
                events,
            }),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection, on the blocking thread pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.with_reader(f))
            .await
            .map_err(join_error)?
    }

    /// Runs `f` on the writer connection, on the blocking thread pool.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &broadcast::Sender<Arc<SharedEvent>>) -> Result<T, StoreError>
            + Send
            + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut writer = inner.writer.lock().map_err(|_| {
                StoreError::Unavailable("the writer connection is poisoned".to_owned())
            })?;
            f(&mut writer, &inner.events)
        })
        .await
        .map_err(join_error)?
    }
}

impl Inner {
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.lock_readers()?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = f(&conn);
        // A connection that failed to reach the database is not reused.
        if !matches!(result, Err(StoreError::Unavailable(_))) {
            let mut readers = self.lock_readers()?;
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
        }
        result
    }

    fn lock_readers(&self) -> Result<std::sync::MutexGuard<'_, Vec<Connection>>, StoreError> {
        self.readers
            .lock()
            .map_err(|_| StoreError::Unavailable("the reader pool is poisoned".to_owned()))
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = schema::connect(path)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(map_err)?;
    Ok(conn)
}

fn join_error(err: tokio::task::JoinError) -> StoreError {
    StoreError::Unavailable(format!("store task failed: {err}"))
}

/// Maps a SQLite error: constraint violations are conflicts, corruption
/// and undecodable columns are corrupt data, and everything else (busy,
/// locked, I/O, ...) is unavailability a retry may cure.
pub(super) fn map_err(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(e, _) => match e.code {
            ErrorCode::ConstraintViolation => StoreError::Conflict(err.to_string()),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Unavailable(err.to_string()),
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::Utf8Error(_) => StoreError::Corrupt(err.to_string()),
        _ => StoreError::Unavailable(err.to_string()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn initialize_account(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let account = account.clone();
        self.write(move |conn, _| write::initialize_account(conn, &account, now))
            .await
    }

    async fn is_account_initialized(&self, account: &AccountId) -> Result<bool, StoreError> {
        let account = account.clone();
        self.read(move |conn| queries::is_account_initialized(conn, &account))
            .await
    }

    async fn source_server(
        &self,
        account: &AccountId,
        id: &SourceServerId,
    ) -> Result<Option<Versioned<SourceServer>>, StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.read(move |conn| queries::source_server(conn, &account, &id))
            .await
    }

    async fn replication_job(
        &self,
        account: &AccountId,
        id: &ReplicationJobId,
    ) -> Result<Option<Versioned<ReplicationJob>>, StoreError> {
        let (account, id) = (account.clone(), id.clone());
        self.read(move |conn| queries::replication_job(conn, &account, &id))
            .await
    }

    async fn list_source_servers(
        &self,
        account: &AccountId,
        filter: &SourceServerFilter,
        after: Option<&SourceServerId>,
        limit: usize,
    ) -> Result<Vec<SourceServer>, StoreError> {
        let (account, filter, after) = (account.clone(), filter.clone(), after.cloned());
        self.read(move |conn| {
            queries::list_source_servers(conn, &account, &filter, after.as_ref(), limit)
        })
        .await
    }

    async fn list_replication_jobs(
        &self,
        account: &AccountId,
        filter: &ReplicationJobFilter,
        after: Option<&ReplicationJobId>,
        limit: usize,
    ) -> Result<Vec<ReplicationJob>, StoreError> {
        let (account, filter, after) = (account.clone(), filter.clone(), after.cloned());
        self.read(move |conn| {
            queries::list_replication_jobs(conn, &account, &filter, after.as_ref(), limit)
        })
        .await
    }

    async fn sources_with_running_jobs(
        &self,
        account: &AccountId,
        sources: &[SourceServerId],
    ) -> Result<HashSet<SourceServerId>, StoreError> {
        if sources.is_empty() {
            return Ok(HashSet::new());
        }
        let (account, sources) = (account.clone(), sources.to_vec());
        self.read(move |conn| queries::sources_with_running_jobs(conn, &account, &sources))
            .await
    }

    async fn active_source_servers(
        &self,
        limit: usize,
    ) -> Result<Vec<Versioned<SourceServer>>, StoreError> {
        self.read(move |conn| queries::active_source_servers(conn, limit))
            .await
    }

    async fn active_replication_jobs(
        &self,
        limit: usize,
    ) -> Result<Vec<Versioned<ReplicationJob>>, StoreError> {
        self.read(move |conn| queries::active_replication_jobs(conn, limit))
            .await
    }

    async fn idempotency_record(
        &self,
        account: &AccountId,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let (account, token) = (account.clone(), token.to_owned());
        self.read(move |conn| queries::idempotency_record(conn, &account, &token))
            .await
    }

    async fn commit(&self, batch: WriteBatch) -> Result<Vec<LifecycleEvent>, StoreError> {
        self.write(move |conn, events| {
            let committed = write::commit(conn, batch)?;
            // Still under the writer lock: publication order is commit order.
            for event in &committed {
                // No receivers is not an error.
                let _ = events.send(Arc::new(SharedEvent::new(event.clone())));
            }
            Ok(committed)
        })
        .await
    }

    async fn events_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        self.read(move |conn| queries::events_from(conn, from, limit))
            .await
    }

    async fn head_revision(&self) -> Result<u64, StoreError> {
        self.read(queries::head_revision).await
    }

    async fn snapshot(&self, account: &AccountId) -> Result<(u64, Vec<Resource>), StoreError> {
        let account = account.clone();
        self.read(move |conn| event_log::snapshot(conn, &account))
            .await
    }

    async fn overdue_follow_up_tasks(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(AccountId, SourceServerId, FollowUpTaskId)>, StoreError> {
        self.read(move |conn| event_log::overdue_follow_up_tasks(conn, now, limit))
            .await
    }

    async fn follow_up_task_counts(&self) -> Result<(u64, u64), StoreError> {
        self.read(event_log::follow_up_task_counts).await
    }

    async fn oldest_revision(&self) -> Result<u64, StoreError> {
        self.read(event_log::oldest_revision).await
    }

    async fn compact_events(
        &self,
        keep_count: u64,
        older_than: Option<Timestamp>,
    ) -> Result<u64, StoreError> {
        self.write(move |conn, _| event_log::compact(conn, keep_count, older_than))
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<SharedEvent>> {
        self.inner.events.subscribe()
    }

    async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let name = name.to_owned();
        let lookup = name.clone();
        if let Some(value) = self
            .read(move |conn| queries::secret(conn, &lookup))
            .await?
        {
            return Ok(value);
        }
        let fresh: [u8; 32] = rand::random();
        self.write(move |conn, _| write::create_secret(conn, &name, &fresh))
            .await
    }
}
