//! The PostgreSQL store: several `cutoverd` replicas on one database.
//!
//! - **One revision order.** Each replica's committer writes its queued
//!   batches in one transaction (group commit, [`committer`]) and bumps the
//!   revision counter row near the end of it: the row lock orders commits,
//!   so revisions are gap-free and in commit order, and every snapshot sees
//!   a contiguous prefix of the log.
//! - **Every replica sees every event.** A log reader per replica
//!   ([`log_reader`]) follows the shared log into its read model and so to
//!   its watchers; local commits wake it in memory, other replicas' through
//!   LISTEN/NOTIFY, with a fallback poll. Commits are never published
//!   straight to watchers: local and remote events take the same path.
//! - **Read-your-writes.** A commit returns once this replica's read model
//!   applied it; a conflict returns once the read model shows the write it
//!   lost to, so the caller decides again on fresh state.
//! - **Leases with fencing** for background duties ([`crate::store::Fence`]):
//!   a fenced batch commits only while its lease row, locked in the same
//!   transaction, carries its fence.

mod committer;
mod group;
mod log_reader;
mod queries;
mod schema;
mod statements;
#[cfg(test)]
mod tests;
mod upgrade;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::{sync::oneshot, task::JoinHandle};
use tokio_postgres::NoTls;

use crate::domain::{AccountId, LifecycleEvent, SourceServerId, Timestamp};
use crate::store::{
    not_applied, Fence, IdempotencyRecord, LeaseName, ReadModel, Store, StoreError, WriteBatch,
    APPLY_WAIT,
};
use committer::Committer;

/// Connections of a replica's pool: the committer, the log reader, and
/// the reads the read model does not serve.
const POOL_SIZE: usize = 16;

/// How long a call waits for a connection (or to open one) before the
/// database counts as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a replica reaches and follows the database.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// A libpq connection string or `postgres://` URL.
    pub url: String,
    /// How often the log is polled when no notification came: the bound
    /// on how late another replica's commit is seen if a notification is
    /// lost (the listening connection dropped).
    pub poll_interval: Duration,
}

/// The PostgreSQL implementation of [`Store`]. Cheap to clone.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

struct Inner {
    pool: Pool,
    model: Arc<ReadModel>,
    committer: Committer,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Maps a PostgreSQL error: integrity violations are conflicts, data
/// corruption is corrupt data, everything else (connection lost, server
/// shutting down, deadlock, ...) is unavailability a retry may cure.
pub(super) fn map_err(err: tokio_postgres::Error) -> StoreError {
    // The error's own Display says only "db error"; the server's message
    // is in the DbError.
    let (code, message) = match err.as_db_error() {
        Some(db) => (Some(db.code().code()), db.to_string()),
        None => (None, err.to_string()),
    };
    match code {
        Some(code) if code.starts_with("23") => StoreError::Conflict(message),
        Some("XX001" | "XX002") => StoreError::Corrupt(message),
        // disk_full: nothing was written; space must be freed.
        Some("53100") => StoreError::Full(format!("PostgreSQL: {message}")),
        _ => StoreError::Unavailable(format!("PostgreSQL: {message}")),
    }
}

fn pool_err(err: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL: {err}"))
}

impl PostgresStore {
    /// Connects to the database at `options.url`, applies pending schema
    /// migrations, loads the read model and starts following the log.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is invalid, the database
    /// cannot be reached, a migration fails or the database was written by
    /// a newer build; [`StoreError::Corrupt`] when a stored row is not what
    /// this build can read.
    pub async fn open(options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let config = tokio_postgres::Config::from_str(&options.url)
            .map_err(|err| StoreError::Unavailable(format!("invalid PostgreSQL URL: {err}")))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|err| StoreError::Unavailable(format!("PostgreSQL pool: {err}")))?;
        {
            let mut client = pool.get().await.map_err(pool_err)?;
            schema::migrate(&mut client).await?;
        }
        let (head, resources) = queries::load(&pool).await?;
        let model = Arc::new(ReadModel::load(head, resources));
        let (reader, (committed, answers, wake)) = log_reader::LogReader::new(
            pool.clone(),
            config,
            Arc::clone(&model),
            options.poll_interval,
        );
        let (committer, committer_tasks) = Committer::start(pool.clone(), committed, answers, wake);
        let mut tasks = reader.start();
        tasks.extend(committer_tasks);
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                model,
                committer,
                tasks,
            }),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_err)
    }

    /// Returns `value` once the read model applied `revision` if there is
    /// a value: what was found in the tables (a client token's record, an
    /// agent's server) is never ahead of the resources the caller then
    /// reads from the model. Nothing found needs no wait.
    async fn once_applied<T>(
        &self,
        value: Option<T>,
        revision: u64,
    ) -> Result<Option<T>, StoreError> {
        if value.is_none() || self.inner.model.until_applied(revision, APPLY_WAIT).await {
            return Ok(value);
        }
        Err(not_applied(revision))
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn read_model(&self) -> &ReadModel {
        &self.inner.model
    }

    async fn initialize_account(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        queries::initialize_account(&self.client().await?, account, now).await
    }

    async fn is_account_initialized(&self, account: &AccountId) -> Result<bool, StoreError> {
        queries::is_account_initialized(&self.client().await?, account).await
    }

    async fn idempotency_record(
        &self,
        account: &AccountId,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let (record, head) =
            queries::idempotency_record(&self.client().await?, account, token).await?;
        self.once_applied(record, head).await
    }

    async fn agent_instance(
        &self,
        account: &AccountId,
        instance_id: &str,
    ) -> Result<Option<SourceServerId>, StoreError> {
        let (server, head) =
            queries::agent_instance(&self.client().await?, account, instance_id).await?;
        self.once_applied(server, head).await
    }

    async fn commit(&self, batch: WriteBatch) -> Result<u64, StoreError> {
        self.inner.committer.commit(batch).await
    }

    async fn events_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<LifecycleEvent>, StoreError> {
        queries::events_between(&self.client().await?, from, None, limit).await
    }

    async fn oldest_revision(&self) -> Result<u64, StoreError> {
        queries::oldest_revision(&self.client().await?).await
    }

    async fn compact_events(
        &self,
        keep_count: u64,
        older_than: Option<Timestamp>,
        fence: Option<Fence>,
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        queries::compact_events(&mut client, keep_count, older_than, fence).await
    }

    async fn forget_client_tokens(
        &self,
        older_than: Timestamp,
        fence: Option<Fence>,
    ) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        queries::forget_client_tokens(&mut client, older_than, fence).await
    }

    async fn hold_lease(
        &self,
        name: LeaseName,
        owner: &str,
        held: Option<u64>,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        queries::hold_lease(&self.client().await?, name, owner, held, ttl).await
    }

    async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let fresh: [u8; 32] = rand::random();
        queries::secret(&self.client().await?, name, &fresh).await
    }
}

/// The channel other replicas' log readers listen on.
const CHANNEL: &str = "cutover_log";

/// A committer's answer to a caller, given once the read model applied
/// `through`: the caller then reads its own write, or, for a conflict, the
/// write it lost to.
struct Answer {
    pub through: u64,
    pub result: Result<u64, StoreError>,
    pub reply: oneshot::Sender<Result<u64, StoreError>>,
}
