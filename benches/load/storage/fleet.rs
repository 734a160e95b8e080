//! The phases at fleet size: registering the fleet, the server's and the
//! database's footprint, then, from one tonic client each, pages of
//! DescribeSourceServers, one watch with the initial snapshot of the whole
//! fleet, and a restart to serving.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, DescribeSourceServersFilters,
    DescribeSourceServersRequest, GetSourceServerRequest, LifeCycleState, SnapshotEnd,
    WatchLifecycleEventsRequest,
};
use futures_util::StreamExt;
use http::uri::PathAndQuery;
use tonic::{client::Grpc, transport::Channel, Request};

use crate::storage::{
    load::{self, Frames, Plan},
    report::{ms, spread},
    server::{database_files, Process},
    Bench, BoxError, REGISTER_PATH,
};

const DESCRIBE_PATH: &str = "/cutover.v1.SourceServerService/DescribeSourceServers";
const WATCH_PATH: &str = "/cutover.v1.LifecycleService/WatchLifecycleEvents";
/// Page size of every DescribeSourceServers call, the API's largest.
const PAGE_SIZE: i32 = 1000;
/// Calls per DescribeSourceServers figure once its time budget is spent.
const MIN_CALLS: usize = 20;
/// Time after which a DescribeSourceServers figure stops repeating its call
/// (a full scan of a million servers takes seconds on the old store).
const FIGURE_BUDGET: Duration = Duration::from_secs(60);
/// Longest the restarted server may take to serve its first call.
const RESTART_TIMEOUT: Duration = Duration::from_secs(900);

/// A DescribeSourceServersResponse with the servers left encoded: the
/// figures are the server's, so the client only counts them.
#[derive(Clone, PartialEq, prost::Message)]
struct SlimPage {
    #[prost(bytes = "bytes", repeated, tag = "2")]
    items: Vec<Bytes>,
    #[prost(string, tag = "3")]
    next_token: String,
}

/// A WatchLifecycleEventsResponse reduced to its snapshot-end marker;
/// prost skips the snapshot items without allocating.
#[derive(Clone, PartialEq, prost::Message)]
struct SlimWatch {
    #[prost(message, optional, tag = "3")]
    snapshot_end: Option<SnapshotEnd>,
}

/// One DescribeSourceServers call and its latency.
async fn describe(
    grpc: &mut Grpc<Channel>,
    filters: Option<DescribeSourceServersFilters>,
    next_token: &str,
) -> Result<(SlimPage, Duration), BoxError> {
    grpc.ready().await?;
    let request = DescribeSourceServersRequest {
        filters,
        max_results: PAGE_SIZE,
        next_token: next_token.to_owned(),
    };
    let codec = tonic_prost::ProstCodec::<DescribeSourceServersRequest, SlimPage>::default();
    let started = Instant::now();
    let page = grpc
        .unary(
            Request::new(request),
            PathAndQuery::from_static(DESCRIBE_PATH),
            codec,
        )
        .await?
        .into_inner();
    Ok((page, started.elapsed()))
}

/// The same page `calls` times, fewer if that takes longer than
/// [`FIGURE_BUDGET`]; prints its latency and size.
async fn repeat_page(
    grpc: &mut Grpc<Channel>,
    label: &str,
    filters: Option<DescribeSourceServersFilters>,
    next_token: &str,
    calls: usize,
) -> Result<(), BoxError> {
    let mut latencies = Vec::with_capacity(calls);
    let mut items = 0;
    let mut more = false;
    let started = Instant::now();
    while latencies.len() < calls
        && (latencies.len() < MIN_CALLS || started.elapsed() < FIGURE_BUDGET)
    {
        let (page, latency) = describe(grpc, filters.clone(), next_token).await?;
        latencies.push(latency);
        items = page.items.len();
        more = !page.next_token.is_empty();
    }
    latencies.sort_unstable();
    println!(
        "[describe] {label}: {items} items{}, {} calls: {}",
        if more { " + next_token" } else { ", last page" },
        latencies.len(),
        spread(&latencies)
    );
    Ok(())
}

fn states(states: &[LifeCycleState]) -> Option<DescribeSourceServersFilters> {
    Some(DescribeSourceServersFilters {
        life_cycle_states: states.iter().map(|&s| s as i32).collect(),
        ..Default::default()
    })
}

/// DescribeSourceServers at fleet size, pages of 1000: the first page,
/// a filter no server matches (DISCOVERED: no server of the bench is), a
/// filter some match (CUTOVER: the servers of the finalize phase), a walk
/// of every page by next_token, and the deepest page again and again.
/// Returns the servers the walk counted.
pub(crate) async fn describe_phase(channel: Channel, calls: usize) -> Result<usize, BoxError> {
    let mut grpc = Grpc::new(channel);
    repeat_page(&mut grpc, "first page, unfiltered", None, "", calls).await?;
    let none = states(&[LifeCycleState::Discovered]);
    repeat_page(&mut grpc, "filter DISCOVERED (none)", none, "", calls).await?;
    let some = states(&[LifeCycleState::Cutover]);
    repeat_page(&mut grpc, "filter CUTOVER", some, "", calls).await?;

    let walk_started = Instant::now();
    let (mut latencies, mut servers) = (Vec::new(), 0);
    let (mut token, mut deepest) = (String::new(), String::new());
    loop {
        let (page, latency) = describe(&mut grpc, None, &token).await?;
        latencies.push(latency);
        servers += page.items.len();
        if page.next_token.is_empty() {
            break;
        }
        deepest = std::mem::replace(&mut token, page.next_token);
    }
    let walk = walk_started.elapsed();
    let pages = latencies.len();
    latencies.sort_unstable();
    println!(
        "[describe] walk of every page by next_token: {pages} pages, {servers} servers in {} ({:.0} servers/s), per page: {}",
        ms(walk),
        servers as f64 / walk.as_secs_f64().max(1e-9),
        spread(&latencies)
    );
    if pages > 1 {
        let label = format!("deepest full page (page {})", pages - 1);
        repeat_page(&mut grpc, &label, None, &deepest, calls).await?;
    }
    Ok(servers)
}

/// The server's RSS and the database's bytes, in all and per server.
pub(crate) fn print_footprint(
    server: &Process,
    data_dir: &Path,
    servers: usize,
) -> Result<(), BoxError> {
    let files = database_files(data_dir)?;
    let bytes: u64 = files.iter().map(|f| f.1).sum();
    let listing: Vec<String> = files
        .iter()
        .filter_map(|(path, size)| Some(format!("{} {size}", path.file_name()?.to_str()?)))
        .collect();
    let rss = server.rss_kib();
    println!(
        "[footprint] {servers} servers: server RSS {rss} KiB ({:.0} bytes per server); database {bytes} bytes ({}) = {:.0} bytes per server",
        rss as f64 * 1024.0 / servers.max(1) as f64,
        listing.join(", "),
        bytes as f64 / servers.max(1) as f64
    );
    Ok(())
}

/// Registers servers until the store holds `--fleet` of them, printing
/// progress every 10 s; returns how many it registered.
pub(crate) async fn fill_fleet(
    bench: &mut Bench<'_>,
    server: &Process,
    register_frame: &Bytes,
    existing: usize,
) -> Result<usize, BoxError> {
    let mut registered = 0usize;
    if existing >= bench.args.fleet {
        println!(
            "[fleet] the store already holds {existing} servers, at least --fleet {}",
            bench.args.fleet
        );
    }
    // A failed call is retried by the next round, at most a few rounds.
    for _ in 0..3 {
        let missing = bench.args.fleet.saturating_sub(existing + registered);
        if missing == 0 {
            break;
        }
        let frames = Arc::new(Frames::repeat_n(register_frame.clone(), missing));
        let progress = {
            let frames = Arc::clone(&frames);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(10));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    eprintln!(
                        "[fleet] {} of {missing} registrations issued",
                        frames.taken()
                    );
                }
            })
        };
        let plan = Plan {
            warmup: Duration::ZERO,
            duration: Duration::from_secs(24 * 3600),
            ..bench.plan()
        };
        let started = Instant::now();
        let outcome = load::run(server.addr, REGISTER_PATH, frames, plan).await;
        progress.abort();
        let outcome = outcome?;
        let elapsed = started.elapsed();
        registered += outcome.ok_in_all as usize;
        // Over the whole fill: connection setup included, no warm-up.
        let rate = outcome.ok_in_all as f64 / elapsed.as_secs_f64().max(1e-9);
        let label = format!("RegisterSourceServer filling to {}", bench.args.fleet);
        println!(
            "[fleet] registered {} of {missing} servers in {} ({rate:.0}/s), {}",
            outcome.ok_in_all,
            ms(elapsed),
            bench.summary.ratio(rate)
        );
        bench.summary.add(&label, rate);
        if let Some(error) = outcome.errors.first() {
            println!(
                "[fleet] {} stream loop(s) ended on: {error}",
                outcome.errors.len()
            );
        }
    }
    Ok(registered)
}

/// One watch with `send_initial_snapshot` over everything: time to the
/// first item and to the snapshot-end marker, items, and the server's RSS
/// before and its peak during.
pub(crate) async fn watch_phase(server: &Process, channel: Channel) -> Result<(), BoxError> {
    let rss_before = server.rss_kib();
    let peak_reset = server.reset_peak();
    let mut grpc = Grpc::new(channel);
    grpc.ready().await?;
    let request = WatchLifecycleEventsRequest {
        send_initial_snapshot: true,
        ..Default::default()
    };
    let codec = tonic_prost::ProstCodec::<WatchLifecycleEventsRequest, SlimWatch>::default();
    let started = Instant::now();
    let mut stream = grpc
        .server_streaming(
            Request::new(request),
            PathAndQuery::from_static(WATCH_PATH),
            codec,
        )
        .await?
        .into_inner();
    let (mut items, mut first, mut sampled_peak) = (0usize, None, rss_before);
    let mut sampling = tokio::time::interval(Duration::from_millis(100));
    let end = loop {
        tokio::select! {
            biased;
            message = stream.next() => {
                let message = message.ok_or("the watch ended before its snapshot did")??;
                first.get_or_insert_with(|| started.elapsed());
                match message.snapshot_end {
                    Some(end) => break end,
                    None => items += 1,
                }
            }
            _ = sampling.tick() => sampled_peak = sampled_peak.max(server.rss_kib()),
        }
    };
    let to_end = started.elapsed();
    let peak = server.peak_rss_kib();
    drop(stream);
    println!(
        "[watch] initial snapshot: {items} items (servers and jobs), first item after {}, snapshot end (revision {}) after {} ({:.0} items/s)",
        ms(first.unwrap_or_default()),
        end.revision,
        ms(to_end),
        items as f64 / to_end.as_secs_f64().max(1e-9)
    );
    match peak_reset {
        Ok(()) => println!(
            "[watch] server RSS before {rss_before} KiB, peak during (VmHWM) {peak} KiB: +{} KiB ({:.0} bytes per item); peak of 100 ms samples {sampled_peak} KiB",
            peak.saturating_sub(rss_before),
            peak.saturating_sub(rss_before) as f64 * 1024.0 / items.max(1) as f64
        ),
        Err(err) => println!(
            "[watch] server RSS before {rss_before} KiB, peak of 100 ms samples {sampled_peak} KiB (VmHWM not reset: {err})"
        ),
    }
    Ok(())
}

/// SIGTERM, start again on `data_dir`, and wait for the first served
/// GetSourceServer of `probe`. Returns the new process.
pub(crate) async fn restart_phase(
    mut server: Process,
    data_dir: &Path,
    probe: &str,
) -> Result<Process, BoxError> {
    let stopped_in = server.stop(Duration::from_secs(60)).await;
    drop(server);
    let spawned = Instant::now();
    let server = Process::cutoverd(data_dir)?;
    let request = GetSourceServerRequest {
        source_server_id: probe.to_owned(),
    };
    let mut attempts = 0u32;
    let served = loop {
        attempts += 1;
        let call = async {
            let channel = server.connect().await?;
            SourceServerServiceClient::new(channel)
                .get_source_server(request.clone())
                .await?;
            Ok::<_, BoxError>(())
        };
        match call.await {
            Ok(()) => break spawned.elapsed(),
            Err(err) if spawned.elapsed() > RESTART_TIMEOUT => {
                return Err(
                    format!("not serving {RESTART_TIMEOUT:?} after a restart: {err}").into(),
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    };
    println!(
        "[restart] SIGTERM to exit {}; start to `listening on` {}; start to first served GetSourceServer {} ({attempts} attempt(s)); RSS then {} KiB",
        ms(stopped_in),
        ms(server.started_in),
        ms(served),
        server.rss_kib()
    );
    Ok(server)
}
