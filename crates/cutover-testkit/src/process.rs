//! The processes under test: `cutoverd` on an ephemeral loopback port and
//! `cutover-agent`, each killed on drop.

use std::{
    io::{BufRead, BufReader, Read},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
};

use command_fds::{CommandFdExt, FdMapping};

use cutover_proto::v1::{
    account_service_client::AccountServiceClient, lifecycle_service_client::LifecycleServiceClient,
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient,
};
use tempfile::TempDir;

use crate::{
    database_for,
    in_process::{Bound, InProcess},
    proc_status, servers_use_postgres,
};
use tonic::transport::Channel;

/// Spawns `command` with `CUTOVER_LOG=log` and its stdout piped; stderr is
/// inherited, or piped when `capture_stderr`.
fn spawn(mut command: Command, log: &str, capture_stderr: bool) -> (Child, BufReader<ChildStdout>) {
    let stderr = if capture_stderr {
        Stdio::piped()
    } else {
        Stdio::inherit()
    };
    let mut child = command
        .env("CUTOVER_LOG", log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {command:?}: {err}"));
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

/// The rest of the next stdout line, which must start with `prefix`.
fn read_prefixed(stdout: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read a line");
    line.trim()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
        .to_owned()
}

/// Where cargo put the workspace's binaries for the profile the running
/// test or bench was built with: the directory above the `deps/` its
/// executable runs from. This crate is not the `cutover` package, so
/// `CARGO_BIN_EXE_cutoverd` is not set when it compiles; cargo builds a
/// package's binaries before its integration tests and benches, and
/// `scripts/test` builds the other crates' binaries.
pub fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running executable");
    let dir = exe.parent().expect("the executable's directory");
    match dir.file_name() {
        Some(name) if name == "deps" => dir.parent().unwrap_or(dir).to_owned(),
        _ => dir.to_owned(),
    }
}

/// The `cutoverd` binary of the running test's or bench's profile.
pub fn cutoverd_binary() -> PathBuf {
    workspace_binary("cutoverd")
}

/// A binary of the workspace (`cutoverd`, `cutoverctl`, `cutover-agent`),
/// in [`binary_dir`] (`scripts/test` builds every binary of the workspace
/// first).
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = binary_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `scripts/test`, which builds every binary of the workspace \
         (or `cargo build --workspace --bins` first)",
        path.display()
    );
    path
}

/// The grpcurl binary, a peer of several suites: `$GRPCURL`, else
/// `grpcurl` on PATH; panics otherwise (the tests fail, never skip).
pub fn grpcurl() -> PathBuf {
    if let Some(path) = std::env::var_os("GRPCURL").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "GRPCURL={} does not exist: run `scripts/test`, which installs grpcurl",
            path.display()
        );
        return path;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("grpcurl"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "grpcurl not found (neither $GRPCURL nor on PATH): run `scripts/test`, which \
                 installs it and sets GRPCURL, instead of a bare `cargo test`"
            )
        })
}

/// A running `cutoverd`: a process, killed on drop, or the same service
/// inside the test process ([`TestServer::in_process`]), stopped on drop.
pub struct TestServer {
    child: Option<Child>,
    in_process: Option<InProcess>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The metrics endpoint, when started with `--metrics-listen`.
    pub metrics_addr: Option<String>,
    /// The MGN endpoint (`127.0.0.1:PORT`), when started with
    /// `--mgn-listen`.
    pub mgn_addr: Option<String>,
    /// The SMC endpoint, when started with `--smc-listen`.
    pub smc_addr: Option<String>,
    /// The data directory (kept across restarts by the owner).
    pub data_dir: PathBuf,
    _owned_dir: Option<TempDir>,
}

impl TestServer {
    /// A server on a fresh data directory.
    pub fn start(args: &[&str]) -> TestServer {
        let dir = TempDir::new().expect("temp dir");
        let mut server = TestServer::start_in(dir.path(), args);
        server._owned_dir = Some(dir);
        server
    }

    /// A server on `data_dir` (which the caller keeps).
    pub fn start_in(data_dir: &Path, args: &[&str]) -> TestServer {
        TestServer::launch(data_dir, args, "warn", false, None)
    }

    /// A server on `data_dir` serving `socket`, passed the way systemd's
    /// socket activation does (fd 3, `LISTEN_FDS=1`). The caller keeps the
    /// socket: a restarted server serves the same address, which nothing
    /// else can take in between, and connections made while no server runs
    /// wait in the socket's backlog.
    pub fn start_on(socket: &TcpListener, data_dir: &Path, args: &[&str]) -> TestServer {
        TestServer::launch(data_dir, args, "warn", false, Some(socket))
    }

    /// A server on a fresh data directory that logs at `log` (a
    /// `CUTOVER_LOG` filter) into a pipe [`TestServer::kill_and_read_logs`]
    /// reads.
    pub fn start_logging(args: &[&str], log: &str) -> TestServer {
        let dir = TempDir::new().expect("temp dir");
        let mut server = TestServer::launch(dir.path(), args, log, true, None);
        server._owned_dir = Some(dir);
        server
    }

    /// The service on a fresh data directory, inside the test process:
    /// the same listeners, store and wires as the process, for tests where
    /// the process is not the point (no signals, crashes or logs).
    pub fn in_process(args: &[&str]) -> TestServer {
        let dir = TempDir::new().expect("temp dir");
        let mut server = TestServer::in_process_in(dir.path(), args);
        server._owned_dir = Some(dir);
        server
    }

    /// [`TestServer::in_process`] on `data_dir` (which the caller keeps):
    /// stopped, it can be started again on the same data.
    pub fn in_process_in(data_dir: &Path, args: &[&str]) -> TestServer {
        let (service, bound) = InProcess::start(server_args(data_dir, args));
        let Bound {
            grpc,
            metrics,
            mgn,
            smc,
        } = bound;
        TestServer {
            child: None,
            in_process: Some(service),
            endpoint: format!("http://{grpc}"),
            addr: grpc,
            metrics_addr: metrics,
            mgn_addr: mgn,
            smc_addr: smc,
            data_dir: data_dir.to_path_buf(),
            _owned_dir: None,
        }
    }

    fn launch(
        data_dir: &Path,
        args: &[&str],
        log: &str,
        capture_stderr: bool,
        socket: Option<&TcpListener>,
    ) -> TestServer {
        let mut command = Command::new(cutoverd_binary());
        command.env_remove("LISTEN_FDS").env_remove("LISTEN_PID");
        if let Some(socket) = socket {
            let passed = socket.try_clone().expect("a copy of the socket");
            command
                .fd_mappings(vec![FdMapping {
                    parent_fd: passed.into(),
                    child_fd: 3,
                }])
                .expect("fd 3 is free")
                .env("LISTEN_FDS", "1");
        }
        command.args(server_args(data_dir, args));
        let (child, mut stdout) = spawn(command, log, capture_stderr);
        let addr = read_prefixed(&mut stdout, "listening on ");
        let mut optional = |flag: &str, name: &str| {
            args.contains(&flag)
                .then(|| read_prefixed(&mut stdout, &format!("{name} on ")))
        };
        let metrics_addr = optional("--metrics-listen", "metrics");
        let mgn_addr = optional("--mgn-listen", "mgn");
        let smc_addr = optional("--smc-listen", "smc");
        TestServer {
            child: Some(child),
            in_process: None,
            endpoint: format!("http://{addr}"),
            addr,
            metrics_addr,
            mgn_addr,
            smc_addr,
            data_dir: data_dir.to_path_buf(),
            _owned_dir: None,
        }
    }

    /// Sends `signal` to the server, without waiting for it to act.
    fn signal(&self, signal: &str) {
        assert!(
            self.in_process.is_none(),
            "an in-process service takes no signals: start the test's server as a process"
        );
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(signal)
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Asks the server to stop (SIGTERM) without waiting for it.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// Freezes the server (SIGSTOP), as a long pause of the process or its
    /// machine would: it holds its connections but does nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Stops the server the way an operator does (SIGTERM) and waits.
    pub fn stop(&mut self) {
        if let Some(mut service) = self.in_process.take() {
            service.stop();
        }
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL: no chance to flush anything. Only a
    /// process can be killed: an in-process service would be stopped
    /// gracefully instead, which is not what the caller tests.
    pub fn kill(&mut self) {
        assert!(
            self.in_process.is_none(),
            "an in-process service cannot be killed: start the test's server as a process"
        );
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills a server started with [`TestServer::start_logging`] and
    /// returns everything it logged.
    pub fn kill_and_read_logs(&mut self) -> String {
        let mut stderr = self
            .child
            .as_mut()
            .and_then(|child| child.stderr.take())
            .expect("a running server started with start_logging");
        self.kill();
        let mut logs = String::new();
        stderr.read_to_string(&mut logs).expect("read the logs");
        logs
    }

    /// The server process's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status(self.pid(), "VmRSS:").expect("VmRSS of a running server")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running server").id()
    }

    /// A channel to the server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect")
    }

    /// SourceServerService client.
    pub async fn servers(&self) -> SourceServerServiceClient<Channel> {
        SourceServerServiceClient::new(self.channel().await)
    }

    /// ReplicationJobService client.
    pub async fn jobs(&self) -> ReplicationJobServiceClient<Channel> {
        ReplicationJobServiceClient::new(self.channel().await)
    }

    /// AccountService client.
    pub async fn accounts(&self) -> AccountServiceClient<Channel> {
        AccountServiceClient::new(self.channel().await)
    }

    /// LifecycleService client.
    pub async fn lifecycle(&self) -> LifecycleServiceClient<Channel> {
        LifecycleServiceClient::new(self.channel().await)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // An in-process service stops as its own field drops.
    }
}

/// `cutoverd`'s arguments for a test server on `data_dir`: an ephemeral
/// loopback port, a one-second shutdown grace, and on PostgreSQL runs
/// (`CUTOVER_TEST_STORE=postgres`) the database named after the directory.
fn server_args(data_dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--shutdown-grace-seconds",
        "1",
        "--data-dir",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    all.push(
        data_dir
            .to_str()
            .expect("a UTF-8 data directory")
            .to_owned(),
    );
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    if servers_use_postgres() && !args.contains(&"--database-url") {
        // A restart on the same directory finds the same database; a
        // killed server's leases expire within a second.
        all.push("--database-url".into());
        all.push(database_for(data_dir));
        all.extend(["--lease-ttl-ms".to_owned(), "1000".to_owned()]);
    }
    all
}

/// A `cutover-agent` process, killed on drop.
pub struct AgentProcess {
    child: Child,
    /// The source server it reports for.
    pub server_id: String,
}

impl AgentProcess {
    /// Starts `cutover-agent` against `server` with `args`; waits for its
    /// `source server ID` line.
    pub fn start(server: &TestServer, args: &[&str]) -> AgentProcess {
        let mut command = Command::new(workspace_binary("cutover-agent"));
        command.args(["--server", &server.endpoint]).args(args);
        let (child, mut stdout) = spawn(command, "warn", false);
        let server_id = read_prefixed(&mut stdout, "source server ");
        AgentProcess { child, server_id }
    }

    /// Kills the agent: it vanishes without a word.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
