//! PostgreSQL for the tests: the throwaway cluster `scripts/test` starts
//! (its socket directory in `CUTOVER_TEST_POSTGRES`), with a database per
//! test made with `psql`, or a cluster of a test's own when the test stops
//! and starts the database server.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    process::Command,
};

/// Where the cluster's binaries are.
const PGBIN: &str = "/usr/lib/postgresql/15/bin";

/// The shared cluster's socket directory.
pub fn postgres_dir() -> PathBuf {
    std::env::var_os("CUTOVER_TEST_POSTGRES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "no test PostgreSQL: run `scripts/test`, which starts a throwaway cluster and \
                 sets CUTOVER_TEST_POSTGRES, instead of a bare `cargo test`"
            )
        })
}

/// True when the suite runs every `TestServer` on PostgreSQL
/// (`CUTOVER_TEST_STORE=postgres`) instead of SQLite.
pub fn servers_use_postgres() -> bool {
    std::env::var("CUTOVER_TEST_STORE").is_ok_and(|store| store == "postgres")
}

/// Runs SQL on `database` of the cluster at `dir`; returns psql's
/// unaligned output, or its error.
fn try_psql(dir: &Path, database: &str, sql: &str) -> Result<String, String> {
    let output = Command::new(Path::new(PGBIN).join("psql"))
        .arg("-h")
        .arg(dir)
        .args(["-U", "postgres", "-d", database, "-qAt", "-c", sql])
        .output()
        .expect("run psql");
    match output.status.success() {
        true => Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

fn psql(dir: &Path, database: &str, sql: &str) -> String {
    try_psql(dir, database, sql).unwrap_or_else(|err| panic!("psql {sql:?} failed: {err}"))
}

/// A database of a test cluster.
#[derive(Debug, Clone)]
pub struct Database {
    dir: PathBuf,
    /// Its name.
    pub name: String,
    /// What `--database-url` takes.
    pub url: String,
}

impl Database {
    /// A fresh database on the shared cluster, for replicas to share.
    pub fn fresh() -> Database {
        let dir = tempfile::TempDir::new().expect("temp dir");
        Database::named_after(dir.path())
    }

    /// The database of the shared cluster named after `key` (a data
    /// directory: restarts on the same directory find the same database),
    /// created if missing.
    pub fn named_after(key: &Path) -> Database {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        Database::create(&postgres_dir(), &format!("t_{:016x}", hasher.finish()))
    }

    fn create(dir: &Path, name: &str) -> Database {
        let exists = psql(
            dir,
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        );
        if exists.is_empty() {
            psql(dir, "postgres", &format!("CREATE DATABASE {name}"));
        }
        Database {
            dir: dir.to_owned(),
            name: name.to_owned(),
            url: format!("host={} user=postgres dbname={name}", dir.display()),
        }
    }

    /// Runs SQL on this database; returns psql's unaligned output.
    pub fn query(&self, sql: &str) -> String {
        psql(&self.dir, &self.name, sql)
    }

    /// [`Database::query`], or `None` when it fails (say, before the
    /// schema exists).
    pub fn try_query(&self, sql: &str) -> Option<String> {
        try_psql(&self.dir, &self.name, sql).ok()
    }
}

/// The URL of the database for a server on `data_dir`.
pub fn database_for(data_dir: &Path) -> String {
    Database::named_after(data_dir).url
}

/// A cluster of one test's own, for tests that stop and start the
/// database server; deleted on drop.
pub struct OwnCluster {
    dir: PathBuf,
}

/// The repository's `scripts/postgres`, which starts, pauses, resumes and
/// stops throwaway clusters.
pub fn postgres_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres")
}

fn cluster_script(args: &[&str]) -> String {
    let output = Command::new(postgres_script())
        .args(args)
        .output()
        .expect("run scripts/postgres");
    assert!(
        output.status.success(),
        "scripts/postgres {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

impl OwnCluster {
    /// A new cluster.
    pub fn start() -> OwnCluster {
        OwnCluster {
            dir: PathBuf::from(cluster_script(&["start"])),
        }
    }

    /// A new database on it.
    pub fn database(&self) -> Database {
        Database::create(&self.dir, "replicas")
    }

    /// Stops the database server (fast shutdown), keeping its data.
    pub fn pause(&self) {
        cluster_script(&["pause", &self.dir.to_string_lossy()]);
    }

    /// Starts it again.
    pub fn resume(&self) {
        cluster_script(&["resume", &self.dir.to_string_lossy()]);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        cluster_script(&["stop", &self.dir.to_string_lossy()]);
    }
}
