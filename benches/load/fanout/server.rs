//! The `cutoverd` process under test: starting it and reading its memory,
//! thread count and CPU time from `/proc`.

use std::process::Command;

use cutover_testkit::{cutoverd_binary, ServerProcess};
use tempfile::TempDir;
use tonic::transport::{Channel, Endpoint};

use crate::BoxError;

pub(crate) use cutover_testkit::{clock_ticks, cpu_time};

/// The `cutoverd` under test; stopped on drop (SIGTERM, then SIGKILL).
pub(crate) struct Server {
    // Before the data directory: the process stops before it is removed.
    process: ServerProcess,
    pub(crate) endpoint: String,
    _data_dir: TempDir,
}

impl Server {
    /// Starts `cutoverd` on a free loopback port with a fresh data directory
    /// and waits for its "listening on" line.
    pub(crate) fn start() -> Result<Server, BoxError> {
        let data_dir = TempDir::new()?;
        let mut command = Command::new(cutoverd_binary());
        command
            .args(["--no-simulator", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .env("CUTOVER_LOG", "warn");
        let (process, addrs) = ServerProcess::spawn(command, &["listening on "])?;
        Ok(Server {
            process,
            endpoint: format!("http://{}", addrs[0]),
            _data_dir: data_dir,
        })
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Opens a new HTTP/2 connection to the server.
    pub(crate) async fn connect(&self) -> Result<Channel, BoxError> {
        Ok(Endpoint::from_shared(self.endpoint.clone())?
            .connect()
            .await?)
    }

    /// Resident memory, KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        self.process.rss_kib()
    }

    /// The server's current thread count.
    pub(crate) fn threads(&self) -> u64 {
        self.process.threads()
    }
}
