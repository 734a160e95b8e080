//! The [`Store`] conformance suite, tested against every backend: each test is an
//! `async fn(Arc<dyn Store>)`, and [`conformance_tests!`] runs it once on a
//! fresh SQLite file and once on a fresh PostgreSQL database (of the
//! throwaway cluster `scripts/test` starts).

mod event_log;
mod reads;
mod writes;

use std::{collections::HashSet, sync::Arc, time::Duration};

use crate::domain::{
    AccountId, BusinessStatus, FollowUpTask, FollowUpTaskId, FollowUpTaskKind, LifeCycleState,
    Millis, ReplicationJob, ReplicationJobId, ReplicationJobStatus, ReplicationType, Resource,
    SourceServer, SourceServerId, Timestamp,
};
use crate::store::fixtures::*;
use crate::store::{
    Entry, IdempotencyRecord, Outcome, PostgresOptions, PostgresStore, ReplicationJobFilter,
    ServerEntry, SourceServerFilter, SqliteStore, Store, StoreError, Versioned, WriteBatch,
};

/// Runs each named conformance test on both backends.
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (_dir, store) = crate::store::conformance::sqlite();
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::store::conformance::postgres().await).await;
                }
            )*
        }
    };
}
use conformance_tests;

/// A store on a fresh SQLite file, with the directory that holds it.
pub(crate) fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/cutover.db")).expect("open store");
    (dir, Arc::new(store))
}

/// The URL of a fresh database on the test cluster.
pub(crate) async fn fresh_postgres_database() -> String {
    let dir = std::env::var("CUTOVER_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "no test PostgreSQL: run `scripts/test`, which starts a throwaway cluster and sets \
             CUTOVER_TEST_POSTGRES, instead of a bare `cargo test`"
        )
    });
    let (client, connection) = tokio_postgres::connect(
        &format!("host={dir} user=postgres dbname=postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .expect("connect to the test cluster");
    tokio::spawn(connection);
    let name = format!("c_{:016x}", rand::random::<u64>());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a database");
    format!("host={dir} user=postgres dbname={name}")
}

/// A store on a fresh PostgreSQL database.
pub(crate) async fn postgres() -> Arc<dyn Store> {
    Arc::new(open_postgres(fresh_postgres_database().await).await)
}

/// Another replica's store on the database at `url`.
pub(crate) async fn open_postgres(url: String) -> PostgresStore {
    PostgresStore::open(PostgresOptions {
        url,
        poll_interval: Duration::from_millis(50),
    })
    .await
    .expect("open the PostgreSQL store")
}

/// A source server as the store's read model holds it.
pub(crate) fn stored_server(
    store: &dyn Store,
    account: &AccountId,
    id: &SourceServerId,
) -> Option<Versioned<SourceServer>> {
    let entry = store.read_model().source_server(account, id)?;
    Some(entry.server.map(|server| SourceServer::clone(&server)))
}

/// A replication job as the store's read model holds it.
pub(crate) fn stored_job(
    store: &dyn Store,
    account: &AccountId,
    id: &ReplicationJobId,
) -> Option<Versioned<ReplicationJob>> {
    let entry = store.read_model().replication_job(account, id)?;
    Some(entry.map(|job| ReplicationJob::clone(&job)))
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}
