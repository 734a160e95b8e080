//! The `cutoverd` process under test: starting and stopping it, and reading
//! its memory, thread count and CPU time from `/proc`.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;
use tonic::transport::{Channel, Endpoint};

use crate::BoxError;

use cutover_testkit::proc_status;
pub(crate) use cutover_testkit::{clock_ticks, cpu_time};

/// The `cutoverd` under test, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) endpoint: String,
    _data_dir: TempDir,
}

impl Server {
    /// Starts `cutoverd` on a free loopback port with a fresh data directory
    /// and waits for its "listening on" line.
    pub(crate) fn start() -> Result<Server, BoxError> {
        let data_dir = TempDir::new()?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
            .args(["--no-simulator", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .env("CUTOVER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line {line:?}").into());
        };
        let endpoint = format!("http://{addr}");
        // Keep reading stdout so a later line never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server {
            endpoint,
            child,
            _data_dir: data_dir,
        })
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Opens a new HTTP/2 connection to the server.
    pub(crate) async fn connect(&self) -> Result<Channel, BoxError> {
        Ok(Endpoint::from_shared(self.endpoint.clone())?
            .connect()
            .await?)
    }

    /// Resident memory, KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmRSS:").unwrap_or(0)
    }

    /// The server's current thread count.
    pub(crate) fn threads(&self) -> u64 {
        proc_status(self.pid(), "Threads:").unwrap_or(0)
    }
}

impl Drop for Server {
    /// SIGTERM first (the server drains and exits on its own, which lets an
    /// attached profiler flush), SIGKILL if it is still there after 5 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
