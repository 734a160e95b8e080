//! Reading the lifecycle watch: opening it, its next message, events up
//! to a revision, and the head revision a snapshot ends at.

use cutover_proto::v1::{
    lifecycle_service_client::LifecycleServiceClient, watch_lifecycle_events_response::Kind,
    LifecycleEvent, WatchLifecycleEventsRequest, WatchLifecycleEventsResponse,
};
use tonic::{transport::Channel, Streaming};

use crate::{TestServer, DEADLINE};

/// A watch of every event from `start_revision` on.
pub fn watch_from(start_revision: u64) -> WatchLifecycleEventsRequest {
    WatchLifecycleEventsRequest {
        start_revision,
        ..Default::default()
    }
}

/// A watch that starts with a snapshot of every resource.
pub fn watch_snapshot() -> WatchLifecycleEventsRequest {
    WatchLifecycleEventsRequest {
        send_initial_snapshot: true,
        ..Default::default()
    }
}

/// Opens a watch.
pub async fn open_watch(
    client: &mut LifecycleServiceClient<Channel>,
    request: WatchLifecycleEventsRequest,
) -> Streaming<WatchLifecycleEventsResponse> {
    client
        .watch_lifecycle_events(request)
        .await
        .expect("watch")
        .into_inner()
}

/// The next message, within the test deadline.
pub async fn next_message(stream: &mut Streaming<WatchLifecycleEventsResponse>) -> Kind {
    tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("a message before the deadline")
        .expect("stream healthy")
        .expect("stream open")
        .kind
        .expect("kind")
}

/// Reads events until revision `last`, returning them (any other message
/// kind is skipped).
pub async fn events_until(
    stream: &mut Streaming<WatchLifecycleEventsResponse>,
    last: u64,
) -> Vec<LifecycleEvent> {
    let mut events: Vec<LifecycleEvent> = Vec::new();
    while events.last().map_or(0, |e| e.revision) < last {
        if let Kind::Event(event) = next_message(stream).await {
            events.push(event);
        }
    }
    events
}

/// Reads events until revision `last`, returning their revisions.
pub async fn revisions_until(
    stream: &mut Streaming<WatchLifecycleEventsResponse>,
    last: u64,
) -> Vec<u64> {
    events_until(stream, last)
        .await
        .iter()
        .map(|e| e.revision)
        .collect()
}

/// Every event of the log, from revision 1 to `head`, in order.
pub async fn log_until(server: &TestServer, head: u64) -> Vec<LifecycleEvent> {
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(&mut lifecycle, watch_from(1)).await;
    events_until(&mut watch, head).await
}

/// The revision a snapshot of everything ends at: the log's head.
pub async fn snapshot_head(server: &TestServer) -> u64 {
    let mut lifecycle = server.lifecycle().await;
    let mut snapshot = open_watch(&mut lifecycle, watch_snapshot()).await;
    loop {
        if let Kind::SnapshotEnd(end) = next_message(&mut snapshot).await {
            return end.revision;
        }
    }
}
