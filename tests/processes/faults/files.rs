//! A database the service must not open: truncated, corrupt, from a newer
//! release, or on a read-only file system. Each stops the start with a
//! clear error and leaves the file exactly as it was.

use std::{path::Path, process::Command};

use cutover_testkit::*;

use super::mount::Tmpfs;

const NO_SIMULATOR: &[&str] = &["--no-simulator"];

/// A data directory holding a database with a few servers, closed cleanly.
async fn database_in(dir: &Path) -> std::path::PathBuf {
    let mut server = TestServer::start_in(dir, NO_SIMULATOR);
    let mut client = server.servers().await;
    for _ in 0..20 {
        register(&mut client).await;
    }
    server.stop();
    dir.join("cutover.db")
}

/// Starts `cutoverd` on `dir`: it must fail, print something containing
/// one of `needles`, and leave the database file byte for byte as it was.
fn refuses_to_start(dir: &Path, needles: &[&str]) {
    let db = dir.join("cutover.db");
    let before = std::fs::read(&db).expect("read the database");
    let output = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
        .args(["--listen", "127.0.0.1:0", "--no-simulator", "--data-dir"])
        .arg(dir)
        .output()
        .expect("run cutoverd");
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{}", stderr.trim());
    assert!(!output.status.success(), "cutoverd started: {stderr}");
    assert!(
        needles.iter().any(|n| stderr.contains(n)),
        "none of {needles:?} in {stderr}"
    );
    assert!(
        std::fs::read(&db).expect("read the database") == before,
        "the database file changed"
    );
}

#[tokio::test]
async fn a_truncated_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let db = database_in(dir.path()).await;
    let length = std::fs::metadata(&db).expect("size").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .expect("open");
    file.set_len(length / 2).expect("truncate");
    refuses_to_start(dir.path(), &["malformed", "corrupt", "not a database"]);
}

#[tokio::test]
async fn a_corrupt_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let db = database_in(dir.path()).await;
    let mut bytes = std::fs::read(&db).expect("read");
    // Past the header and the schema page: the tables' pages.
    for byte in bytes.iter_mut().skip(4096).take(8192) {
        *byte = 0xA5;
    }
    std::fs::write(&db, bytes).expect("write");
    refuses_to_start(dir.path(), &["malformed", "corrupt", "not a database"]);
}

#[tokio::test]
async fn a_database_from_a_newer_release_is_refused_and_left_as_it_was() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let db = database_in(dir.path()).await;
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        [],
    )
    .expect("a future migration");
    conn.execute("UPDATE storage_format SET version = 99", [])
        .expect("a future format");
    drop(conn);
    refuses_to_start(dir.path(), &["newer"]);
}

#[tokio::test]
async fn a_read_only_data_directory_is_refused_and_left_as_it_was() {
    let disk = Tmpfs::mount("16m");
    let dir = disk.path().join("data");
    database_in(&dir).await;
    disk.set_read_only(true);
    refuses_to_start(&dir, &["read-only", "readonly", "Read-only"]);
    disk.set_read_only(false);
}
