//! `cutover-agent`: a replication agent for one source server, with
//! simulated disks, speaking the agent protocol to a `cutoverd`. It prints
//! `source server ID` as its first line on stdout, then reports replication
//! and carries out commands until SIGINT or SIGTERM.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use cutover_agent::{Agent, AgentSettings, Credentials};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing_subscriber::EnvFilter;

/// Options of `cutover-agent`.
#[derive(Debug, Parser)]
#[command(
    name = "cutover-agent",
    version,
    about = "A replication agent with simulated disks for one source server"
)]
struct Options {
    /// The service to report to.
    #[arg(long, env = "CUTOVER_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Bearer token (when the service has a tokens file).
    #[arg(long, env = "CUTOVER_TOKEN")]
    token: Option<String>,
    /// The source server to report for; without it the first report
    /// registers a new one.
    #[arg(long, env = "CUTOVER_SOURCE_SERVER_ID")]
    source_server_id: Option<String>,
    /// Simulated time runs this many times faster (like `cutoverd --sim-speed`).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Never acknowledge the uninstall command (to watch a task go overdue).
    #[arg(long)]
    ignore_uninstall: bool,
    /// This agent's own identity, kept across restarts by whoever installs
    /// it (a machine id, say): a report without a server id is about the
    /// server this instance registered, so a retried first report never
    /// registers a second one. Without it, a random one per start.
    #[arg(long, env = "CUTOVER_AGENT_INSTANCE_ID")]
    instance_id: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let filter = EnvFilter::try_from_env("CUTOVER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let speed = if options.speed.is_finite() && options.speed >= 1.0 {
        options.speed
    } else {
        1.0
    };
    let span =
        |seconds: f64| Duration::from_secs_f64(seconds / speed).max(Duration::from_millis(10));
    let settings = AgentSettings {
        tick: span(1.0),
        heartbeat: span(75.0),
        task_time: span(60.0),
        ignore_uninstall: options.ignore_uninstall,
    };
    let credentials = match options
        .token
        .as_deref()
        .map(|token| Credentials::bearer(token, None))
    {
        Some(Ok(credentials)) => credentials,
        Some(Err(err)) => {
            eprintln!("cutover-agent: {err}");
            return ExitCode::FAILURE;
        }
        None => Credentials::none(),
    };
    let channel = match Channel::from_shared(options.server.clone()) {
        Ok(endpoint) => endpoint.connect_lazy(),
        Err(err) => {
            eprintln!("cutover-agent: bad --server {:?}: {err}", options.server);
            return ExitCode::FAILURE;
        }
    };
    let instance = options
        .instance_id
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 16]>()));
    let mut agent = Agent::new(
        channel,
        credentials,
        options.source_server_id.unwrap_or_default(),
        settings,
    )
    .with_instance_id(instance);
    if let Err(status) = agent.resume().await {
        eprintln!(
            "cutover-agent: cannot reach {}: {}",
            options.server,
            status.message()
        );
        return ExitCode::FAILURE;
    }
    println!("source server {}", agent.server_id());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    #[cfg(unix)]
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            terminate.recv().await;
            stop.cancel();
        });
    }
    agent.run(shutdown).await;
    ExitCode::SUCCESS
}
