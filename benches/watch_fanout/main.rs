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

mod args;
mod driver;
mod report;
mod server;
mod watchers;

use std::{
    error::Error,
    process::ExitCode,
    time::{Duration, Instant},
};

use cutover::pb::v1::source_server_service_client::SourceServerServiceClient;

use crate::{
    args::Args,
    driver::drive_and_collect,
    report::{figures, ms, print_run},
    server::{clock_ticks, cpu_time, Server},
    watchers::{open_watches, open_with, SlimResponse, Streams},
};

/// Any error of a benchmark step.
type BoxError = Box<dyn Error + Send + Sync>;

/// How long the probe of the per-connection stream limit waits.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the baseline, the idle-memory reading, the fan-out drive and the
/// stream-limit probe, printing as it goes; `Ok(true)` if every watcher of
/// both runs received every event in order.
async fn run(args: Args) -> Result<bool, BoxError> {
    let ticks = clock_ticks();
    let server = Server::start()?;
    let server_pid = server.pid().to_string();
    println!(
        "cutoverd pid {} at {} (--no-simulator, CUTOVER_LOG=warn); client: one tokio runtime of {} threads, {} decode",
        server.pid(),
        server.endpoint,
        args.client_threads,
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

/// Parses the options, runs the benchmark on a multi-threaded runtime and
/// exits non-zero on an error or a missed or out-of-order event.
fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("watch_fanout: {message}");
            return ExitCode::from(2);
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.worker_threads(args.client_threads);
    // As in cutoverd: without the LIFO slot a connection task reads for all
    // the streams it woke before they run, instead of interleaving with them.
    #[cfg(tokio_unstable)]
    runtime.disable_lifo_slot();
    let runtime = match runtime.enable_all().build() {
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
