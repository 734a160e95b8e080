//! The embedded SQLite store, the default [`Store`].
//!
//! One database file in WAL mode with `synchronous=FULL`: a commit that
//! returned is fsynced and survives a crash of the process or the machine.
//! Resources and events are stored in the binary format of
//! [`crate::store::codec`]. One committer thread owns the writer
//! connection and commits the queued batches in groups ([`committer`]);
//! the read model is loaded from the tables at start-up and then kept by
//! the committer, so reads never touch the database. The log, client tokens
//! and secrets are read from a small pool of reader connections on tokio's
//! blocking pool. A lock file next to the database keeps a second process
//! from opening it: the read model must see every write.

mod checkpointer;
mod committer;
mod event_log;
mod queries;
mod schema;
#[cfg(test)]
mod tests;
mod upgrade;
mod write;

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};

use crate::domain::{AccountId, LifecycleEvent, SourceServerId, Timestamp};
use crate::store::{
    codec, not_applied, Fence, IdempotencyRecord, LeaseName, ReadModel, Store, StoreError,
    WriteBatch, APPLY_WAIT,
};
use checkpointer::Checkpointer;
use committer::Committer;

/// Reader connections kept open between reads; more are opened on demand
/// and closed after use.
const MAX_IDLE_READERS: usize = 8;

/// Page cache of the writer connection, in KiB. Pages it misses are read
/// from the operating system's cache; a larger one (64 MiB) cost more than
/// it saved: SQLite walks the whole cache at the end of each transaction
/// (`pcache1TruncateUnsafe`, 12% of the committer's time in a profile).
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// The SQLite implementation of [`Store`]. Cheap to clone; clones share
/// the connections and the read model.
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

// Fields drop in order: the committer (and with it the writer connection)
// before the lock that keeps other processes out.
struct Inner {
    committer: Committer,
    _checkpointer: Checkpointer,
    readers: Mutex<Vec<Connection>>,
    model: Arc<ReadModel>,
    /// The oldest revision the log still holds.
    oldest: AtomicU64,
    path: PathBuf,
    _lock: File,
}

/// Rows handed from the loader thread to the read model at a time: one
/// hand-off per row made loading slower than doing it all on one thread.
const LOAD_CHUNK: usize = 1024;

/// The read model of the database at `path`, whose last revision is
/// `head`. One thread reads and decodes the rows while this one indexes
/// them.
fn load(path: &Path, head: u64) -> Result<ReadModel, StoreError> {
    std::thread::scope(|scope| {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
        let reader = scope.spawn(move || {
            let conn = open_reader(path)?;
            let mut chunk = Vec::with_capacity(LOAD_CHUNK);
            queries::stored_resources(&conn, |resource| {
                chunk.push(resource);
                chunk.len() < LOAD_CHUNK
                    || chunks
                        .send(std::mem::replace(
                            &mut chunk,
                            Vec::with_capacity(LOAD_CHUNK),
                        ))
                        .is_ok()
            })?;
            // The read model stops at the first chunk it misses: a failed
            // send means it is gone, and so is the need to send.
            let _ = chunks.send(chunk);
            Ok::<_, StoreError>(())
        });
        let model = ReadModel::load(head, received.into_iter().flatten());
        reader
            .join()
            .map_err(|_| StoreError::Unavailable("the loader thread failed".to_owned()))??;
        Ok(model)
    })
}

/// Takes the lock file of the database at `path`.
fn lock(path: &Path) -> Result<File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|err| {
            StoreError::Unavailable(format!(
                "cannot create the lock file {}: {err}",
                Path::new(&name).display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "{} is in use by another cutoverd process",
            path.display()
        ))),
        Err(TryLockError::Error(err)) => Err(StoreError::Unavailable(format!(
            "cannot lock {}: {err}",
            path.display()
        ))),
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the
    /// database at `path`, applies pending schema migrations (upgrading a
    /// JSON database of an earlier release) and loads the read model.
    /// Blocks: call it at start-up, or from a blocking context.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the file cannot be created, opened
    /// or locked (another process uses it), cannot use WAL, or a migration
    /// fails, or when the database was written by a newer build;
    /// [`StoreError::Corrupt`] when the file or a stored row is not what
    /// this build can read.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| {
                StoreError::Unavailable(format!(
                    "cannot create directory {}: {err}",
                    parent.display()
                ))
            })?;
        }
        let lock = lock(path)?;
        let mut writer = schema::connect(path)?;
        writer
            .pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(map_err)?;
        schema::migrate(&mut writer)?;
        // The checkpointer does most of it, off the committer's path.
        writer
            .pragma_update(
                None,
                "wal_autocheckpoint",
                checkpointer::WRITER_CHECKPOINT_PAGES,
            )
            .map_err(map_err)?;
        let format = queries::storage_format(&writer)?;
        if format > codec::FORMAT_VERSION {
            return Err(StoreError::Unavailable(format!(
                "{} is in storage format {format}, newer than this build reads ({})",
                path.display(),
                codec::FORMAT_VERSION
            )));
        }
        let head = queries::head_revision(&writer)?;
        let oldest = event_log::oldest_revision(&writer)?;
        let model = Arc::new(load(path, head)?);
        let reader = open_reader(path)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                committer: Committer::start(writer, head, Arc::clone(&model))?,
                _checkpointer: Checkpointer::start(path)?,
                readers: Mutex::new(vec![reader]),
                model,
                oldest: AtomicU64::new(oldest),
                path: path.to_owned(),
                _lock: lock,
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
            .map_err(|err| StoreError::Unavailable(format!("store task failed: {err}")))?
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

/// Maps a SQLite error: constraint violations are conflicts, corruption
/// and undecodable columns are corrupt data, a full disk is said as such,
/// and everything else (busy, locked, I/O, ...) is unavailability a retry
/// may cure.
pub(super) fn map_err(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(e, _) => match e.code {
            ErrorCode::ConstraintViolation => StoreError::Conflict(err.to_string()),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt(err.to_string())
            }
            ErrorCode::DiskFull => StoreError::Full(err.to_string()),
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
    fn read_model(&self) -> &ReadModel {
        &self.inner.model
    }

    async fn initialize_account(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let account = account.clone();
        self.inner
            .committer
            .run(move |conn| write::initialize_account(conn, &account, now))
            .await
    }

    async fn is_account_initialized(&self, account: &AccountId) -> Result<bool, StoreError> {
        let account = account.clone();
        self.read(move |conn| queries::is_account_initialized(conn, &account))
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

    async fn agent_instance(
        &self,
        account: &AccountId,
        instance_id: &str,
    ) -> Result<Option<SourceServerId>, StoreError> {
        let (account, instance_id) = (account.clone(), instance_id.to_owned());
        let bound = self
            .read(move |conn| {
                let server = queries::agent_instance(conn, &account, &instance_id)?;
                // Read after the binding: at least the revision that bound it.
                Ok(server.map(|server| (server, queries::head_revision(conn))))
            })
            .await?;
        let Some((server, head)) = bound else {
            return Ok(None);
        };
        let head = head?;
        match self.read_model().until_applied(head, APPLY_WAIT).await {
            true => Ok(Some(server)),
            false => Err(not_applied(head)),
        }
    }

    async fn commit(&self, batch: WriteBatch) -> Result<u64, StoreError> {
        self.inner.committer.commit(batch).await
    }

    async fn events_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        self.read(move |conn| queries::events_from(conn, from, limit))
            .await
    }

    async fn oldest_revision(&self) -> Result<u64, StoreError> {
        Ok(self.inner.oldest.load(Ordering::Acquire))
    }

    async fn compact_events(
        &self,
        keep_count: u64,
        older_than: Option<Timestamp>,
        _fence: Option<Fence>,
    ) -> Result<u64, StoreError> {
        let committer = &self.inner.committer;
        let through = committer
            .run(move |conn| event_log::compaction_target(conn, keep_count, older_than))
            .await?;
        let mut deleted = 0;
        // One step per chore: commits queue between the steps.
        while let Some((count, oldest)) = committer
            .run(move |conn| event_log::compact_step(conn, through))
            .await?
        {
            self.inner.oldest.store(oldest, Ordering::Release);
            deleted += count;
        }
        Ok(deleted)
    }

    async fn forget_client_tokens(
        &self,
        older_than: Timestamp,
        _fence: Option<Fence>,
    ) -> Result<u64, StoreError> {
        // A bounded delete per chore: commits queue between the steps.
        const STEP: i64 = 10_000;
        let mut forgotten = 0;
        loop {
            let deleted = self
                .inner
                .committer
                .run(move |conn| write::forget_client_tokens(conn, older_than, STEP))
                .await?;
            forgotten += deleted;
            if deleted < STEP as u64 {
                return Ok(forgotten);
            }
        }
    }

    /// The lock file keeps every other process out: this one holds every
    /// lease, and fences never change.
    async fn hold_lease(
        &self,
        _name: LeaseName,
        _owner: &str,
        held: Option<u64>,
        _ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        Ok(Some(held.unwrap_or(1)))
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
        self.inner
            .committer
            .run(move |conn| write::create_secret(conn, &name, &fresh))
            .await
    }
}

/// `value` as SQLite's integer, saturating at its largest.
pub(super) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
