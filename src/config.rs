//! `cutoverd`'s configuration: every option is a flag and an environment
//! variable, with the embedded single-machine defaults.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Options of `cutoverd`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cutoverd",
    version,
    about = "The cutover control plane: a gRPC service for cloud-migration cutovers"
)]
pub struct Config {
    /// Address to serve gRPC on; port 0 picks a free port, printed as
    /// `listening on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "CUTOVER_DATA_DIR", default_value = "./cutover-data")]
    pub data_dir: PathBuf,
    /// Simulated time runs this many times faster: every duration the
    /// service applies (agent pace, job frequency, deadlines, heartbeat
    /// window) is divided by it. At least 1.
    #[arg(long, env = "CUTOVER_SIM_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
    pub sim_speed: f64,
    /// Turn the built-in simulated data plane off (real agents only).
    #[arg(long, env = "CUTOVER_NO_SIMULATOR")]
    pub no_simulator: bool,
    /// Bearer tokens file (`SHA256_HEX ACCOUNT_ID` per line); without it
    /// every call acts as the built-in account 000000000000.
    #[arg(long, env = "CUTOVER_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// ARN partition.
    #[arg(long, env = "CUTOVER_PARTITION", default_value = "aws")]
    pub partition: String,
    /// ARN region.
    #[arg(long, env = "CUTOVER_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Log format.
    #[arg(long, env = "CUTOVER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds an agent may be silent before its replication is STALLED
    /// (compressed by --sim-speed).
    #[arg(long, env = "CUTOVER_AGENT_SILENCE_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub agent_silence_seconds: u64,
    /// Most lifecycle events kept in the log; older ones are compacted.
    #[arg(
        long,
        env = "CUTOVER_EVENT_RETENTION_COUNT",
        default_value_t = 1_000_000
    )]
    pub event_retention_count: u64,
    /// Hours lifecycle events are kept (0: no age limit).
    #[arg(long, env = "CUTOVER_EVENT_RETENTION_HOURS", default_value_t = 168)]
    pub event_retention_hours: u64,
    /// Milliseconds between compactions of the event log.
    #[arg(long, env = "CUTOVER_COMPACTION_INTERVAL_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub compaction_interval_ms: u64,
    /// Seconds open calls get to finish on shutdown.
    #[arg(long, env = "CUTOVER_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
}

fn parse_speed(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed >= 1.0 => Ok(speed),
        _ => Err(format!("must be a number >= 1, got {value:?}")),
    }
}
