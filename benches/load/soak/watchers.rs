//! The watchers: WatchLifecycleEvents streams held open all run long,
//! some unfiltered, the others with one of a few filters (by resource
//! type, by event type, by resource ids, some with bookmarks), each read
//! as fast as events come. Each event's lag (its time to its receipt) is
//! recorded; a stream that ends is reopened from the next revision.

use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use cutover::pb::v1::{LifecycleEventType, ResourceType, WatchLifecycleEventsRequest};
use futures_util::StreamExt;
use tonic::{codec::Streaming, transport::Channel, Code};

use crate::soak::{ctx::Ctx, BoxError};

/// gRPC path of the watch.
const WATCH_PATH: &str = "/cutover.v1.LifecycleService/WatchLifecycleEvents";
/// Watches being opened at once.
const OPEN_CONCURRENCY: usize = 64;

/// The fields of a `WatchLifecycleEventsResponse` a watcher reads: the
/// client decodes only these (prost skips the rest without allocating),
/// which keeps 1,000 watchers' share of the two cores small.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SlimResponse {
    /// `kind.event`.
    #[prost(message, optional, tag = "1")]
    event: Option<SlimEvent>,
    /// `kind.bookmark`.
    #[prost(message, optional, tag = "4")]
    bookmark: Option<SlimBookmark>,
}

/// An event's revision and time.
#[derive(Clone, PartialEq, prost::Message)]
struct SlimEvent {
    #[prost(uint64, tag = "1")]
    revision: u64,
    #[prost(message, optional, tag = "2")]
    time: Option<prost_types::Timestamp>,
}

/// A bookmark's revision.
#[derive(Clone, PartialEq, prost::Message)]
struct SlimBookmark {
    #[prost(uint64, tag = "1")]
    revision: u64,
}

/// The request of watcher `index`: the first `unfiltered` watch
/// everything, the others cycle through five filters.
fn request(ctx: &Ctx, index: usize, start_revision: u64) -> WatchLifecycleEventsRequest {
    let types = |types: &[LifecycleEventType]| types.iter().map(|&t| t as i32).collect();
    let bookmarks = Some(prost_types::Duration {
        seconds: 5,
        nanos: 0,
    });
    let mut request = WatchLifecycleEventsRequest {
        start_revision,
        ..Default::default()
    };
    if index < ctx.args.unfiltered {
        return request;
    }
    match index % 5 {
        0 => {
            request.resource_types = vec![ResourceType::ReplicationJob as i32];
            request.progress_interval = bookmarks;
        }
        1 => request.event_types = types(&[LifecycleEventType::LifeCycleStateChanged]),
        2 => {
            request.event_types = types(&[
                LifecycleEventType::FollowUpTaskCompleted,
                LifecycleEventType::FollowUpTaskDelivered,
                LifecycleEventType::FollowUpTaskOverdue,
                LifecycleEventType::SourceServerArchived,
            ]);
            request.progress_interval = bookmarks;
        }
        3 => {
            request.resource_ids = ctx.ids.pool_sample(5);
            request.progress_interval = bookmarks;
        }
        _ => {
            request.resource_types = vec![ResourceType::SourceServer as i32];
            request.event_types = types(&[
                LifecycleEventType::SourceServerRegistered,
                LifecycleEventType::DataReplicationStateChanged,
            ]);
        }
    }
    request
}

/// Opens a watch; returns once the server registered it.
async fn open(
    channel: Channel,
    request: WatchLifecycleEventsRequest,
) -> Result<Streaming<SlimResponse>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<WatchLifecycleEventsRequest, SlimResponse>::default();
    let path = http::uri::PathAndQuery::from_static(WATCH_PATH);
    Ok(grpc
        .server_streaming(tonic::Request::new(request), path, codec)
        .await?
        .into_inner())
}

/// Opens every watcher over `channels` and spawns its reader; returns
/// once all are open.
pub(crate) async fn start(
    ctx: &Arc<Ctx>,
    channels: &[Channel],
) -> Result<Vec<tokio::task::JoinHandle<()>>, BoxError> {
    let opened: Vec<Result<_, BoxError>> =
        futures_util::stream::iter((0..ctx.args.watchers).map(|index| {
            let channel = channels[index % channels.len()].clone();
            let request = request(ctx, index, 0);
            async move {
                let stream = open(channel.clone(), request.clone()).await?;
                Ok((channel, request, stream))
            }
        }))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let mut readers = Vec::with_capacity(opened.len());
    for outcome in opened {
        let (channel, request, stream) = outcome?;
        let ctx = Arc::clone(ctx);
        readers.push(tokio::spawn(read(ctx, channel, request, stream)));
    }
    Ok(readers)
}

/// Reads one watcher's stream until the run stops, reopening it after an
/// error from the revision after the last one seen.
async fn read(
    ctx: Arc<Ctx>,
    channel: Channel,
    request: WatchLifecycleEventsRequest,
    mut stream: Streaming<SlimResponse>,
) {
    let mut last = 0;
    loop {
        let message = tokio::select! {
            () = ctx.stop.cancelled() => return,
            message = stream.message() => message,
        };
        match message {
            Ok(Some(SlimResponse {
                event: Some(event), ..
            })) => {
                last = event.revision;
                ctx.stats.saw(last);
                ctx.stats.deliveries.fetch_add(1, Ordering::Relaxed);
                if let Some(time) = event.time {
                    ctx.stats.lag(lag(&time));
                }
            }
            Ok(Some(SlimResponse {
                bookmark: Some(bookmark),
                ..
            })) => {
                last = bookmark.revision;
                ctx.stats.saw(last);
            }
            Ok(Some(_)) => {}
            outcome => {
                match outcome {
                    Err(status) => ctx.stats.failed("WatchLifecycleEvents", &status),
                    _ => ctx
                        .stats
                        .error("WatchLifecycleEvents: ended", "the stream ended"),
                }
                let Some(reopened) = reopen(&ctx, &channel, &request, &mut last).await else {
                    return;
                };
                stream = reopened;
            }
        }
    }
}

/// Reopens a watch after the last revision seen; from now on if that was
/// compacted. `None` once the run stops.
async fn reopen(
    ctx: &Ctx,
    channel: &Channel,
    request: &WatchLifecycleEventsRequest,
    last: &mut u64,
) -> Option<Streaming<SlimResponse>> {
    let mut backoff = Duration::from_millis(50);
    loop {
        let start = if *last == 0 { 0 } else { *last + 1 };
        let attempt = WatchLifecycleEventsRequest {
            start_revision: start,
            ..request.clone()
        };
        match open(channel.clone(), attempt).await {
            Ok(stream) => return Some(stream),
            Err(status) if status.code() == Code::OutOfRange => *last = 0,
            Err(status) => ctx.stats.failed("WatchLifecycleEvents (reopen)", &status),
        }
        tokio::select! {
            () = ctx.stop.cancelled() => return None,
            () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(Duration::from_secs(2)),
        }
    }
}

/// Now minus an event's time (zero if the clocks disagree).
fn lag(time: &prost_types::Timestamp) -> Duration {
    let event = Duration::new(
        u64::try_from(time.seconds).unwrap_or(0),
        u32::try_from(time.nanos).unwrap_or(0),
    );
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(event)
}
