//! Connection limits: a connection carries at most the configured number of
//! concurrent streams; calls beyond it wait, while other connections are
//! served.

use std::time::Duration;

use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient,
    source_server_service_client::SourceServerServiceClient, GetSourceServerRequest,
    WatchLifecycleEventsRequest,
};
use cutover_testkit::*;
use tonic::{Code, Request};

#[tokio::test]
async fn streams_beyond_the_per_connection_limit_wait_for_a_free_slot() {
    let server = TestServer::in_process(&["--no-simulator", "--max-concurrent-streams", "2"]);
    let mut servers = server.servers().await;
    let id = register(&mut servers).await;

    let busy = server.channel().await;
    let mut watches = Vec::new();
    for _ in 0..2 {
        let mut lifecycle = LifecycleServiceClient::new(busy.clone());
        watches.push(
            lifecycle
                .watch_lifecycle_events(WatchLifecycleEventsRequest::default())
                .await
                .expect("watch")
                .into_inner(),
        );
    }
    let mut request = Request::new(GetSourceServerRequest {
        source_server_id: id.clone(),
    });
    request.set_timeout(Duration::from_millis(300));
    let waited = SourceServerServiceClient::new(busy.clone())
        .get_source_server(request)
        .await
        .expect_err("no stream slot is free on this connection");
    assert!(
        matches!(waited.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{waited:?}"
    );

    // Another connection is served at once.
    assert_eq!(get_server(&mut servers, &id).await.source_server_id, id);
    // And a freed slot serves the waiting connection again.
    watches.pop();
    let served = eventually(DEADLINE, "a slot to free up", || {
        let busy = busy.clone();
        let id = id.clone();
        async move {
            let mut request = Request::new(GetSourceServerRequest {
                source_server_id: id,
            });
            request.set_timeout(Duration::from_millis(500));
            SourceServerServiceClient::new(busy)
                .get_source_server(request)
                .await
                .ok()
        }
    })
    .await;
    assert_eq!(served.into_inner().source_server_id, id);
}
