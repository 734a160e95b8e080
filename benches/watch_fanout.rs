//! Fan-out benchmark of `cutover.v1.LifecycleService/WatchLifecycleEvents`.
//!
//! Starts the release `cutoverd` (no simulator) on a loopback port, opens
//! many idle watchers over a few HTTP/2 connections, measures the server's
//! resident memory per idle watcher, then drives a known sequence of
//! lifecycle transitions from one sequential driver and measures, per
//! delivery, the time from just before the driver issued the call to the
//! moment a watcher received the event. The same drive with a single
//! watcher, run first in the same process, is the baseline the fan-out is
//! compared with. Every watcher must receive every event, in order, with
//! gap-free revisions; the program exits non-zero otherwise.
//!
//! ```text
//! cargo bench --bench watch_fanout -- [--watchers N] [--transitions M] [--connections C]
//!     [--open-concurrency K] [--settle-ms MS] [--pace-ms MS] [--probe-streams P]
//!     [--full-decode]
//! ```
//!
//! This is a program that prints figures, not a timed test: it runs once.

use std::{
    error::Error,
    io::{BufRead, BufReader},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, DisconnectFromServiceRequest,
    LifecycleEventType, MarkAsArchivedRequest, RegisterSourceServerRequest,
    WatchLifecycleEventsRequest, WatchLifecycleEventsResponse,
};
use futures_util::StreamExt;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use tonic::{
    codec::Streaming,
    transport::{Channel, Endpoint},
};

type BoxError = Box<dyn Error + Send + Sync>;

/// gRPC path of the watch.
const WATCH_PATH: &str = "/cutover.v1.LifecycleService/WatchLifecycleEvents";
/// How long one watch may take to open before the open phase counts as
/// stalled (e.g. a per-connection stream limit was reached).
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the probe of the per-connection stream limit waits.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after the drive the watchers may take to receive everything.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- arguments

/// Command-line settings.
#[derive(Debug, Clone)]
struct Args {
    /// Watchers in the fan-out run.
    watchers: usize,
    /// Transitions driven per run (one event each).
    transitions: usize,
    /// HTTP/2 connections the watchers are spread over.
    connections: usize,
    /// Watches being opened at once.
    open_concurrency: usize,
    /// Settle time before each RSS reading.
    settle: Duration,
    /// Pause between two driver calls (0: back to back).
    pace: Duration,
    /// Streams tried on one extra connection to find the server's
    /// per-connection limit (0: skip).
    probe_streams: usize,
    /// Decode the full generated message on the watchers instead of the
    /// three fields the benchmark needs.
    full_decode: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            watchers: 10_000,
            transitions: 200,
            connections: 100,
            open_concurrency: 64,
            settle: Duration::from_secs(2),
            pace: Duration::ZERO,
            probe_streams: 2000,
            full_decode: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                it.next()
                    .ok_or_else(|| format!("{name} needs a value"))?
                    .parse::<usize>()
                    .map_err(|e| format!("{name}: {e}"))
            };
            match flag.as_str() {
                // cargo bench passes --bench to harness = false targets.
                "--bench" => {}
                "--watchers" => args.watchers = number("--watchers")?,
                "--transitions" => args.transitions = number("--transitions")?,
                "--connections" => args.connections = number("--connections")?,
                "--open-concurrency" => args.open_concurrency = number("--open-concurrency")?,
                "--settle-ms" => args.settle = Duration::from_millis(number("--settle-ms")? as u64),
                "--pace-ms" => args.pace = Duration::from_millis(number("--pace-ms")? as u64),
                "--probe-streams" => args.probe_streams = number("--probe-streams")?,
                "--full-decode" => args.full_decode = true,
                "-h" | "--help" => {
                    return Err("usage: watch_fanout [--watchers N] [--transitions M] \
                         [--connections C] [--open-concurrency K] [--settle-ms MS] \
                         [--pace-ms MS] [--probe-streams P] [--full-decode]"
                        .to_owned())
                }
                other => return Err(format!("unknown argument {other:?} (try --help)")),
            }
        }
        if args.watchers == 0 || args.transitions == 0 || args.connections == 0 {
            return Err("--watchers, --transitions and --connections must be > 0".to_owned());
        }
        args.open_concurrency = args.open_concurrency.max(1);
        Ok(args)
    }
}

// ------------------------------------------------------------------- server

/// The `cutoverd` under test, killed on drop.
struct Server {
    child: Child,
    endpoint: String,
    _data_dir: TempDir,
}

impl Server {
    fn start() -> Result<Server, BoxError> {
        let data_dir = TempDir::new()?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
            .args(["--no-simulator", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .env("CUTOVER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line {line:?}").into());
        };
        let endpoint = format!("http://{addr}");
        // Keep reading stdout so a later line never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server {
            endpoint,
            child,
            _data_dir: data_dir,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn connect(&self) -> Result<Channel, BoxError> {
        Ok(Endpoint::from_shared(self.endpoint.clone())?
            .connect()
            .await?)
    }

    /// Resident memory, KiB.
    fn rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmRSS:").unwrap_or(0)
    }

    fn threads(&self) -> u64 {
        proc_status(self.pid(), "Threads:").unwrap_or(0)
    }
}

impl Drop for Server {
    /// SIGTERM first (the server drains and exits on its own, which lets an
    /// attached profiler flush), SIGKILL if it is still there after 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A numeric field of `/proc/<pid>/status` (KiB for the `Vm*` ones).
fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// User + system CPU time a process has used so far.
fn cpu_time(pid: &str, ticks_per_second: u64) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ticks * 1_000_000_000 / ticks_per_second.max(1))
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

// ------------------------------------------------------------------ watchers

/// The three fields of a `WatchLifecycleEventsResponse` the benchmark
/// reads: decoding only these keeps the client's share of the two cores
/// small (prost skips the rest of the message without allocating).
#[derive(Clone, PartialEq, prost::Message)]
struct SlimResponse {
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
trait WatchMessage: prost::Message + Default + Send + Sync + 'static {
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
struct Received {
    /// `(revision, receive instant)` per event, in arrival order.
    events: Vec<(u64, Instant)>,
    /// `(resource id, event type)` per event, kept by the checking watcher.
    details: Option<Vec<(String, i32)>>,
    /// Why the stream ended early, if it did.
    error: Option<String>,
}

/// Reads events until `expected` arrived, the stream ended or `stop`.
async fn read_watch<M: WatchMessage>(
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

// -------------------------------------------------------------------- driver

/// What the driver did.
struct Drive {
    /// Instant just before call k was issued.
    sent_at: Vec<Instant>,
    /// `(resource id, event type)` call k must produce.
    expected: Vec<(String, i32)>,
    /// When the last call returned.
    finished: Instant,
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

// ------------------------------------------------------------------- figures

/// Latency figures of one run.
struct RunFigures {
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
    deliveries: usize,
    /// From the first call issued to the last delivery.
    span: Duration,
    all_in_order: bool,
    /// Watchers that did not get exactly M gap-free, in-order events.
    bad_watchers: usize,
    /// First problems found, for the report.
    problems: Vec<String>,
    /// Per event k: latency of its first and of its last delivery (the
    /// moment the fan-out of that event was complete).
    per_event: Vec<(Duration, Duration)>,
}

/// Checks every watcher's events and computes the latency distribution.
/// Watcher 0 kept details; its first event fixes the first revision.
fn figures(received: &[Received], run: &Drive) -> RunFigures {
    let m = run.sent_at.len();
    let mut problems = Vec::new();
    let mut first_revision = None;
    if let Some(checker) = received.first() {
        if let (Some(details), Some(&(revision, _))) = (&checker.details, checker.events.first()) {
            first_revision = Some(revision);
            for (k, (got, want)) in details.iter().zip(&run.expected).enumerate() {
                if got != want {
                    problems.push(format!(
                        "event {k}: got {got:?}, the driver's call {k} should have made {want:?}"
                    ));
                    break;
                }
            }
        }
    }
    // Fall back to the smallest first revision anyone saw.
    let first_revision = first_revision
        .or_else(|| {
            received
                .iter()
                .filter_map(|r| r.events.first())
                .map(|e| e.0)
                .min()
        })
        .unwrap_or(0);

    let mut latencies: Vec<u64> = Vec::with_capacity(received.len() * m);
    let mut per_event = vec![(Duration::MAX, Duration::ZERO); m];
    let mut bad_watchers = 0;
    let mut last_delivery = run.sent_at.first().copied().unwrap_or_else(Instant::now);
    for (w, r) in received.iter().enumerate() {
        let mut ok = r.events.len() == m && r.error.is_none();
        for (k, &(revision, at)) in r.events.iter().enumerate() {
            if revision != first_revision + k as u64 {
                if ok && problems.len() < 10 {
                    problems.push(format!(
                        "watcher {w}: event {k} has revision {revision}, expected {}",
                        first_revision + k as u64
                    ));
                }
                ok = false;
            }
            let Some(index) = revision.checked_sub(first_revision) else {
                continue;
            };
            let Some(&sent) = run.sent_at.get(index as usize) else {
                continue;
            };
            let latency = at.saturating_duration_since(sent);
            latencies.push(latency.as_nanos() as u64);
            let slot = &mut per_event[index as usize];
            *slot = (slot.0.min(latency), slot.1.max(latency));
            last_delivery = last_delivery.max(at);
        }
        if r.events.len() != m && problems.len() < 10 {
            problems.push(format!(
                "watcher {w}: {} of {m} events ({})",
                r.events.len(),
                r.error.as_deref().unwrap_or("no error")
            ));
        }
        if !ok {
            bad_watchers += 1;
        }
    }
    latencies.sort_unstable();
    let pick = |q: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        Duration::from_nanos(latencies[rank - 1])
    };
    RunFigures {
        p50: pick(0.50),
        p99: pick(0.99),
        p999: pick(0.999),
        max: pick(1.0),
        deliveries: latencies.len(),
        span: last_delivery.saturating_duration_since(run.sent_at[0]),
        all_in_order: bad_watchers == 0 && problems.is_empty(),
        bad_watchers,
        problems,
        per_event,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

// ---------------------------------------------------------------------- runs

/// Opens `count` watches spread round-robin over `channels`, at most
/// `concurrency` at a time. Returns the streams in watcher order, or how
/// many each connection managed before opening stalled.
async fn open_watches<M: WatchMessage>(
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

/// Spawns one reader task per stream, drives the transitions, and waits
/// for the readers.
async fn drive_and_collect<M: WatchMessage>(
    streams: Vec<Streaming<M>>,
    driver: &mut SourceServerServiceClient<Channel>,
    args: &Args,
) -> Result<(Drive, Vec<Received>), BoxError> {
    let stop = CancellationToken::new();
    let readers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(w, stream)| tokio::spawn(read_watch(stream, args.transitions, w == 0, stop.clone())))
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

fn print_run(label: &str, figures: &RunFigures, watchers: usize, m: usize) {
    println!(
        "[{label}] delivery latency over {} deliveries ({watchers} watchers x {m} events): \
         p50 {}  p99 {}  p99.9 {}  max {}",
        figures.deliveries,
        ms(figures.p50),
        ms(figures.p99),
        ms(figures.p999),
        ms(figures.max)
    );
    let rate = figures.deliveries as f64 / figures.span.as_secs_f64().max(1e-9);
    println!(
        "[{label}] events delivered per second: {rate:.0} ({} deliveries in {} from first send to last delivery)",
        figures.deliveries,
        ms(figures.span)
    );
    println!(
        "[{label}] all {watchers} watchers received {m} events in order: {}",
        if figures.all_in_order { "yes" } else { "no" }
    );
    if !figures.all_in_order {
        println!(
            "[{label}] {} watcher(s) incomplete or out of order",
            figures.bad_watchers
        );
    }
    let mut firsts: Vec<Duration> = figures.per_event.iter().map(|e| e.0).collect();
    let mut lasts: Vec<Duration> = figures.per_event.iter().map(|e| e.1).collect();
    firsts.sort_unstable();
    lasts.sort_unstable();
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    println!(
        "[{label}] per event: first delivery median {}, fan-out complete (last delivery) median {} max {}",
        ms(median(&firsts)),
        ms(median(&lasts)),
        ms(lasts.last().copied().unwrap_or_default())
    );
    let mut worst: Vec<(usize, Duration)> =
        figures.per_event.iter().map(|e| e.1).enumerate().collect();
    worst.sort_unstable_by_key(|w| std::cmp::Reverse(w.1));
    let worst: Vec<String> = worst
        .iter()
        .take(5)
        .map(|(k, d)| format!("#{k} {}", ms(*d)))
        .collect();
    println!("[{label}] slowest fan-outs: {}", worst.join(", "));
    for problem in &figures.problems {
        println!("[{label}]   {problem}");
    }
}

async fn run(args: Args) -> Result<bool, BoxError> {
    let ticks = clock_ticks();
    let server = Server::start()?;
    let server_pid = server.pid().to_string();
    println!(
        "cutoverd pid {} at {} (--no-simulator, CUTOVER_LOG=warn); client: one tokio runtime, {} decode",
        server.pid(),
        server.endpoint,
        if args.full_decode { "full" } else { "slim" }
    );
    println!(
        "settings: watchers {} transitions {} connections {} open-concurrency {} settle {:?} pace {:?}",
        args.watchers, args.transitions, args.connections, args.open_concurrency, args.settle, args.pace
    );
    println!("server RSS at start: {} KiB", server.rss_kib());
    let mut driver = SourceServerServiceClient::new(server.connect().await?);

    // Baseline: the same drive with one watcher (also warms the server up).
    let baseline = {
        let channel = server.connect().await?;
        let streams = open_with(&args, std::slice::from_ref(&channel), 1).await?;
        let (run, received) = match streams {
            Streams::Slim(s) => drive_and_collect(s, &mut driver, &args).await?,
            Streams::Full(s) => drive_and_collect(s, &mut driver, &args).await?,
        };
        let baseline = figures(&received, &run);
        print_run("1 watcher", &baseline, 1, args.transitions);
        println!(
            "[1 watcher] driver: {} calls in {} ({:.0} calls/s)",
            args.transitions,
            ms(run.finished - run.sent_at[0]),
            args.transitions as f64 / (run.finished - run.sent_at[0]).as_secs_f64()
        );
        baseline
    };

    // Idle memory per watcher.
    tokio::time::sleep(args.settle).await;
    let rss_before = server.rss_kib();
    let threads_before = server.threads();
    println!("server before the watchers: RSS {rss_before} KiB, {threads_before} threads");
    let mut channels = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        channels.push(server.connect().await?);
    }
    let opening = Instant::now();
    let streams = open_with(&args, &channels, args.watchers).await?;
    let open_time = opening.elapsed();
    println!(
        "opened {} watchers over {} connections ({} per connection) in {}",
        args.watchers,
        args.connections,
        args.watchers.div_ceil(args.connections),
        ms(open_time)
    );
    let threads_open = server.threads();
    tokio::time::sleep(args.settle).await;
    let rss_after = server.rss_kib();
    let threads_after = server.threads();
    let per_watcher = rss_after.saturating_sub(rss_before) as f64 / args.watchers as f64;
    println!(
        "server with {} idle watchers: RSS {rss_after} KiB, {threads_after} threads ({threads_open} right after opening)",
        args.watchers
    );
    println!(
        "RSS per idle watcher = ({rss_after} - {rss_before}) KiB / {} = {per_watcher:.2} KiB",
        args.watchers
    );

    if threads_after > threads_before {
        // Opening ran the watchers' first log reads on the blocking pool;
        // its extra threads idle out after 10 s. Read RSS again without
        // them, for comparison.
        let deadline = Instant::now() + Duration::from_secs(15);
        while server.threads() > threads_before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let rss_idle = server.rss_kib();
        println!(
            "  same, once the blocking pool shrank back to {} threads: RSS {rss_idle} KiB, {:.2} KiB per idle watcher",
            server.threads(),
            rss_idle.saturating_sub(rss_before) as f64 / args.watchers as f64
        );
    }

    // Fan-out drive.
    let cpu_server_before = cpu_time(&server_pid, ticks);
    let cpu_client_before = cpu_time("self", ticks);
    let label = format!("{} watchers", args.watchers);
    let (run, received) = match streams {
        Streams::Slim(s) => drive_and_collect(s, &mut driver, &args).await?,
        Streams::Full(s) => drive_and_collect(s, &mut driver, &args).await?,
    };
    let cpu_server = cpu_time(&server_pid, ticks).saturating_sub(cpu_server_before);
    let cpu_client = cpu_time("self", ticks).saturating_sub(cpu_client_before);
    let fanout = figures(&received, &run);
    drop(received);
    print_run(&label, &fanout, args.watchers, args.transitions);
    let drive_time = run.finished - run.sent_at[0];
    println!(
        "[{label}] driver: {} calls in {} ({:.0} calls/s)",
        args.transitions,
        ms(drive_time),
        args.transitions as f64 / drive_time.as_secs_f64()
    );
    let deliveries = (fanout.deliveries.max(1)) as f64;
    println!(
        "[{label}] CPU during drive+delivery: server {} ({:.2} us per delivery), client {} ({:.2} us per delivery)",
        ms(cpu_server),
        cpu_server.as_secs_f64() * 1e6 / deliveries,
        ms(cpu_client),
        cpu_client.as_secs_f64() * 1e6 / deliveries
    );
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "fan-out cost vs 1 watcher: p50 x{:.1} ({} vs {}), p99 x{:.1} ({} vs {})",
        ratio(fanout.p50, baseline.p50),
        ms(fanout.p50),
        ms(baseline.p50),
        ratio(fanout.p99, baseline.p99),
        ms(fanout.p99),
        ms(baseline.p99)
    );
    println!(
        "targets: p99 < 50 ms: {}; RSS per idle watcher < 16 KiB: {}",
        if fanout.p99 < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        },
        if per_watcher < 16.0 { "met" } else { "MISSED" }
    );

    // How many streams one connection takes.
    if args.probe_streams > 0 {
        let channel = server.connect().await?;
        let outcome = open_watches::<SlimResponse>(
            std::slice::from_ref(&channel),
            args.probe_streams,
            args.probe_streams,
            PROBE_TIMEOUT,
        )
        .await;
        match outcome {
            Ok(streams) => println!(
                "per-connection stream limit: none hit; {} concurrent watches opened on one connection",
                streams.len()
            ),
            Err((per_connection, err)) => println!(
                "per-connection stream limit: {} watches opened on one connection, the rest stalled ({err})",
                per_connection[0]
            ),
        }
    }
    drop(server);
    Ok(baseline.all_in_order && fanout.all_in_order)
}

/// Streams of either decoding.
enum Streams {
    Slim(Vec<Streaming<SlimResponse>>),
    Full(Vec<Streaming<WatchLifecycleEventsResponse>>),
}

/// Opens `count` watches with the decoding `args` asks for; fails with the
/// observed per-connection counts if opening stalls.
async fn open_with(args: &Args, channels: &[Channel], count: usize) -> Result<Streams, BoxError> {
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

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("watch_fanout: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("watch_fanout: tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(args));
    // Readers that gave up may still hold streams; don't wait for them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("watch_fanout: some watcher missed an event or got one out of order");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("watch_fanout: {err}");
            ExitCode::FAILURE
        }
    }
}
