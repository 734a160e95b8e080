//! Storage-engine benchmark of `cutoverd`: how much of what its gRPC stack
//! can serve the store lets through, measured in one run on one machine.
//!
//! The ceiling is a bare tonic server whose one unary method echoes its
//! request: the bench re-executes itself with `--serve-echo` as that
//! server and drives it with the same load generator, request frame and
//! request path as cutoverd's GetSourceServer. The load generator is a lean
//! `h2` client (C connections x M concurrent streams, like
//! `h2load -c 16 -m 8 -t 1`) on a 1-thread tokio runtime, counting the
//! calls that complete in a fixed window after a warm-up. Every rate is
//! printed with its ratio to the echo rate of the same run:
//!
//! - echo, then GetSourceServer of one server (p50/p99 latency too);
//! - RegisterSourceServer (a new server per call);
//! - FinalizeCutover on distinct servers prepared in CUTTING_OVER, and
//!   CutOverReplicationJob (`sync_data=false`) on distinct incremental jobs
//!   prepared in Waiting. cutoverd runs without its simulator, so the bench
//!   is the data plane of the servers it prepares (`AgentService` reports,
//!   command streams and acknowledgements); how many it prepares follows
//!   the Register rate of the run, within a time budget, and a phase that
//!   runs out stops and is measured up to its last call;
//! - at fleet size: the registration rate, GetSourceServer again,
//!   DescribeSourceServers pages (first, filtered, deep by next_token), one
//!   watch with the initial snapshot of the fleet (time to the first item
//!   and to the end marker, RSS before and peak during), the server's RSS
//!   and database bytes per server, and the time from a restart to the
//!   first served GetSourceServer.
//!
//! ```text
//! cargo bench --bench storage_engine -- [--fleet N] [--connections C] [--streams M]
//!     [--duration-secs S] [--warmup-secs W] [--client-threads T]
//!     [--skip PHASE[,PHASE]] [--keep-data-dir] [--prepare N] [--prepare-secs S]
//!     [--describe-calls K]
//! cargo bench --bench storage_engine -- --fleet 20000 --duration-secs 3   # a quick run
//! cargo bench --bench storage_engine -- --fleet 1000000                   # the full run
//! ```
//!
//! Phases: echo, get, register, finalize, job-cutover, fleet, describe,
//! watch, restart. This is a program that prints figures, not a timed
//! test: it runs once.
//!
//! With `--postgres [--replicas R]` the store is a throwaway PostgreSQL
//! cluster with fsync on: echo, get, register, finalize and job-cutover
//! run on a first replica, then registrations spread over 1..R replicas
//! (aggregate rate) with the cross-replica watch delivery delay under the
//! last load; the fleet-size phases are SQLite's and are skipped.

mod args;
mod echo;
mod fleet;
mod load;
mod mutations;
mod prepare;
mod replicas;
mod report;
mod server;

use std::{
    error::Error,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use cutover::pb::v1::{GetSourceServerRequest, RegisterSourceServerRequest};
use tempfile::TempDir;
use tonic::transport::Channel;

use crate::{
    args::{Args, Phase},
    load::{grpc_frame, Frames, Outcome, Plan},
    report::{print_load, Summary},
    server::{clock_ticks, cpu_time, Process, AGENT_SILENCE_SECONDS},
};

/// Any error of a benchmark step.
type BoxError = Box<dyn Error + Send + Sync>;

/// The hidden flag of the echo-server mode.
const SERVE_ECHO: &str = "--serve-echo";

/// Label of the echo phase.
const ECHO: &str = "echo";
const GET_PATH: &str = "/cutover.v1.SourceServerService/GetSourceServer";
pub(crate) const REGISTER_PATH: &str = "/cutover.v1.SourceServerService/RegisterSourceServer";
/// Connections the preparation's tonic client spreads its calls over.
const PREPARE_CONNECTIONS: usize = 4;
/// Prepared resources per measured call the Register rate predicts: the
/// margin for a mutation that is faster than Register.
const PREPARE_MARGIN: f64 = 1.5;

/// The run's settings and the rates measured so far.
pub(crate) struct Bench<'a> {
    pub(crate) args: &'a Args,
    ticks: u64,
    pub(crate) summary: Summary,
}

impl Bench<'_> {
    /// The load shape and timing of the flags.
    pub(crate) fn plan(&self) -> Plan {
        Plan {
            connections: self.args.connections,
            streams: self.args.streams,
            warmup: self.args.warmup,
            duration: self.args.duration,
        }
    }

    /// Runs `frames` against `target` as the flags plan, prints the
    /// figures and records the rate as `label`; the [`ECHO`] phase's rate
    /// becomes the one every other is compared with.
    pub(crate) async fn measure(
        &mut self,
        label: &str,
        target: &Process,
        path: &str,
        frames: Frames,
    ) -> Result<Outcome, BoxError> {
        let (server_cpu, client_cpu) = (target.cpu(self.ticks), cpu_time("self", self.ticks));
        let started = Instant::now();
        let outcome = load::run(target.addr, path, Arc::new(frames), self.plan()).await?;
        let elapsed = started.elapsed();
        if label == ECHO {
            self.summary.set_echo(outcome.rate());
        }
        print_load(
            label,
            &outcome,
            &self.summary,
            target.cpu(self.ticks).saturating_sub(server_cpu),
            cpu_time("self", self.ticks).saturating_sub(client_cpu),
            elapsed,
        );
        self.summary.add(label, outcome.rate());
        Ok(outcome)
    }

    /// How many resources a mutation phase prepares at most: `--prepare`,
    /// or what the Register rate of this run predicts for warm-up plus
    /// window (`--prepare-secs` may cut the preparation shorter).
    pub(crate) fn prepared(&self, register_rate: Option<f64>) -> usize {
        if self.args.prepare > 0 {
            return self.args.prepare;
        }
        // Without a measured rate, the old store's order of magnitude.
        let rate = register_rate.unwrap_or(3000.0);
        let seconds = (self.args.warmup + self.args.duration).as_secs_f64();
        ((rate * seconds * PREPARE_MARGIN) as usize).max(1000)
    }
}

async fn channels(server: &Process, count: usize) -> Result<Vec<Channel>, BoxError> {
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count {
        channels.push(server.connect().await?);
    }
    Ok(channels)
}

async fn run(args: Args) -> Result<(), BoxError> {
    // Declared first so that it is deleted after the server stopped.
    let data_dir = TempDir::new()?;
    let mut bench = Bench {
        args: &args,
        ticks: clock_ticks(),
        summary: Summary::default(),
    };
    let postgres = match args.postgres {
        true => Some(replicas::Cluster::start()?),
        false => None,
    };
    let mut server = match &postgres {
        Some((_, url)) => Process::cutoverd_replica(url, "replica-0")?,
        None => Process::cutoverd(data_dir.path())?,
    };
    println!(
        "cutoverd pid {} at {} (--no-simulator --agent-silence-seconds {AGENT_SILENCE_SECONDS}, CUTOVER_LOG=warn), {}",
        server.pid(),
        server.addr,
        match &postgres {
            Some((_, url)) => format!("PostgreSQL 15 with fsync on at {url}"),
            None => format!("data dir {}", data_dir.path().display()),
        }
    );
    println!(
        "load: {} connections x {} streams, {:?} warm-up + {:?} measured, client runtime of {} thread(s); fleet {}",
        args.connections, args.streams, args.warmup, args.duration, args.client_threads, args.fleet
    );
    println!("machine load average at start: {}", load_average());
    let prep = channels(&server, PREPARE_CONNECTIONS).await?;
    let probe = prepare::registered(&prep[0]).await?;
    let get_frame = grpc_frame(&GetSourceServerRequest {
        source_server_id: probe.clone(),
    });
    println!("GetSourceServer reads {probe}, registered first");
    let mut servers = 1usize;

    if args.runs(Phase::Echo) {
        let mut echo = Process::echo()?;
        let frames = Frames::repeat(get_frame.clone());
        bench.measure(ECHO, &echo, GET_PATH, frames).await?;
        echo.stop(Duration::from_secs(5)).await;
    }
    if args.runs(Phase::Get) {
        let frames = Frames::repeat(get_frame.clone());
        bench
            .measure("GetSourceServer", &server, GET_PATH, frames)
            .await?;
    }
    let mut register_rate = None;
    let register_frame = grpc_frame(&RegisterSourceServerRequest::default());
    if args.runs(Phase::Register) {
        let frames = Frames::repeat(register_frame.clone());
        let label = "RegisterSourceServer";
        let outcome = bench.measure(label, &server, REGISTER_PATH, frames).await?;
        register_rate = Some(outcome.rate());
        servers += outcome.ok_in_all as usize;
    }
    if args.runs(Phase::Finalize) {
        servers += mutations::finalize_phase(&mut bench, &server, &prep, register_rate).await?;
    }
    if args.runs(Phase::JobCutover) {
        servers += mutations::job_cutover_phase(&mut bench, &server, &prep, register_rate).await?;
    }
    if args.runs(Phase::Fleet) {
        servers += fleet::fill_fleet(&mut bench, &server, &register_frame, servers).await?;
        let frames = Frames::repeat(get_frame.clone());
        let label = format!("GetSourceServer at {servers} servers");
        bench.measure(&label, &server, GET_PATH, frames).await?;
    }
    let mut others = Vec::new();
    if let Some((_, url)) = &postgres {
        others = replicas::replicas_phase(&mut bench, &server, url, args.replicas).await?;
    } else {
        fleet::print_footprint(&server, data_dir.path(), servers)?;
    }
    if args.runs(Phase::Describe) {
        let counted = fleet::describe_phase(server.connect().await?, args.describe_calls).await?;
        if counted != servers {
            println!(
                "[describe] note: the walk counted {counted} servers, the bench created {servers}"
            );
        }
    }
    if args.runs(Phase::Watch) {
        fleet::watch_phase(&server, server.connect().await?).await?;
    }
    if args.runs(Phase::Restart) {
        drop(prep);
        server = fleet::restart_phase(server, data_dir.path(), &probe).await?;
        fleet::print_footprint(&server, data_dir.path(), servers)?;
    }
    bench.summary.print();
    println!("machine load average at the end: {}", load_average());
    for mut replica in others {
        replica.stop(Duration::from_secs(10)).await;
    }
    server.stop(Duration::from_secs(60)).await;
    if args.keep_data_dir {
        println!("data dir kept: {}", data_dir.keep().display());
    }
    Ok(())
}

/// The 1, 5 and 15 minute load averages: the two cores are shared, and
/// other work running at the same time moves every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|err| format!("unknown ({err})"))
}

/// Runs the benchmark, or the echo server under `--serve-echo`.
fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some(SERVE_ECHO) {
        return match echo::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("storage_engine echo server: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("storage_engine: {message}");
            return ExitCode::from(2);
        }
    };
    // One thread, like h2load's `-t 1`: the current-thread scheduler, which
    // spends less of the shared cores per call than a 1-worker pool.
    let mut runtime = match args.client_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    };
    let runtime = runtime.enable_all().build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("storage_engine: tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(args));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storage_engine: {err}");
            ExitCode::FAILURE
        }
    }
}
