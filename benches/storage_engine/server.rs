//! The processes under test: the bare echo server and `cutoverd`, started
//! on a free loopback port, and what `/proc` says about them.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cutover::server::DATABASE_FILE;
use tonic::transport::{Channel, Endpoint};

use crate::BoxError;

use cutover_testkit::proc_status;
pub(crate) use cutover_testkit::{clock_ticks, cpu_time};

/// Allowed agent silence of the cutoverd under test: a week.
pub(crate) const AGENT_SILENCE_SECONDS: &str = "604800";

/// A server process that printed `listening on ADDR`; stopped on drop.
pub(crate) struct Process {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// From spawning to the `listening on` line.
    pub(crate) started_in: Duration,
}

impl Process {
    /// Spawns `command` and waits for its `listening on` line.
    fn spawn(mut command: Command) -> Result<Process, BoxError> {
        let spawned = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let started_in = spawned.elapsed();
        let addr = match line.trim().strip_prefix("listening on ") {
            Some(addr) => addr.parse::<SocketAddr>(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("unexpected first line {line:?}").into());
            }
        };
        let addr = match addr {
            Ok(addr) => addr,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("listening address in {line:?}: {err}").into());
            }
        };
        // Keep reading stdout so a later line never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Process {
            child,
            addr,
            started_in,
        })
    }

    /// The bench binary itself in its `--serve-echo` mode.
    pub(crate) fn echo() -> Result<Process, BoxError> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg(crate::SERVE_ECHO);
        Process::spawn(command)
    }

    /// The release `cutoverd` without the simulator, on `data_dir`. The
    /// bench's agents report once: with the default 300 s of allowed
    /// silence, the scheduler would mark their servers STALLED, writes in
    /// the background of later phases.
    pub(crate) fn cutoverd(data_dir: &Path) -> Result<Process, BoxError> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cutoverd"));
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_cutoverd"));
        command
            .args(["--no-simulator", "--listen", "127.0.0.1:0"])
            .args(["--agent-silence-seconds", AGENT_SILENCE_SECONDS])
            .args(["--database-url", url, "--replica-id", name])
            .env("CUTOVER_LOG", "warn");
        Process::spawn(command)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
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
        proc_status(self.pid(), "VmRSS:").unwrap_or(0)
    }

    /// Peak resident memory since start or the last [`Self::reset_peak`], KiB.
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmHWM:").unwrap_or(0)
    }

    /// Resets VmHWM to the current RSS (`5` in `clear_refs`, Linux 4.0+).
    pub(crate) fn reset_peak(&self) -> Result<(), BoxError> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")?;
        Ok(())
    }

    /// User + system CPU time used so far.
    pub(crate) fn cpu(&self, ticks_per_second: u64) -> Duration {
        cpu_time(&self.pid().to_string(), ticks_per_second)
    }

    /// Sends SIGTERM: cutoverd drains, checkpoints and exits on its own.
    fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`); returns
    /// how long the process took to exit. It waits without blocking the
    /// runtime: cutoverd's graceful shutdown waits for its clients to close
    /// their connections, which takes the client's connection tasks.
    pub(crate) async fn stop(&mut self, grace: Duration) -> Duration {
        let asked = Instant::now();
        self.terminate();
        while asked.elapsed() < grace {
            if self.exited() {
                return asked.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        asked.elapsed()
    }
}

impl Drop for Process {
    /// For the error paths: SIGTERM, SIGKILL if the process is still there
    /// after 5 s.
    fn drop(&mut self) {
        if self.exited() {
            return;
        }
        self.terminate();
        let asked = Instant::now();
        while !self.exited() && asked.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
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
