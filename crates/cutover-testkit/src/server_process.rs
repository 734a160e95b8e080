//! A server process that announces where it listens on stdout, as the
//! benchmarks run it: failures come back as errors (a benchmark reports
//! them and exits), and it is stopped the way an operator stops it,
//! SIGTERM first.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, ChildStdout, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use crate::{cpu_time, proc_status};

/// How often a stop looks for the exit. Short: how long a shutdown took is
/// one of the figures.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// How long a dropped process gets to exit on SIGTERM before SIGKILL.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// A running server (`cutoverd`, or a benchmark's own echo server); on
/// drop, SIGTERM, then SIGKILL if it is still there after 5 s.
pub struct ServerProcess {
    child: Child,
    started_in: Duration,
}

/// The address on the next stdout line, which must be `prefix` then the
/// address.
fn announced(stdout: &mut BufReader<ChildStdout>, prefix: &str) -> Result<SocketAddr, String> {
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .map_err(|err| format!("reading {prefix:?}: {err}"))?;
    let addr = line
        .trim()
        .strip_prefix(prefix)
        .ok_or_else(|| format!("expected {prefix:?}, got {line:?}"))?;
    addr.parse()
        .map_err(|err| format!("the address in {line:?}: {err}"))
}

impl ServerProcess {
    /// Spawns `command` with its stdout piped (stderr as the command
    /// says) and reads one line per entry of `announcements` (`"listening
    /// on "`, `"metrics on "`), returning their addresses in that order. A
    /// process that does not announce them is killed. Its later stdout is
    /// read and dropped in a thread, so a line it prints never meets a
    /// closed pipe.
    pub fn spawn(
        mut command: Command,
        announcements: &[&str],
    ) -> Result<(ServerProcess, Vec<SocketAddr>), String> {
        let spawned = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| format!("spawn {command:?}: {err}"))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("a piped stdout"));
        let mut addrs = Vec::with_capacity(announcements.len());
        for prefix in announcements {
            match announced(&mut stdout, prefix) {
                Ok(addr) => addrs.push(addr),
                Err(err) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(err);
                }
            }
        }
        let started_in = spawned.elapsed();
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok((ServerProcess { child, started_in }, addrs))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// From spawning to the last announcement.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM: the server drains and exits on its own.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
    }

    /// SIGTERM, then waits up to `grace` for the exit (SIGKILL after it);
    /// how long it took, and the exit status if the process exited on its
    /// own. It waits without blocking the runtime: a graceful shutdown
    /// waits for the clients to close their connections, which takes the
    /// clients' connection tasks.
    pub async fn stop(&mut self, grace: Duration) -> (Duration, Option<ExitStatus>) {
        let asked = Instant::now();
        self.terminate();
        while asked.elapsed() < grace {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (asked.elapsed(), Some(status));
            }
            tokio::time::sleep(EXIT_POLL).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        (asked.elapsed(), None)
    }

    /// Resident memory, KiB (0 once the process is gone).
    pub fn rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmRSS:").unwrap_or(0)
    }

    /// Peak resident memory since start or the last
    /// [`ServerProcess::reset_peak`], KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmHWM:").unwrap_or(0)
    }

    /// Resets the peak to the current resident memory (`5` in
    /// `clear_refs`, Linux 4.0+).
    pub fn reset_peak(&self) -> std::io::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
    }

    /// Threads of the process.
    pub fn threads(&self) -> u64 {
        proc_status(self.pid(), "Threads:").unwrap_or(0)
    }

    /// Open file descriptors (entries of `/proc/PID/fd`).
    pub fn open_files(&self) -> u64 {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count() as u64)
            .unwrap_or(0)
    }

    /// User + system CPU time used so far.
    pub fn cpu(&self, ticks_per_second: u64) -> Duration {
        cpu_time(&self.pid().to_string(), ticks_per_second)
    }
}

impl Drop for ServerProcess {
    /// SIGTERM first (the server drains and exits on its own, which lets an
    /// attached profiler flush), SIGKILL if it is still there after 5 s.
    fn drop(&mut self) {
        if !self.running() {
            return;
        }
        self.terminate();
        let asked = Instant::now();
        while self.running() && asked.elapsed() < DROP_GRACE {
            std::thread::sleep(EXIT_POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
