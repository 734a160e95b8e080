//! grpc-web over plain HTTP/1.1, as browsers send it: a unary call with
//! its error, and a lifecycle watch streaming events as they are committed.

use std::time::Duration;

use cutover::pb::v1::{GetSourceServerRequest, WatchLifecycleEventsRequest};
use cutover_testkit::*;
use prost::Message;

#[tokio::test]
async fn grpc_web_clients_are_served_over_http1() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut client = server.servers().await;
    let id = register(&mut client).await;
    let request = GetSourceServerRequest {
        source_server_id: id.clone(),
    }
    .encode_to_vec();
    let response = grpc_web_call(
        &server.addr,
        "/cutover.v1.SourceServerService/GetSourceServer",
        &request,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/grpc-web"),
        "{response}"
    );
    assert!(response.contains(&id), "the server message is in the body");
    assert!(
        response.contains("grpc-status:0"),
        "trailers travel in the body: {response}"
    );

    let missing = GetSourceServerRequest {
        source_server_id: "s-00000000000000000".into(),
    }
    .encode_to_vec();
    let response = grpc_web_call(
        &server.addr,
        "/cutover.v1.SourceServerService/GetSourceServer",
        &missing,
    );
    assert!(
        response.contains("grpc-status: 5") || response.contains("grpc-status:5"),
        "{response}"
    );
}

#[tokio::test]
async fn a_grpc_web_watch_streams_events_as_they_are_committed() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut client = server.servers().await;
    let first = register(&mut client).await;
    let request = WatchLifecycleEventsRequest {
        start_revision: 1,
        ..Default::default()
    }
    .encode_to_vec();
    let (head, body) = grpc_web_request(
        "/cutover.v1.LifecycleService/WatchLifecycleEvents",
        &request,
    );
    let mut stream = open_http1(&server.addr, &head, &body);
    let mut received = Vec::new();
    read_until_contains(&mut stream, &mut received, &first, Duration::from_secs(10));
    let head = String::from_utf8_lossy(&received).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/grpc-web"),
        "{head}"
    );
    // Still open: an event committed now arrives on the same response.
    let second = register(&mut client).await;
    read_until_contains(&mut stream, &mut received, &second, Duration::from_secs(10));
    assert!(
        !String::from_utf8_lossy(&received).contains("grpc-status"),
        "the watch has not ended"
    );
}
