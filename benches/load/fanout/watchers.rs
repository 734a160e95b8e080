//! Watch streams: the slim and full decodings, opening watches over a set
//! of connections, and reading one watcher's events.

use std::time::{Duration, Instant};

use cutover::pb::v1::{WatchLifecycleEventsRequest, WatchLifecycleEventsResponse};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{codec::Streaming, transport::Channel};

use crate::fanout::{args::Args, BoxError};

/// gRPC path of the watch.
const WATCH_PATH: &str = "/cutover.v1.LifecycleService/WatchLifecycleEvents";
/// How long one watch may take to open before the open phase counts as
/// stalled (e.g. a per-connection stream limit was reached).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The three fields of a `WatchLifecycleEventsResponse` the benchmark
/// reads: decoding only these keeps the client's share of the two cores
/// small (prost skips the rest of the message without allocating).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SlimResponse {
    /// `kind.event`; snapshots, snapshot ends and bookmarks decode as `None`.
    #[prost(message, optional, tag = "1")]
    event: Option<SlimEvent>,
}

/// The parts of a `LifecycleEvent` the benchmark checks.
#[derive(Clone, PartialEq, prost::Message)]
struct SlimEvent {
    #[prost(uint64, tag = "1")]
    revision: u64,
    #[prost(string, tag = "5")]
    resource_id: String,
    #[prost(int32, tag = "6")]
    event_type: i32,
}

/// A watch message the benchmark can read an event from.
pub(crate) trait WatchMessage: prost::Message + Default + Send + Sync + 'static {
    /// `(revision, resource id, event type)` of an event message.
    fn event(self) -> Option<(u64, String, i32)>;
}

impl WatchMessage for SlimResponse {
    fn event(self) -> Option<(u64, String, i32)> {
        self.event
            .map(|e| (e.revision, e.resource_id, e.event_type))
    }
}

impl WatchMessage for WatchLifecycleEventsResponse {
    fn event(self) -> Option<(u64, String, i32)> {
        use cutover::pb::v1::watch_lifecycle_events_response::Kind;
        match self.kind? {
            Kind::Event(e) => Some((e.revision, e.resource_id, e.event_type)),
            _ => None,
        }
    }
}

/// Opens one watch from now on, unfiltered; returns once the response
/// headers arrived, i.e. the server registered the watcher.
async fn open_watch<M: WatchMessage>(channel: Channel) -> Result<Streaming<M>, BoxError> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await?;
    let request = tonic::Request::new(WatchLifecycleEventsRequest {
        start_revision: 0,
        ..Default::default()
    });
    let codec = tonic_prost::ProstCodec::<WatchLifecycleEventsRequest, M>::default();
    let response = grpc
        .server_streaming(
            request,
            http::uri::PathAndQuery::from_static(WATCH_PATH),
            codec,
        )
        .await?;
    Ok(response.into_inner())
}

/// What one watcher received.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// `(revision, receive instant)` per event, in arrival order.
    pub(crate) events: Vec<(u64, Instant)>,
    /// `(resource id, event type)` per event, kept by the checking watcher.
    pub(crate) details: Option<Vec<(String, i32)>>,
    /// Why the stream ended early, if it did.
    pub(crate) error: Option<String>,
}

/// Reads events until `expected` arrived, the stream ended or `stop`.
pub(crate) async fn read_watch<M: WatchMessage>(
    mut stream: Streaming<M>,
    expected: usize,
    keep_details: bool,
    stop: CancellationToken,
) -> Received {
    let mut received = Received {
        events: Vec::with_capacity(expected),
        details: keep_details.then(|| Vec::with_capacity(expected)),
        error: None,
    };
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    while received.events.len() < expected {
        let message = tokio::select! {
            biased;
            message = stream.message() => message,
            () = &mut stopped => {
                received.error = Some("gave up waiting".to_owned());
                break;
            }
        };
        match message {
            Ok(Some(message)) => {
                let at = Instant::now();
                if let Some((revision, id, event_type)) = message.event() {
                    received.events.push((revision, at));
                    if let Some(details) = &mut received.details {
                        details.push((id, event_type));
                    }
                }
            }
            Ok(None) => {
                received.error = Some("stream ended".to_owned());
                break;
            }
            Err(status) => {
                received.error = Some(format!("{:?}: {}", status.code(), status.message()));
                break;
            }
        }
    }
    received
}

/// Opens `count` watches spread round-robin over `channels`, at most
/// `concurrency` at a time. Returns the streams in watcher order, or how
/// many each connection managed before opening stalled.
pub(crate) async fn open_watches<M: WatchMessage>(
    channels: &[Channel],
    count: usize,
    concurrency: usize,
    timeout: Duration,
) -> Result<Vec<Streaming<M>>, (Vec<usize>, String)> {
    let results: Vec<(usize, Result<Streaming<M>, String>)> =
        futures_util::stream::iter((0..count).map(|i| {
            let channel = channels[i % channels.len()].clone();
            async move {
                let opened = match tokio::time::timeout(timeout, open_watch::<M>(channel)).await {
                    Ok(Ok(stream)) => Ok(stream),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err(format!("not open after {timeout:?}")),
                };
                (i, opened)
            }
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut per_connection = vec![0; channels.len()];
    let mut streams: Vec<Option<Streaming<M>>> = (0..count).map(|_| None).collect();
    let mut first_error = None;
    for (i, opened) in results {
        match opened {
            Ok(stream) => {
                per_connection[i % channels.len()] += 1;
                streams[i] = Some(stream);
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        None => Ok(streams.into_iter().flatten().collect()),
        Some(err) => Err((per_connection, err)),
    }
}

/// Streams of either decoding.
pub(crate) enum Streams {
    Slim(Vec<Streaming<SlimResponse>>),
    Full(Vec<Streaming<WatchLifecycleEventsResponse>>),
}

/// Opens `count` watches with the decoding `args` asks for; fails with the
/// observed per-connection counts if opening stalls.
pub(crate) async fn open_with(
    args: &Args,
    channels: &[Channel],
    count: usize,
) -> Result<Streams, BoxError> {
    fn stalled(channels: &[Channel], per_connection: &[usize], err: &str) -> BoxError {
        let most = per_connection.iter().max().copied().unwrap_or(0);
        let least = per_connection.iter().min().copied().unwrap_or(0);
        format!(
            "opening watchers stalled ({err}): {} opened, {least}..{most} per connection over {} \
             connections; the server likely limits concurrent streams per connection to about \
             {most}: use more --connections",
            per_connection.iter().sum::<usize>(),
            channels.len()
        )
        .into()
    }
    if args.full_decode {
        open_watches::<WatchLifecycleEventsResponse>(
            channels,
            count,
            args.open_concurrency,
            OPEN_TIMEOUT,
        )
        .await
        .map(Streams::Full)
        .map_err(|(per, err)| stalled(channels, &per, &err))
    } else {
        open_watches::<SlimResponse>(channels, count, args.open_concurrency, OPEN_TIMEOUT)
            .await
            .map(Streams::Slim)
            .map_err(|(per, err)| stalled(channels, &per, &err))
    }
}
