//! The `cutoverd` under test: started with the simulator, small event
//! retention and the metrics endpoint; read from `/proc`, its data
//! directory and its metrics; stopped with SIGTERM.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use cutover_testkit::{cutoverd_binary, ServerProcess};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Channel, Endpoint};

use crate::{soak::args::Args, BoxError};

/// Allowed agent silence: 30 min, 30 s at the default --sim-speed 60. A
/// load spike must not stall a pool server (its rehearsal would fail).
const AGENT_SILENCE_SECONDS: &str = "1800";

/// The database files the table sums.
const DATABASE_FILES: [&str; 3] = ["cutover.db", "cutover.db-wal", "cutover.db-shm"];

/// The running `cutoverd`; stopped on drop if still there.
pub(crate) struct Server {
    // Before the scratch directory: the process stops before it is removed.
    process: ServerProcess,
    /// gRPC address.
    pub(crate) addr: SocketAddr,
    /// Metrics address.
    metrics: SocketAddr,
    /// Where the database lives.
    pub(crate) data_dir: PathBuf,
    /// cutoverd's stderr.
    pub(crate) log: PathBuf,
    scratch: Option<TempDir>,
}

impl Server {
    /// Starts the release `cutoverd` on free loopback ports with a fresh
    /// data directory, and waits for its address lines.
    pub(crate) fn start(args: &Args) -> Result<Server, BoxError> {
        let scratch = TempDir::new()?;
        let data_dir = scratch.path().join("data");
        std::fs::create_dir(&data_dir)?;
        let log = scratch.path().join("cutoverd.log");
        let mut command = Command::new(cutoverd_binary());
        command
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .args([
                "--simulator",
                "all",
                "--sim-speed",
                &args.sim_speed.to_string(),
            ])
            .args(["--event-retention-count", &args.retention.to_string()])
            .args(["--compaction-interval-ms", &args.compaction_ms.to_string()])
            .args([
                "--client-token-retention-seconds",
                &args.token_retention_secs.to_string(),
            ])
            .args(["--agent-silence-seconds", AGENT_SILENCE_SECONDS])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("CUTOVER_LOG", "warn")
            .env("NO_COLOR", "1")
            .stderr(std::fs::File::create(&log)?);
        let (process, addrs) = ServerProcess::spawn(command, &["listening on ", "metrics on "])
            .map_err(|err| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                format!("cutoverd did not start: {err}; its log:\n{log}")
            })?;
        Ok(Server {
            process,
            addr: addrs[0],
            metrics: addrs[1],
            data_dir,
            log,
            scratch: Some(scratch),
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Opens a new HTTP/2 connection.
    pub(crate) async fn connect(&self) -> Result<Channel, BoxError> {
        Ok(Endpoint::from_shared(format!("http://{}", self.addr))?
            .tcp_nodelay(true)
            .connect()
            .await?)
    }

    /// Resident memory, KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        self.process.rss_kib()
    }

    /// Open file descriptors (entries of `/proc/PID/fd`).
    pub(crate) fn open_files(&self) -> u64 {
        self.process.open_files()
    }

    /// Bytes of `cutover.db`, its `-wal` and `-shm`.
    pub(crate) fn database_bytes(&self) -> u64 {
        database_bytes(&self.data_dir)
    }

    /// Bytes of `cutover.db-wal` alone.
    pub(crate) fn wal_bytes(&self) -> u64 {
        std::fs::metadata(self.data_dir.join(DATABASE_FILES[1])).map_or(0, |m| m.len())
    }

    /// The unlabelled samples of the metrics endpoint (`name value`).
    pub(crate) async fn metrics(&self) -> Result<HashMap<String, f64>, BoxError> {
        let mut stream = tokio::net::TcpStream::connect(self.metrics).await?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            .await?;
        let mut body = String::new();
        stream.read_to_string(&mut body).await?;
        Ok(body
            .lines()
            .filter(|line| !line.starts_with('#') && !line.contains('{'))
            .filter_map(|line| {
                let (name, value) = line.split_once(' ')?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect())
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.process.running()
    }

    /// SIGTERM, then waits up to `grace` for the exit (SIGKILL after it);
    /// how long it took, and whether it exited on its own with success.
    pub(crate) async fn stop(&mut self, grace: Duration) -> (Duration, bool) {
        let (took, status) = self.process.stop(grace).await;
        (took, status.is_some_and(|status| status.success()))
    }

    /// Keeps the data directory and the log after the run.
    pub(crate) fn keep(&mut self) -> Option<PathBuf> {
        self.scratch.take().map(TempDir::keep)
    }
}

/// Bytes of the database files in `data_dir`.
fn database_bytes(data_dir: &Path) -> u64 {
    DATABASE_FILES
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|meta| meta.len())
        .sum()
}
