//! Failures of the store: an unreadable stored event is an InternalError
//! (INTERNAL) that leaks nothing, a locked store one that says retrying
//! helps (UNAVAILABLE), and either way the server goes on serving; an
//! unreadable stored resource stops the start with a clear error (reads
//! come from memory, loaded at start) and leaves the file as it was.

use tonic::{Code, Status};

use cutover_testkit::{
    error_metadata, expect_error, expect_not_found, open_watch, watch_from, TestServer, DEADLINE,
};

use super::{
    api::{Api, Call},
    NO_SIMULATOR, UNKNOWN_SERVER,
};

const INTERNAL_MESSAGE: &str = "An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.";

/// An InternalError with `code` that says nothing about its cause.
fn expect_internal(status: Status, code: Code) {
    let status = expect_error(status, code, "InternalError");
    assert_eq!(status.message(), INTERNAL_MESSAGE);
    assert!(!status.message().contains("json"), "no internals leak");
    assert_eq!(error_metadata(&status)["httpStatus"], "500");
}

/// The server's database, opened by another process (this test).
fn open_store(server: &TestServer) -> rusqlite::Connection {
    let db =
        rusqlite::Connection::open(server.data_dir.join("cutover.db")).expect("open cutover.db");
    db.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    db
}

#[tokio::test]
async fn an_unreadable_event_is_an_internal_error_and_the_server_keeps_serving() {
    let server = TestServer::start(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let id = api.new_server().await;
    let changed = open_store(&server)
        .execute("UPDATE log SET body = X'0aff'", [])
        .expect("corrupt the log");
    assert!(changed >= 1);

    // Resuming a watch reads the stored log: it ends with InternalError.
    let mut lifecycle = server.lifecycle().await;
    let mut stream = open_watch(&mut lifecycle, watch_from(1)).await;
    let status = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("an answer before the deadline")
        .expect_err("the watch fails");
    // A stream's error travels in its trailers, without the request id
    // metadata of a unary call's headers.
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert_eq!(status.message(), INTERNAL_MESSAGE);

    // Reads come from memory and go on; so do writes.
    assert_eq!(api.server(&id).await.source_server_id, id);
    api.ok(Call::Disconnect, &id).await;
    let status = api.refused(Call::GetServer, UNKNOWN_SERVER).await;
    expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
}

#[tokio::test]
async fn an_unreadable_resource_stops_the_start_and_the_file_is_left_as_it_was() {
    let mut server = TestServer::start(NO_SIMULATOR);
    let api = Api::new(&server).await;
    api.new_server().await;
    server.stop();
    let db = server.data_dir.join("cutover.db");
    rusqlite::Connection::open(&db)
        .expect("open cutover.db")
        .execute("UPDATE servers SET body = X'0aff'", [])
        .expect("corrupt the row");
    let before = std::fs::read(&db).expect("read the file");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cutoverd"))
        .args(["--listen", "127.0.0.1:0", "--no-simulator", "--data-dir"])
        .arg(&server.data_dir)
        .output()
        .expect("run cutoverd");
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert_eq!(std::fs::read(&db).expect("read the file"), before);
}

#[tokio::test]
async fn a_locked_store_is_unavailable_and_the_server_recovers() {
    let server = TestServer::start(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let id = api.new_server().await;

    // Another process holds the database's write lock for longer than the
    // server waits: a write fails with a status that says retrying helps.
    let db = open_store(&server);
    db.execute_batch("BEGIN EXCLUSIVE")
        .expect("take the write lock");
    expect_internal(api.refused(Call::Register, "").await, Code::Unavailable);
    db.execute_batch("ROLLBACK")
        .expect("release the write lock");
    drop(db);

    // Once the lock is gone the same call succeeds.
    let fresh = api.new_server().await;
    assert_ne!(fresh, id);
    assert_eq!(
        api.list_servers(&[]).await.len(),
        2,
        "the failed write left nothing behind"
    );
}
