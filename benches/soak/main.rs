//! Soak test: the real `cutoverd` under steady, mixed, moderate load for a
//! long time (30 minutes by default), reporting its resources and the
//! load's latencies over time, and a verdict on whether anything grows
//! that should not.
//!
//! ```text
//! cargo bench --bench soak                       # 30 minutes
//! cargo bench --bench soak -- --minutes 5        # a 5-minute validation run
//! cargo bench --bench soak -- --minutes 0.5 --sample-secs 3   # a smoke test
//! ```
//!
//! It starts the release `cutoverd` on a fresh data directory with the
//! simulated data plane (`--simulator all --sim-speed 60`), event retention
//! small enough that compaction starts within the warm-up and runs all
//! along (`--event-retention-count`, default 2,000 per minute of run,
//! `--compaction-interval-ms 5000`), client tokens forgotten after a tenth
//! of the run (10-60 s), and the metrics endpoint on. Before the clock
//! starts it registers a pool of servers (`--pool 100`), waits until the
//! simulator has them READY_FOR_TEST, and opens the watchers. Then, all at
//! once, for the whole run, at a steady rate (open loop: calls are due on a
//! timetable, whatever the earlier ones take; a call due while
//! `--max-in-flight 256` are outstanding is skipped and counted):
//!
//! - **mutations**: rehearsals on the pool (`--rehearsal-rate 150`/s:
//!   StartTest, ChangeServerLifeCycleState to READY_FOR_CUTOVER,
//!   StartCutover, reverted, back to READY_FOR_TEST, round and round, so
//!   the fleet does not grow with the rate), and new servers
//!   (`--new-servers 2`/s), each through a whole flow to an archived
//!   server: the MGN cutover (StartTest .. FinalizeCutover, follow-up tasks
//!   done, MarkAsArchived), an SMC job (CreateReplicationJob,
//!   StartReplicationJob, Waiting, CutOverReplicationJob, Finished, then
//!   DisconnectFromService and MarkAsArchived) or a plain disconnect and
//!   archive. Half of the mutations carry a client token. Flows wait on
//!   events (one filtered watch feeds their states), not by polling; the
//!   simulator's agents add about 140 reports/s, so about 300 events/s;
//! - **reads** (`--read-rate 2000`/s): GetSourceServer of a random known
//!   server (80%), DescribeSourceServers with a random filter and page
//!   size, a few pages by `next_token` (each page a read);
//! - **watchers** (`--watchers 1000` over `--watch-connections 20`):
//!   `--unfiltered 100` watch everything, the others one of five filters
//!   (jobs, lifecycle changes, follow-up tasks, five pool servers, new
//!   servers), some with bookmarks; each reads every message and records
//!   its lag (the event's time to its receipt); about 68,000 deliveries/s;
//! - **agents** (`--agents 50`): each opens a new connection (as a
//!   restarted agent process would), holds ReceiveCommands (for a server in
//!   a flow, a pool server, or as the replication infrastructure) for about
//!   `--agent-hold-ms 3000`, reading what comes, drops it and starts over.
//!   They only listen; the simulator's agents carry the commands out.
//!
//! Every `--sample-secs` (default: a 60th of the run, 30 s for 30 minutes)
//! it prints a row: elapsed time, server RSS, open files, database size
//! (`cutover.db`, `-wal`, `-shm`) and the WAL's share, events committed
//! (total, per second, kept in the log), reads and mutations per second
//! with p50/p99 latency (ms), watcher lag p99 and max (ms), open watchers,
//! agent reconnections, errors, skipped calls, and the CPU of the server,
//! of the load generator and of every other process of the machine
//! (percent of one core: a build beside the run shows there).
//!
//! At the end, the verdict, each check PASS or FAIL. After the warm-up
//! (`--warmup-percent 20`), the last third of the run against the first
//! third, within `--tolerance-percent 20`: server RSS (mean); read and
//! mutation p99 latency and watcher lag p99 (the median of the rows' p99s,
//! which a burst of other work moves less than a trend; they also pass
//! within an absolute 1, 2 and 5 ms); server CPU (at a steady load, work
//! per call); the database file (max); open files (max, + 8). Then, over
//! the run: the WAL under its 16 MiB checkpoint threshold plus a group;
//! compaction keeping the log near its retention; errors under 0.1% of
//! calls; under 1% of calls skipped; every watcher open at the end; a pool
//! server's encoded size at the end against the end of the warm-up; a
//! clean exit 0 on SIGTERM; no ERROR line in the server's log. It exits
//! non-zero on any FAIL. `--help` lists every option; `--keep-data` keeps
//! the data directory and the server's log.
//!
//! On a 2-core machine the run takes about 1.1 cores (server 0.7, load
//! generator 0.4). Latency is scheduling delay as much as service time:
//! with another process busy beside the run, p99s are several times those
//! of a quiet machine, and the latency checks judge that noise unless it
//! was the same in both thirds (the verdict prints how busy the rest of
//! the machine was in each).
//!
//! This is a program that prints figures, not a timed test: it runs once.

mod agents;
mod args;
mod ctx;
mod finish;
mod flows;
mod histogram;
mod mutations;
mod reads;
mod report;
mod sampler;
mod server;
mod stats;
mod tracker;
mod watchers;

use std::{
    error::Error,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::{args::Args, ctx::Ctx, server::Server, stats::Stats, tracker::Tracker};

/// Any error of a benchmark step.
type BoxError = Box<dyn Error + Send + Sync>;

/// HTTP/2 connections of the unary load.
const LOAD_CONNECTIONS: usize = 4;
/// How long load tasks get to wind down once the run stops.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// Sets up, runs the load while sampling, and judges; `Ok(true)` if every
/// check passed.
async fn run(args: Args) -> Result<bool, BoxError> {
    let mut server = Server::start(&args)?;
    println!(
        "cutoverd pid {} at {} (--simulator all --sim-speed {} --event-retention-count {} \
         --compaction-interval-ms {} --client-token-retention-seconds {}), data in {}",
        server.pid(),
        server.addr,
        args.sim_speed,
        args.retention,
        args.compaction_ms,
        args.token_retention_secs,
        server.data_dir.display()
    );
    println!(
        "load: {:.0} reads/s, {:.0} rehearsal mutations/s on {} servers, {} new servers/s, \
         {} watchers ({} unfiltered) on {} connections, {} reconnecting agents (~{:?} each); \
         {:?} run, a row every {:?}, warm-up {:.0}%",
        args.read_rate,
        args.rehearsal_rate,
        args.pool,
        args.new_servers,
        args.watchers,
        args.unfiltered,
        args.watch_connections,
        args.agents,
        args.agent_hold,
        args.duration,
        args.sample,
        args.warmup * 100.0
    );
    let mut channels = Vec::with_capacity(LOAD_CONNECTIONS);
    for _ in 0..LOAD_CONNECTIONS {
        channels.push(server.connect().await?);
    }
    let mut watch_channels = Vec::with_capacity(args.watch_connections);
    for _ in 0..args.watch_connections {
        watch_channels.push(server.connect().await?);
    }
    let tracker_channel = server.connect().await?;
    let probe_channel = server.connect().await?;
    let ctx = Arc::new(Ctx {
        reads_in_flight: Arc::new(Semaphore::new(args.max_in_flight)),
        flows_in_flight: Arc::new(Semaphore::new(args.max_in_flight)),
        endpoint: format!("http://{}", server.addr),
        args,
        stats: Stats::new(),
        tracker: Tracker::default(),
        ids: Default::default(),
        channels,
        stop: CancellationToken::new(),
    });

    let setup = Instant::now();
    let stream = tracker::open(tracker_channel.clone(), 0).await?;
    let feeder = tokio::spawn(tracker::feed(Arc::clone(&ctx), tracker_channel, stream));
    let pool = mutations::prepare_pool(&ctx).await?;
    let _ = ctx.ids.pool.set(pool.clone());
    println!(
        "setup: {} pool servers READY_FOR_TEST in {:.1} s",
        pool.len(),
        setup.elapsed().as_secs_f64()
    );
    let opening = Instant::now();
    let readers = watchers::start(&ctx, &watch_channels).await?;
    println!(
        "setup: {} watchers open in {:.1} s; server RSS {:.1} MiB, {} open files",
        readers.len(),
        opening.elapsed().as_secs_f64(),
        server.rss_kib() as f64 / 1024.0,
        server.open_files()
    );

    // The pool's size once every server went through a few rehearsals,
    // to compare with the end: a resource that keeps a history grows.
    let pool_after_warmup = {
        let (ctx, pool) = (Arc::clone(&ctx), pool.clone());
        tokio::spawn(async move {
            tokio::time::sleep(ctx.args.duration.mul_f64(ctx.args.warmup)).await;
            pool_bytes(&ctx, &pool).await
        })
    };
    let load = [
        tokio::spawn(mutations::run(Arc::clone(&ctx), pool.clone())),
        tokio::spawn(reads::run(Arc::clone(&ctx))),
        tokio::spawn(agents::run(Arc::clone(&ctx))),
    ];
    let rows = sampler::run(&ctx, &mut server, probe_channel.clone()).await;
    let final_watchers = rows.last().map_or(0, |r| r.open_watchers);
    let pool_sizes = (
        pool_after_warmup.await.unwrap_or(0.0),
        pool_bytes(&ctx, &pool).await,
    );
    // The end state of the log, before the load stops.
    let oldest = sampler::oldest_revision(&ctx, probe_channel.clone()).await;
    ctx.stop.cancel();
    let wind_down = async {
        for task in load.into_iter().chain(readers) {
            let _ = task.await;
        }
        let _ = feeder.await;
    };
    if tokio::time::timeout(WIND_DOWN, wind_down).await.is_err() {
        println!("some load tasks were still running {WIND_DOWN:?} after the stop");
    }
    // Every flow and read in flight holds a permit until it is done.
    let limit = u32::try_from(ctx.args.max_in_flight).unwrap_or(u32::MAX);
    let in_flight = async {
        let _flows = ctx.flows_in_flight.acquire_many(limit).await;
        let _reads = ctx.reads_in_flight.acquire_many(limit).await;
    };
    if tokio::time::timeout(WIND_DOWN, in_flight).await.is_err() {
        println!("some calls were still in flight {WIND_DOWN:?} after the stop");
    }
    finish::summary(&ctx, &rows);
    let mut checks = report::trends(
        &rows,
        ctx.args.duration,
        ctx.args.warmup,
        ctx.args.tolerance,
    );
    checks.extend(finish::end_checks(&ctx, &rows, oldest, final_watchers));
    checks.push(finish::resource_size(pool_sizes, ctx.args.tolerance));
    let keep_data = ctx.args.keep_data;
    let (ctx_duration, ctx_warmup) = (ctx.args.duration, ctx.args.warmup);
    // Close every connection first: a graceful shutdown waits for clients.
    drop(watch_channels);
    drop(probe_channel);
    if Arc::try_unwrap(ctx).is_err() {
        println!("note: some load tasks still hold connections at shutdown");
    }
    checks.push(finish::shutdown(&mut server).await);
    checks.push(finish::server_log(&server));
    if keep_data {
        if let Some(dir) = server.keep() {
            println!(
                "kept the data directory and cutoverd.log in {}",
                dir.display()
            );
        }
    }
    println!("note: {}", report::noise(&rows, ctx_duration, ctx_warmup));
    Ok(report::print_verdict(&checks))
}

/// The mean encoded size of the servers `ids`, by GetSourceServer.
async fn pool_bytes(ctx: &Ctx, ids: &[String]) -> f64 {
    let mut total = 0;
    let mut client = ctx.servers();
    for id in ids {
        let request = cutover::pb::v1::GetSourceServerRequest {
            source_server_id: id.clone(),
        };
        if let Ok(server) = client.get_source_server(request).await {
            total += prost::Message::encoded_len(&server.into_inner());
        }
    }
    total as f64 / ids.len().max(1) as f64
}

/// Parses the options, runs the soak on a multi-threaded runtime and
/// exits non-zero on an error or a failed check.
fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("soak: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("soak: tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(args));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("soak: {err}");
            ExitCode::FAILURE
        }
    }
}
