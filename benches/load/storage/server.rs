//! The processes under test: the bare echo server and `cutoverd`, started
//! on a free loopback port, and what `/proc` says about them.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use cutover::server::DATABASE_FILE;
use cutover_testkit::{cutoverd_binary, ServerProcess};
use tonic::transport::{Channel, Endpoint};

use crate::BoxError;

pub(crate) use cutover_testkit::{clock_ticks, cpu_time};

/// Allowed agent silence of the cutoverd under test: a week.
pub(crate) const AGENT_SILENCE_SECONDS: &str = "604800";

/// A server process that printed `listening on ADDR`; stopped on drop.
pub(crate) struct Process {
    process: ServerProcess,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// From spawning to the `listening on` line.
    pub(crate) started_in: Duration,
}

impl Process {
    /// Spawns `command` and waits for its `listening on` line.
    fn spawn(command: Command) -> Result<Process, BoxError> {
        let (process, addrs) = ServerProcess::spawn(command, &["listening on "])?;
        Ok(Process {
            addr: addrs[0],
            started_in: process.started_in(),
            process,
        })
    }

    /// The load tool itself in its [`SERVE_ECHO`](crate::storage::SERVE_ECHO)
    /// mode.
    pub(crate) fn echo() -> Result<Process, BoxError> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg(crate::storage::SERVE_ECHO);
        Process::spawn(command)
    }

    /// The release `cutoverd` without the simulator, on `data_dir`. The
    /// bench's agents report once: with the default 300 s of allowed
    /// silence, the scheduler would mark their servers STALLED, writes in
    /// the background of later phases.
    pub(crate) fn cutoverd(data_dir: &Path) -> Result<Process, BoxError> {
        let mut command = Command::new(cutoverd_binary());
        command
            .args(["--no-simulator", "--listen", "127.0.0.1:0"])
            .args(["--agent-silence-seconds", AGENT_SILENCE_SECONDS])
            .arg("--data-dir")
            .arg(data_dir)
            .env("CUTOVER_LOG", "warn");
        Process::spawn(command)
    }

    /// The release `cutoverd` without the simulator, as replica `name` of
    /// the PostgreSQL database at `url`.
    pub(crate) fn cutoverd_replica(url: &str, name: &str) -> Result<Process, BoxError> {
        let mut command = Command::new(cutoverd_binary());
        command
            .args(["--no-simulator", "--listen", "127.0.0.1:0"])
            .args(["--agent-silence-seconds", AGENT_SILENCE_SECONDS])
            .args(["--database-url", url, "--replica-id", name])
            .env("CUTOVER_LOG", "warn");
        Process::spawn(command)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// `http://ADDR`, for tonic.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Opens a new HTTP/2 connection with tonic. The adaptive window lets
    /// a snapshot or a page of 1000 servers stream without waiting for
    /// 64 KiB window updates.
    pub(crate) async fn connect(&self) -> Result<Channel, BoxError> {
        Ok(Endpoint::from_shared(self.endpoint())?
            .tcp_nodelay(true)
            .http2_adaptive_window(true)
            .connect()
            .await?)
    }

    /// Resident memory, KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        self.process.rss_kib()
    }

    /// Peak resident memory since start or the last [`Self::reset_peak`], KiB.
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        self.process.peak_rss_kib()
    }

    /// Resets the peak to the current RSS.
    pub(crate) fn reset_peak(&self) -> Result<(), BoxError> {
        Ok(self.process.reset_peak()?)
    }

    /// User + system CPU time used so far.
    pub(crate) fn cpu(&self, ticks_per_second: u64) -> Duration {
        self.process.cpu(ticks_per_second)
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`); returns
    /// how long the process took to exit.
    pub(crate) async fn stop(&mut self, grace: Duration) -> Duration {
        self.process.stop(grace).await.0
    }
}

/// The database files in `data_dir` (`cutover.db` and its `-wal` and
/// `-shm`) with their sizes in bytes.
pub(crate) fn database_files(data_dir: &Path) -> Result<Vec<(PathBuf, u64)>, BoxError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(DATABASE_FILE) {
            files.push((entry.path(), entry.metadata()?.len()));
        }
    }
    files.sort();
    Ok(files)
}
