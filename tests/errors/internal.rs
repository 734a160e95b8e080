//! Failures of the store: unreadable stored data is an InternalError
//! (INTERNAL) that leaks nothing, a locked store one that says retrying
//! helps (UNAVAILABLE); either way the server goes on serving.

use tonic::{Code, Status};

use crate::{
    api::{Api, Call},
    support::{error_metadata, expect_error, expect_not_found, TestServer},
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
async fn unreadable_stored_data_is_an_internal_error_and_the_server_keeps_serving() {
    let server = TestServer::start(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let broken = api.new_server().await;
    let changed = open_store(&server)
        .execute(
            "UPDATE source_servers SET body = 'not json' WHERE id = ?1",
            [&broken],
        )
        .expect("corrupt the row");
    assert_eq!(changed, 1);

    // Reading it, listing it, mutating it.
    for call in [Call::GetServer, Call::DescribeServers, Call::Disconnect] {
        expect_internal(api.refused(call, &broken).await, Code::Internal);
    }

    // The server is still up and serves everything else.
    let fresh = api.new_server().await;
    assert_eq!(api.server(&fresh).await.source_server_id, fresh);
    api.ok(Call::Disconnect, &fresh).await;
    let status = api.refused(Call::GetServer, UNKNOWN_SERVER).await;
    expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    let status = api.refused(Call::GetServer, &broken).await;
    expect_internal(status, Code::Internal);
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
