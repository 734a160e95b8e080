//! Every sampling interval: one row of what the server and the load did.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient, LifecycleEventType,
    WatchLifecycleEventsRequest,
};
use tonic::{transport::Channel, Code};
use tonic_types::StatusExt;

use cutover_testkit::{clock_ticks, cpu_time};

use crate::{
    ctx::Ctx,
    report::{header, line, Row},
    server::Server,
};

/// The oldest revision the log keeps: 1 until compaction first ran (a
/// watch from revision 1 is accepted), else what the refusal says.
pub(crate) async fn oldest_revision(ctx: &Ctx, channel: Channel) -> Option<u64> {
    let request = WatchLifecycleEventsRequest {
        // A filter no event matches: the accepted watch sends nothing.
        resource_ids: ctx.ids.pool_sample(1),
        event_types: vec![LifecycleEventType::FollowUpTaskOverdue as i32],
        start_revision: 1,
        ..Default::default()
    };
    match LifecycleServiceClient::new(channel)
        .watch_lifecycle_events(request)
        .await
    {
        Ok(_) => Some(1),
        Err(status) if status.code() == Code::OutOfRange => status
            .get_details_error_info()?
            .metadata
            .get("oldestRevision")?
            .parse()
            .ok(),
        Err(status) => {
            ctx.stats
                .failed("WatchLifecycleEvents (oldest probe)", &status);
            None
        }
    }
}

/// CPU time the whole machine spent busy (not idle, not waiting for I/O),
/// from the first line of `/proc/stat`.
fn machine_busy(ticks_per_second: u64) -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|&(i, _)| i != 3 && i != 4)
        .map(|(_, &t)| t)
        .sum();
    Duration::from_nanos(busy.saturating_mul(1_000_000_000) / ticks_per_second.max(1))
}

/// A metric's value as an integer (0 if absent).
fn metric(values: &std::collections::HashMap<String, f64>, name: &str) -> u64 {
    values.get(name).copied().unwrap_or(0.0).max(0.0) as u64
}

/// Samples every `ctx.args.sample` until the run's end, printing each
/// row; stops early if the server exits.
pub(crate) async fn run(ctx: &Arc<Ctx>, server: &mut Server, probe: Channel) -> Vec<Row> {
    let ticks = clock_ticks();
    let pid = server.pid().to_string();
    let start = Instant::now();
    let end = start + ctx.args.duration;
    let mut previous = (
        start,
        metric(&server.metrics().await.unwrap_or_default(), EVENTS),
        cpu_time(&pid, ticks),
        cpu_time("self", ticks),
        machine_busy(ticks),
    );
    // Setup latencies and counts are not the run's.
    let _ = ctx.stats.drain();
    println!("{}", header());
    let mut rows = Vec::new();
    loop {
        let next = (previous.0 + ctx.args.sample).min(end);
        tokio::time::sleep_until(next.into()).await;
        if !server.running() {
            ctx.stats
                .error("cutoverd exited", "the server process is gone");
            println!("cutoverd exited during the run");
            return rows;
        }
        let now = Instant::now();
        let secs = (now - previous.0).as_secs_f64();
        let interval = ctx.stats.drain();
        let values = server.metrics().await.unwrap_or_else(|err| {
            ctx.stats.error("metrics scrape", err.to_string());
            Default::default()
        });
        let events = metric(&values, EVENTS);
        let (server_cpu, client_cpu) = (cpu_time(&pid, ticks), cpu_time("self", ticks));
        let busy = machine_busy(ticks);
        let head = ctx.stats.head.load(std::sync::atomic::Ordering::Relaxed);
        let kept = oldest_revision(ctx, probe.clone())
            .await
            .map(|oldest| (head + 1).saturating_sub(oldest));
        let row = Row {
            at: now - start,
            secs,
            rss_kib: server.rss_kib(),
            fds: server.open_files(),
            db_bytes: server.database_bytes(),
            wal_bytes: server.wal_bytes(),
            events,
            new_events: events.saturating_sub(previous.1),
            kept,
            open_watchers: metric(&values, "cutover_open_watchers"),
            server_cpu: server_cpu.saturating_sub(previous.2).as_secs_f64() / secs,
            client_cpu: client_cpu.saturating_sub(previous.3).as_secs_f64() / secs,
            other_cpu: (busy.saturating_sub(previous.4).as_secs_f64()
                - server_cpu.saturating_sub(previous.2).as_secs_f64()
                - client_cpu.saturating_sub(previous.3).as_secs_f64())
            .max(0.0)
                / secs,
            interval,
        };
        println!("{}", line(&row));
        rows.push(row);
        previous = (now, events, server_cpu, client_cpu, busy);
        if now + Duration::from_millis(1) >= end {
            return rows;
        }
    }
}

/// The metric of committed events.
pub(crate) const EVENTS: &str = "cutover_events_committed_total";
