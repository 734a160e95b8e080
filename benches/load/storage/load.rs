//! The load generator, the same for the echo server and cutoverd: a lean
//! HTTP/2 client on `h2` (no tonic, no tower, no per-call decoding) that
//! sends prebuilt gRPC frames over C connections x M concurrent streams,
//! like `h2load -c C -m M`, and counts the calls that complete in the
//! measured window by grpc-status, with their latency.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use http::{header, HeaderMap, Method, Request, Uri};
use tokio::net::TcpStream;

use crate::storage::BoxError;

/// A grpc-status for calls whose response had none (an HTTP-level error).
pub(crate) const NO_GRPC_STATUS: i32 = -1;

/// The request of each call: one frame repeated, or a frame per call.
pub(crate) struct Frames {
    frames: Vec<Bytes>,
    /// Calls that may be made; `None`: as many as time allows.
    limit: Option<usize>,
    taken: AtomicUsize,
}

impl Frames {
    /// The same request for every call, as many as time allows.
    pub(crate) fn repeat(frame: Bytes) -> Frames {
        Frames {
            frames: vec![frame],
            limit: None,
            taken: AtomicUsize::new(0),
        }
    }

    /// The same request for `calls` calls at most.
    pub(crate) fn repeat_n(frame: Bytes, calls: usize) -> Frames {
        Frames {
            limit: Some(calls),
            ..Frames::repeat(frame)
        }
    }

    /// One call per frame (each names a distinct prepared resource).
    pub(crate) fn each(frames: Vec<Bytes>) -> Frames {
        Frames {
            limit: Some(frames.len()),
            frames,
            taken: AtomicUsize::new(0),
        }
    }

    /// The next call's frame; `None` once the limit is reached.
    fn next(&self) -> Option<Bytes> {
        let call = self.taken.fetch_add(1, Ordering::Relaxed);
        if self.limit.is_some_and(|limit| call >= limit) {
            return None;
        }
        self.frames.get(call % self.frames.len().max(1)).cloned()
    }

    /// Frames handed out so far.
    pub(crate) fn taken(&self) -> usize {
        let taken = self.taken.load(Ordering::Relaxed);
        self.limit.map_or(taken, |limit| taken.min(limit))
    }
}

/// A message as a gRPC length-prefixed frame (uncompressed).
pub(crate) fn grpc_frame(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut frame = BytesMut::with_capacity(5 + len);
    frame.put_u8(0);
    // A request is far below 4 GiB; u32::MAX would be refused by the server.
    frame.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message.encode_raw(&mut frame);
    frame.freeze()
}

/// Shape and timing of one load phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// HTTP/2 connections.
    pub(crate) connections: usize,
    /// Concurrent streams per connection.
    pub(crate) streams: usize,
    /// Calls completing before this are not counted.
    pub(crate) warmup: Duration,
    /// Length of the measured window, after the warm-up.
    pub(crate) duration: Duration,
}

/// What one load phase measured.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Calls completed in the window, by grpc-status code.
    pub(crate) statuses: BTreeMap<i32, u64>,
    /// Latency of the OK calls in the window, microseconds, sorted.
    pub(crate) latencies_us: Vec<u32>,
    /// The measured window: from the end of the warm-up to its planned end
    /// or, if the frames ran out, to the last completion before it.
    pub(crate) window: Duration,
    /// The frames ran out during the warm-up, so the window is the whole
    /// phase, warm-up included.
    pub(crate) warmup_counted: bool,
    /// Frames handed out, warm-up included.
    pub(crate) issued: usize,
    /// OK calls in all, warm-up and stragglers after the window included:
    /// the resources a creating phase left in the store.
    pub(crate) ok_in_all: u64,
    /// When the frames ran out, from the start of the phase.
    pub(crate) ran_out: Option<Duration>,
    /// Connection-level errors (each ends its stream's loop).
    pub(crate) errors: Vec<String>,
}

impl Outcome {
    /// OK calls in the window.
    pub(crate) fn ok(&self) -> u64 {
        self.statuses.get(&0).copied().unwrap_or(0)
    }

    /// OK calls per second of the window.
    pub(crate) fn rate(&self) -> f64 {
        self.ok() as f64 / self.window.as_secs_f64().max(1e-9)
    }
}

/// One completed call.
struct Call {
    done: Instant,
    code: i32,
    latency_us: u32,
}

/// What one stream's loop saw.
#[derive(Default)]
struct Tally {
    calls: Vec<Call>,
    ran_out: Option<Instant>,
    error: Option<String>,
}

/// Runs one phase: `plan.connections` x `plan.streams` closed loops, each
/// sending its next frame as soon as its previous call completed, until
/// the window ends or the frames run out.
pub(crate) async fn run(
    addr: SocketAddr,
    path: &str,
    frames: Arc<Frames>,
    plan: Plan,
) -> Result<Outcome, BoxError> {
    let uri: Uri = format!("http://{addr}{path}").parse()?;
    let mut senders = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        senders.push(connect(addr).await?);
    }
    let start = Instant::now();
    let measured_from = start + plan.warmup;
    let end = measured_from + plan.duration;
    let mut loops = Vec::with_capacity(plan.connections * plan.streams);
    for sender in &senders {
        for _ in 0..plan.streams {
            let frames = Arc::clone(&frames);
            loops.push(tokio::spawn(call_loop(
                sender.clone(),
                uri.clone(),
                frames,
                end,
            )));
        }
    }
    drop(senders);
    let mut outcome = Outcome::default();
    let mut calls = Vec::new();
    let mut ran_out: Option<Instant> = None;
    for handle in loops {
        let tally = handle.await?;
        calls.extend(tally.calls);
        if let Some(at) = tally.ran_out {
            ran_out = Some(ran_out.map_or(at, |first| first.min(at)));
        }
        outcome.errors.extend(tally.error);
    }
    // The window starts after the warm-up and ends as planned or, if the
    // frames ran out, at the last completion. Frames that ran out during
    // the warm-up leave no window after it: the whole phase counts then.
    let last = calls.iter().map(|call| call.done).max().unwrap_or(start);
    let from = match ran_out {
        Some(at) if at <= measured_from => start,
        _ => measured_from,
    };
    let until = if ran_out.is_some() {
        last.min(end)
    } else {
        end
    };
    outcome.window = until.saturating_duration_since(from);
    outcome.warmup_counted = from == start && !plan.warmup.is_zero();
    for call in &calls {
        if call.code == 0 {
            outcome.ok_in_all += 1;
        }
        if call.done < from || call.done > until {
            continue;
        }
        *outcome.statuses.entry(call.code).or_default() += 1;
        if call.code == 0 {
            outcome.latencies_us.push(call.latency_us);
        }
    }
    outcome.latencies_us.sort_unstable();
    outcome.issued = frames.taken();
    outcome.ran_out = ran_out.map(|at| at.saturating_duration_since(start));
    Ok(outcome)
}

/// One HTTP/2 connection, its driver spawned. Windows larger than the
/// 64 KiB default so responses never wait for a WINDOW_UPDATE.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Bytes>, BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, connection) = h2::client::Builder::new()
        .initial_window_size(1 << 20)
        .initial_connection_window_size(1 << 24)
        .handshake::<_, Bytes>(tcp)
        .await?;
    tokio::spawn(async move {
        // Ends when every sender is dropped, or with the server's close.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sequential calls on one stream slot until `end` or the frames run out.
async fn call_loop(
    mut sender: SendRequest<Bytes>,
    uri: Uri,
    frames: Arc<Frames>,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < end {
        let Some(frame) = frames.next() else {
            tally.ran_out = Some(Instant::now());
            break;
        };
        let started = Instant::now();
        match call(sender, &uri, frame).await {
            Ok((code, ready)) => {
                sender = ready;
                let done = Instant::now();
                let micros = done.duration_since(started).as_micros();
                tally.calls.push(Call {
                    done,
                    code,
                    latency_us: u32::try_from(micros).unwrap_or(u32::MAX),
                });
            }
            Err(err) => {
                tally.error = Some(err.to_string());
                break;
            }
        }
    }
    tally
}

/// One unary call: waits for a stream slot, sends the headers and the
/// frame, reads the response to its trailers. Returns the grpc-status and
/// the sender for the next call.
async fn call(
    sender: SendRequest<Bytes>,
    uri: &Uri,
    frame: Bytes,
) -> Result<(i32, SendRequest<Bytes>), BoxError> {
    let mut sender = sender.ready().await?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .header(header::CONTENT_TYPE, "application/grpc")
        .header(header::TE, "trailers")
        .body(())?;
    let (response, mut body) = sender.send_request(request, false)?;
    body.send_data(frame, true)?;
    Ok((read_response(response).await?, sender))
}

/// The grpc-status of a response: from its headers (a trailers-only
/// response, as errors usually are) or its trailers.
async fn read_response(response: ResponseFuture) -> Result<i32, h2::Error> {
    let (parts, mut body) = response.await?.into_parts();
    if let Some(code) = grpc_status(&parts.headers) {
        return Ok(code);
    }
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body.trailers().await?;
    Ok(trailers
        .as_ref()
        .and_then(grpc_status)
        .unwrap_or(NO_GRPC_STATUS))
}

fn grpc_status(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}
