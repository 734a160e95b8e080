//! The `cutoverd` under test: started with the simulator, small event
//! retention and the metrics endpoint; read from `/proc`, its data
//! directory and its metrics; stopped with SIGTERM.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Channel, Endpoint};

use cutover_testkit::proc_status;

use crate::{args::Args, BoxError};

/// Allowed agent silence: 30 min, 30 s at the default --sim-speed 60. A
/// load spike must not stall a pool server (its rehearsal would fail).
const AGENT_SILENCE_SECONDS: &str = "1800";

/// The database files the table sums.
const DATABASE_FILES: [&str; 3] = ["cutover.db", "cutover.db-wal", "cutover.db-shm"];

/// The running `cutoverd`; killed on drop if still there.
pub(crate) struct Server {
    child: Child,
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
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
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = |prefix: &str| -> Result<SocketAddr, BoxError> {
            let mut line = String::new();
            stdout.read_line(&mut line)?;
            let addr = line
                .trim()
                .strip_prefix(prefix)
                .ok_or_else(|| format!("expected {prefix:?}, got {line:?}"))?;
            Ok(addr.parse()?)
        };
        let addrs = line("listening on ").and_then(|grpc| Ok((grpc, line("metrics on ")?)));
        let (addr, metrics) = match addrs {
            Ok(addrs) => addrs,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("cutoverd did not start: {err}; its log:\n{log}").into());
            }
        };
        // Keep reading stdout so a later line never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server {
            child,
            addr,
            metrics,
            data_dir,
            log,
            scratch: Some(scratch),
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
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
        proc_status(self.pid(), "VmRSS:").unwrap_or(0)
    }

    /// Open file descriptors (entries of `/proc/PID/fd`).
    pub(crate) fn open_files(&self) -> u64 {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count() as u64)
            .unwrap_or(0)
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
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits up to `grace` for the exit (SIGKILL after it);
    /// how long it took, and whether it exited on its own with success.
    pub(crate) async fn stop(&mut self, grace: Duration) -> (Duration, bool) {
        let asked = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        while asked.elapsed() < grace {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (asked.elapsed(), status.success());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        (asked.elapsed(), false)
    }

    /// Keeps the data directory and the log after the run.
    pub(crate) fn keep(&mut self) -> Option<PathBuf> {
        self.scratch.take().map(TempDir::keep)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
