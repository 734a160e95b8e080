//! The sequential driver of lifecycle transitions, and one whole run: the
//! watchers' readers plus the drive.

use std::time::{Duration, Instant};

use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, DisconnectFromServiceRequest,
    LifecycleEventType, MarkAsArchivedRequest, RegisterSourceServerRequest,
};
use tokio_util::sync::CancellationToken;
use tonic::{codec::Streaming, transport::Channel};

use crate::fanout::{
    args::Args,
    watchers::{read_watch, Received, WatchMessage},
    BoxError,
};

/// How long after the drive the watchers may take to receive everything.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(120);

/// What the driver did.
pub(crate) struct Drive {
    /// Instant just before call k was issued.
    pub(crate) sent_at: Vec<Instant>,
    /// `(resource id, event type)` call k must produce.
    pub(crate) expected: Vec<(String, i32)>,
    /// When the last call returned.
    pub(crate) finished: Instant,
}

/// M sequential calls, each one event: per server, register, disconnect,
/// archive (all valid without an agent).
async fn drive(
    client: &mut SourceServerServiceClient<Channel>,
    transitions: usize,
    pace: Duration,
) -> Result<Drive, BoxError> {
    let mut sent_at = Vec::with_capacity(transitions);
    let mut expected = Vec::with_capacity(transitions);
    let mut server_id = String::new();
    for k in 0..transitions {
        if k > 0 && !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
        sent_at.push(Instant::now());
        match k % 3 {
            0 => {
                server_id = client
                    .register_source_server(RegisterSourceServerRequest::default())
                    .await?
                    .into_inner()
                    .source_server_id;
                expected.push((
                    server_id.clone(),
                    LifecycleEventType::SourceServerRegistered as i32,
                ));
            }
            1 => {
                client
                    .disconnect_from_service(DisconnectFromServiceRequest {
                        source_server_id: server_id.clone(),
                        client_token: String::new(),
                    })
                    .await?;
                expected.push((
                    server_id.clone(),
                    LifecycleEventType::LifeCycleStateChanged as i32,
                ));
            }
            _ => {
                client
                    .mark_as_archived(MarkAsArchivedRequest {
                        source_server_id: server_id.clone(),
                        client_token: String::new(),
                    })
                    .await?;
                expected.push((
                    server_id.clone(),
                    LifecycleEventType::SourceServerArchived as i32,
                ));
            }
        }
    }
    Ok(Drive {
        sent_at,
        expected,
        finished: Instant::now(),
    })
}

/// Spawns one reader task per stream, drives the transitions, and waits
/// for the readers.
pub(crate) async fn drive_and_collect<M: WatchMessage>(
    streams: Vec<Streaming<M>>,
    driver: &mut SourceServerServiceClient<Channel>,
    args: &Args,
) -> Result<(Drive, Vec<Received>), BoxError> {
    let stop = CancellationToken::new();
    let readers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(w, stream)| {
            // A token per reader: polling one shared token would have every
            // reader take the same lock per event, as the server once did.
            let stop = stop.child_token();
            tokio::spawn(read_watch(stream, args.transitions, w == 0, stop))
        })
        .collect();
    // Let every reader reach its first wait before the first call.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let run = drive(driver, args.transitions, args.pace).await?;
    let give_up = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DELIVERY_DEADLINE).await;
            stop.cancel();
        })
    };
    let mut received = Vec::with_capacity(readers.len());
    for reader in readers {
        received.push(reader.await?);
    }
    give_up.abort();
    Ok((run, received))
}
