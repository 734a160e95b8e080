//! Storage: the database, and this replica's leases on background duties.

use std::{path::PathBuf, time::Duration};

use clap::Args;

use crate::store::PostgresOptions;

/// Options of the database and the leases.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Storage")]
pub struct StorageArgs {
    /// Directory of the embedded SQLite database (unused with
    /// --database-url).
    #[arg(long, env = "CUTOVER_DATA_DIR", default_value = "./cutover-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL database shared by several replicas (`postgres://...`
    /// URL or libpq `key=value` string) instead of the embedded SQLite one.
    #[arg(long, env = "CUTOVER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// This replica's name in the leases of background duties (default:
    /// host name, process id and a random suffix).
    #[arg(long, env = "CUTOVER_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// Milliseconds a replica's lease on a background duty (scheduler,
    /// compaction, built-in simulator) lasts unless renewed: how long its
    /// duties wait for another replica after it dies.
    #[arg(long, env = "CUTOVER_LEASE_TTL_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(300..))]
    pub lease_ttl_ms: u64,
    /// Milliseconds between polls of the shared log when no notification
    /// came (PostgreSQL only): the bound on how late another replica's
    /// commit is seen when a notification is lost.
    #[arg(long, env = "CUTOVER_LOG_POLL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..))]
    pub log_poll_ms: u64,
}

/// Which database the service keeps its state in.
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded SQLite database, in this directory.
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// PostgreSQL, shared by several replicas.
    Shared(PostgresOptions),
}

/// This replica's claim on background duties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leases {
    /// The replica's name in the leases.
    pub replica_id: String,
    /// How long a lease lasts unless renewed.
    pub ttl: Duration,
}

/// The storage section's settings.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The database.
    pub database: Database,
    /// The leases on background duties.
    pub leases: Leases,
}

impl StorageArgs {
    /// The typed settings of this section; without `--replica-id`, a name
    /// unique to this process.
    pub fn settings(&self) -> Storage {
        let database = match &self.database_url {
            Some(url) => Database::Shared(PostgresOptions {
                url: url.clone(),
                poll_interval: Duration::from_millis(self.log_poll_ms),
            }),
            None => Database::Embedded {
                data_dir: self.data_dir.clone(),
            },
        };
        Storage {
            database,
            leases: Leases {
                replica_id: self.replica_id.clone().unwrap_or_else(default_replica_id),
                ttl: Duration::from_millis(self.lease_ttl_ms),
            },
        }
    }
}

/// A name for this replica in the leases, unique per process.
fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "cutoverd".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

    use super::Database;
    use crate::config::Config;

    #[test]
    fn the_embedded_database_and_a_process_unique_replica_by_default() {
        let storage = Config::from_args(&[]).expect("no flags").storage.settings();
        match storage.database {
            Database::Embedded { data_dir } => assert_eq!(data_dir, Path::new("./cutover-data")),
            Database::Shared(_) => panic!("PostgreSQL without --database-url"),
        }
        assert_eq!(storage.leases.ttl, Duration::from_millis(15_000));
        let pid = format!("-{}-", std::process::id());
        assert!(
            storage.leases.replica_id.contains(&pid),
            "{:?}",
            storage.leases
        );
        let again = Config::from_args(&[]).expect("no flags").storage.settings();
        assert_ne!(again.leases.replica_id, storage.leases.replica_id);
    }

    #[test]
    fn a_database_url_shares_postgresql_polled_at_the_given_pace() {
        let storage = Config::from_args(&[
            "--database-url",
            "postgres://db/cutover",
            "--log-poll-ms",
            "10",
            "--replica-id",
            "r1",
            "--lease-ttl-ms",
            "300",
        ])
        .expect("valid flags")
        .storage
        .settings();
        match storage.database {
            Database::Shared(options) => {
                assert_eq!(options.url, "postgres://db/cutover");
                assert_eq!(options.poll_interval, Duration::from_millis(10));
            }
            Database::Embedded { .. } => panic!("SQLite with --database-url"),
        }
        assert_eq!(storage.leases.replica_id, "r1");
        assert_eq!(storage.leases.ttl, Duration::from_millis(300));
    }

    #[test]
    fn leases_and_polls_below_their_floors_are_refused() {
        for args in [["--lease-ttl-ms", "299"], ["--log-poll-ms", "9"]] {
            let err = Config::from_args(&args).expect_err("below the floor");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
        }
    }
}
