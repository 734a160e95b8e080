//! The PostgreSQL mode (`--postgres`): a throwaway cluster with fsync on
//! (`scripts/postgres start --durable`), the usual phases on a first
//! replica, then durable registrations spread over 1, 2 and 3 replicas and
//! the delay from a commit acknowledged by one replica to its event on
//! another replica's watch, under that load.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient,
    source_server_service_client::SourceServerServiceClient, watch_lifecycle_events_response::Kind,
    RegisterSourceServerRequest, WatchLifecycleEventsRequest,
};
use tokio_util::sync::CancellationToken;

use cutover_testkit::cpu_time;

use crate::{
    load::{self, Frames, Plan},
    report::spread,
    server::{clock_ticks, Process},
    Bench, BoxError, REGISTER_PATH,
};

/// A durable throwaway cluster, stopped and deleted on drop.
pub(crate) struct Cluster {
    dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres")
}

impl Cluster {
    /// Starts one (fsync on) and creates the bench's database; returns it
    /// with the database's URL.
    pub(crate) fn start() -> Result<(Cluster, String), BoxError> {
        let output = Command::new(script())
            .args(["start", "--durable"])
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "scripts/postgres start: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let cluster = Cluster { dir };
        let created = Command::new("/usr/lib/postgresql/15/bin/psql")
            .arg("-h")
            .arg(&cluster.dir)
            .args(["-U", "postgres", "-qc", "CREATE DATABASE bench"])
            .status()?;
        if !created.success() {
            return Err("cannot create the bench database".into());
        }
        let url = format!("host={} user=postgres dbname=bench", cluster.dir.display());
        Ok((cluster, url))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

/// Registrations spread evenly over `replicas` in one window: the
/// aggregate rate. With `watch`, also the cross-replica delivery delays.
async fn spread_registrations(
    bench: &mut Bench<'_>,
    replicas: &[&Process],
    watch: bool,
) -> Result<(), BoxError> {
    let plan = bench.plan();
    let per_replica = Plan {
        connections: (plan.connections / replicas.len()).max(1),
        ..plan
    };
    let frame = load::grpc_frame(&RegisterSourceServerRequest::default());
    let stop = CancellationToken::new();
    let delivery = match (watch, replicas) {
        (true, [first, .., last]) => Some(tokio::spawn(delivery_delays(
            first.connect().await?,
            last.connect().await?,
            stop.clone(),
        ))),
        _ => None,
    };
    let ticks = clock_ticks();
    let cpu = || {
        let replicas: Duration = replicas.iter().map(|r| r.cpu(ticks)).sum();
        (replicas, cpu_time_of_all("postgres", ticks))
    };
    let (replicas_before, postgres_before) = cpu();
    let started = Instant::now();
    let runs: Vec<_> = replicas
        .iter()
        .map(|replica| {
            let frames = Arc::new(Frames::repeat(frame.clone()));
            tokio::spawn(load::run(replica.addr, REGISTER_PATH, frames, per_replica))
        })
        .collect();
    let mut total = 0.0;
    let mut calls = 0;
    for run in runs {
        let outcome = run.await??;
        total += outcome.rate();
        calls += outcome.ok_in_all;
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let (replicas_after, postgres_after) = cpu();
    stop.cancel();
    let label = format!("RegisterSourceServer over {} replica(s)", replicas.len());
    println!(
        "[{label}] {total:.0} calls/s in aggregate, {} ({} connection(s) x {} streams each)",
        bench.summary.ratio(total),
        per_replica.connections,
        per_replica.streams
    );
    let per_call = |cpu: Duration| cpu.as_secs_f64() * 1e6 / (calls.max(1) as f64);
    let (replicas_cpu, postgres_cpu) = (
        replicas_after.saturating_sub(replicas_before),
        postgres_after.saturating_sub(postgres_before),
    );
    println!(
        "[{label}] CPU per durable call (warm-up included): replicas {:.0} us, PostgreSQL {:.0} us; busy: replicas {:.0}%, PostgreSQL {:.0}% (of one core)",
        per_call(replicas_cpu),
        per_call(postgres_cpu),
        replicas_cpu.as_secs_f64() * 100.0 / elapsed,
        postgres_cpu.as_secs_f64() * 100.0 / elapsed,
    );
    bench.summary.add(&label, total);
    if let Some(delivery) = delivery {
        let mut delays = delivery.await??;
        delays.sort();
        println!(
            "[{label}] a commit acknowledged by the first replica, on the last replica's watch: {} ({} probes)",
            spread(&delays),
            delays.len()
        );
    }
    Ok(())
}

/// Registers a server on `writer` every 20 ms until `stop`, and returns,
/// for each, how long after its acknowledgement a watch on `reader` got
/// its event.
async fn delivery_delays(
    writer: tonic::transport::Channel,
    reader: tonic::transport::Channel,
    stop: CancellationToken,
) -> Result<Vec<Duration>, BoxError> {
    let acked: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watch = LifecycleServiceClient::new(reader)
        .watch_lifecycle_events(WatchLifecycleEventsRequest::default())
        .await?
        .into_inner();
    let watcher = {
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok(Some(message)) = watch.message().await {
                if let Some(Kind::Event(event)) = message.kind {
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    seen.insert(event.resource_id, Instant::now());
                }
            }
        })
    };
    let mut servers = SourceServerServiceClient::new(writer);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    while !stop.is_cancelled() {
        tick.tick().await;
        let id = servers
            .register_source_server(RegisterSourceServerRequest::default())
            .await?
            .into_inner()
            .source_server_id;
        acked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Instant::now());
    }
    // The last probes' events may still be on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    watcher.abort();
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    Ok(acked
        .iter()
        .filter_map(|(id, at)| Some(seen.get(id)?.saturating_duration_since(*at)))
        .collect())
}

/// Durable registrations over one, two, then `count` replicas, the last
/// with cross-replica watch delivery measured; returns the replicas
/// started besides `first`.
pub(crate) async fn replicas_phase(
    bench: &mut Bench<'_>,
    first: &Process,
    url: &str,
    count: usize,
) -> Result<Vec<Process>, BoxError> {
    let mut others = Vec::new();
    for n in 1..count {
        others.push(Process::cutoverd_replica(url, &format!("replica-{n}"))?);
    }
    for k in 1..=count {
        let replicas: Vec<&Process> = std::iter::once(first)
            .chain(others.iter())
            .take(k)
            .collect();
        spread_registrations(bench, &replicas, k == count && k > 1).await?;
    }
    Ok(others)
}

/// CPU time used so far by the live processes named `name` (the
/// `postgres` server and its backends: the replicas' pooled connections
/// live through a phase).
fn cpu_time_of_all(name: &str, ticks_per_second: u64) -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("comm")).is_ok_and(|comm| comm.trim() == name)
        })
        .map(|entry| cpu_time(&entry.file_name().to_string_lossy(), ticks_per_second))
        .sum()
}
