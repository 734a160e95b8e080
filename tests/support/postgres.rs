//! The throwaway PostgreSQL cluster `scripts/test` starts (its socket
//! directory in `CUTOVER_TEST_POSTGRES`): a database per test, made with
//! `psql`, and the URL `cutoverd --database-url` takes.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    process::Command,
};

/// Where the cluster's binaries are.
const PGBIN: &str = "/usr/lib/postgresql/15/bin";

/// The cluster's socket directory.
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

/// Runs SQL on the cluster's `postgres` database.
pub fn psql(database: &str, sql: &str) -> String {
    let output = Command::new(Path::new(PGBIN).join("psql"))
        .arg("-h")
        .arg(postgres_dir())
        .args(["-U", "postgres", "-d", database, "-qAt", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The URL of a database named after `key` (a data directory: restarts on
/// the same directory find the same database), created if missing.
pub fn database_for(key: &Path) -> String {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    let name = format!("t_{:016x}", hasher.finish());
    let exists = psql(
        "postgres",
        &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
    );
    if exists.is_empty() {
        psql("postgres", &format!("CREATE DATABASE {name}"));
    }
    database_url(&name)
}

/// The URL of database `name` on the cluster.
pub fn database_url(name: &str) -> String {
    format!(
        "host={} user=postgres dbname={name}",
        postgres_dir().display()
    )
}

/// A fresh database, for replicas to share.
pub fn fresh_database() -> String {
    let dir = tempfile::TempDir::new().expect("temp dir");
    database_for(dir.path())
}
