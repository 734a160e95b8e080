//! `cutoverd`'s configuration: every option is a flag and an environment
//! variable, with the embedded single-machine defaults.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use clap::{CommandFactory, Parser, ValueEnum};

/// What the built-in simulator simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulatorMode {
    /// Agents and the replication infrastructure.
    All,
    /// Only the replication infrastructure (the target side).
    Infrastructure,
    /// Nothing: real agents and infrastructure only.
    None,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Options of `cutoverd`. Each is a flag, an environment variable, and a
/// key of the optional TOML config file (the flag's name, with `-` or `_`);
/// a flag beats the environment, which beats the file, which beats the
/// default.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cutoverd",
    version,
    about = "The cutover control plane: a gRPC service for cloud-migration cutovers",
    args_override_self = true
)]
pub struct Config {
    /// TOML file of options (keys are the flags' names).
    #[arg(long, env = "CUTOVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to serve gRPC on; port 0 picks a free port, printed as
    /// `listening on HOST:PORT` on stdout. A socket passed by a service
    /// manager (systemd socket activation: `LISTEN_FDS`) is used instead.
    #[arg(long, env = "CUTOVER_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database (unused with
    /// --database-url).
    #[arg(long, env = "CUTOVER_DATA_DIR", default_value = "./cutover-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL database shared by several replicas (`postgres://...`
    /// URL or libpq `key=value` string) instead of the embedded SQLite one.
    #[arg(long, env = "CUTOVER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// This replica's name in the leases of background duties (default:
    /// host name, process id and a random suffix).
    #[arg(long, env = "CUTOVER_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// Milliseconds a replica's lease on a background duty (scheduler,
    /// compaction, built-in simulator) lasts unless renewed: how long its
    /// duties wait for another replica after it dies.
    #[arg(long, env = "CUTOVER_LEASE_TTL_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(300..))]
    pub lease_ttl_ms: u64,
    /// Milliseconds between polls of the shared log when no notification
    /// came (PostgreSQL only): the bound on how late another replica's
    /// commit is seen when a notification is lost.
    #[arg(long, env = "CUTOVER_LOG_POLL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..))]
    pub log_poll_ms: u64,
    /// Simulated time runs this many times faster: every duration the
    /// service applies (agent pace, job frequency, deadlines, heartbeat
    /// window) is divided by it. At least 1.
    #[arg(long, env = "CUTOVER_SIM_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
    pub sim_speed: f64,
    /// What the built-in simulator simulates: `all` (agents and the
    /// replication infrastructure), `infrastructure` (only the target
    /// side: agents are real processes) or `none`.
    #[arg(long, env = "CUTOVER_SIMULATOR", value_enum, default_value_t = SimulatorMode::All)]
    pub simulator: SimulatorMode,
    /// Shorthand for `--simulator none`: real agents and infrastructure
    /// only.
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
    /// Milliseconds between compactions of the event log (and deletions
    /// of forgotten client tokens).
    #[arg(long, env = "CUTOVER_COMPACTION_INTERVAL_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub compaction_interval_ms: u64,
    /// Seconds a client token is remembered: a retry within it replays the
    /// first answer; after it, the token is forgotten.
    #[arg(long, env = "CUTOVER_CLIENT_TOKEN_RETENTION_SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    pub client_token_retention_seconds: u64,
    /// PEM certificate chain of the server; with --tls-key, serves TLS.
    #[arg(long, env = "CUTOVER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the server.
    #[arg(long, env = "CUTOVER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates client certificates must chain to (mutual TLS).
    #[arg(long, env = "CUTOVER_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Client certificate identities and their accounts (`KIND:VALUE
    /// ACCOUNT_ID` per line; KIND is dns, uri, email or cn): with mutual
    /// TLS, a certificate alone authenticates its account.
    #[arg(
        long,
        env = "CUTOVER_CLIENT_IDENTITIES_FILE",
        requires = "tls_client_ca"
    )]
    pub client_identities_file: Option<PathBuf>,
    /// Serve without authentication on a non-loopback address (unsafe).
    #[arg(long, env = "CUTOVER_INSECURE")]
    pub insecure: bool,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "CUTOVER_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_message_bytes: u32,
    /// Most concurrent HTTP/2 streams (calls and watches) per connection.
    #[arg(long, env = "CUTOVER_MAX_CONCURRENT_STREAMS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,
    /// Most unary calls in progress per connection.
    #[arg(long, env = "CUTOVER_MAX_CALLS_PER_CONNECTION", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_calls_per_connection: u64,
    /// Longest a unary call may run, in seconds (a shorter `grpc-timeout`
    /// from the client wins).
    #[arg(long, env = "CUTOVER_REQUEST_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_seconds: u64,
    /// Seconds between HTTP/2 keepalive pings to idle clients.
    #[arg(long, env = "CUTOVER_KEEPALIVE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive_seconds: u64,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); port 0
    /// picks a free port, printed as `metrics on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Address of the AWS MGN endpoint (restJson1, SigV4), for the AWS
    /// SDKs; off unless given. Port 0 picks a free port, printed as
    /// `mgn on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_MGN_LISTEN")]
    pub mgn_listen: Option<SocketAddr>,
    /// Address of the Alibaba Cloud SMC endpoint (RPC style, ACS3 or
    /// HMAC-SHA1 signatures), for Alibaba's SDKs; off unless given. Port 0
    /// picks a free port, printed as `smc on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_SMC_LISTEN")]
    pub smc_listen: Option<SocketAddr>,
    /// Access keys of the MGN and SMC endpoints: lines of
    /// `ACCESS_KEY_ID SECRET ACCOUNT_ID`, readable by the owner only.
    /// Without it those endpoints take any well-formed signature as the
    /// built-in account, and only on loopback.
    #[arg(long, env = "CUTOVER_ACCESS_KEYS_FILE")]
    pub access_keys_file: Option<PathBuf>,
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

impl Config {
    /// True when callers must authenticate: with a tokens file or client
    /// certificate identities.
    pub fn authenticates(&self) -> bool {
        self.tokens_file.is_some() || self.client_identities_file.is_some()
    }

    /// What the built-in simulator simulates, `--no-simulator` applied.
    pub fn simulated(&self) -> Option<crate::simulator::Simulated> {
        match (self.no_simulator, self.simulator) {
            (true, _) | (false, SimulatorMode::None) => None,
            (false, SimulatorMode::All) => Some(crate::simulator::Simulated::Everything),
            (false, SimulatorMode::Infrastructure) => {
                Some(crate::simulator::Simulated::Infrastructure)
            }
        }
    }

    /// The configuration from the command line, the environment and the
    /// config file. Must run before any thread is started: the file's
    /// values become environment defaults for the parse.
    pub fn load() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().collect();
        let path = args
            .iter()
            .enumerate()
            .find_map(|(i, arg)| match arg.strip_prefix("--config") {
                Some("") => args.get(i + 1).cloned(),
                Some(rest) => rest.strip_prefix('=').map(str::to_owned),
                None => None,
            })
            .or_else(|| std::env::var("CUTOVER_CONFIG").ok());
        if let Some(path) = path {
            for (name, value) in file_defaults(Path::new(&path))? {
                if std::env::var_os(&name).is_none() {
                    std::env::set_var(name, value);
                }
            }
        }
        Ok(Config::parse())
    }
}

/// The config file's settings as (environment variable, value) pairs.
fn file_defaults(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    config_file_defaults(&text, path)
}

/// The settings of config file text `text` as (environment variable,
/// value) pairs; `path` only names the file in errors. Any text gets an
/// answer: an error names the file and what is wrong.
pub fn config_file_defaults(text: &str, path: &Path) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let command = Config::command();
    table
        .into_iter()
        .map(|(key, value)| {
            let id = key.replace('-', "_");
            let env = command
                .get_arguments()
                .filter(|arg| arg.get_id().as_str() == id && id != "config")
                .find_map(|arg| arg.get_env())
                .ok_or_else(|| format!("{}: unknown option {key:?}", path.display()))?;
            let value = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(x) => x.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "{}: {key} must be a string, number or boolean, got {other}",
                        path.display()
                    ))
                }
            };
            // The value becomes an environment variable, which cannot
            // hold a NUL (setting one panics).
            if value.contains('\0') {
                return Err(format!(
                    "{}: {key} must not contain a NUL character (\\u0000)",
                    path.display()
                ));
            }
            Ok((env.to_string_lossy().into_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_values_become_environment_defaults() {
        let pairs = config_file_defaults(
            "region = \"eu-west-1\"\nsim-speed = 2.5\ninsecure = true\n",
            Path::new("c.toml"),
        );
        let mut pairs = pairs.expect("a valid file");
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("CUTOVER_INSECURE".to_owned(), "true".to_owned()),
                ("CUTOVER_REGION".to_owned(), "eu-west-1".to_owned()),
                ("CUTOVER_SIM_SPEED".to_owned(), "2.5".to_owned()),
            ]
        );
    }

    /// Found with the `config_file` fuzz target (its input is
    /// fuzz/corpus/config_file/crash-nul-value): `Config::load` put the
    /// value in the environment, and `std::env::set_var` panics on a NUL.
    #[test]
    fn config_file_values_with_nul_are_refused() {
        let err = config_file_defaults("region = \"us\\u0000east\"\n", Path::new("c.toml"))
            .expect_err("a NUL cannot go into the environment");
        assert!(
            err.starts_with("c.toml: region must not contain a NUL"),
            "{err}"
        );
    }
}
