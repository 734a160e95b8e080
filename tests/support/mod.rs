//! Test support: the real `cutoverd` binary on an ephemeral loopback port,
//! generated tonic clients, and polling with a deadline instead of sleeps.
#![allow(dead_code, unreachable_pub)]

use std::{
    future::Future,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    account_service_client::AccountServiceClient,
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, GetReplicationJobRequest,
    GetSourceServerRequest, LifeCycleState, RegisterSourceServerRequest, ReplicationJob,
    SourceServer,
};
use tempfile::TempDir;
use tonic::{transport::Channel, Code, Status};
use tonic_types::StatusExt;

/// A running `cutoverd` process, killed on drop.
pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The metrics endpoint, when started with `--metrics-listen`.
    pub metrics_addr: Option<String>,
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--shutdown-grace-seconds",
                "1",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(args)
            .env("CUTOVER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cutoverd");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut next_line = |prefix: &str| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read a line");
            line.trim()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
                .to_owned()
        };
        let addr = next_line("listening on ");
        let metrics_addr = args
            .contains(&"--metrics-listen")
            .then(|| next_line("metrics on "));
        TestServer {
            child: Some(child),
            endpoint: format!("http://{addr}"),
            addr,
            metrics_addr,
            data_dir: data_dir.to_path_buf(),
            _owned_dir: None,
        }
    }

    /// Stops the server the way an operator does (SIGTERM) and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `probe` every 10 ms until it returns `Some`, failing after
/// `deadline` with `what` in the message.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Deadline for anything the simulator drives in tests.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The `ErrorInfo.reason` of a status.
pub fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
}

/// Asserts a status's code and cloud error code, and returns it.
pub fn expect_error(status: Status, code: Code, cloud_code: &str) -> Status {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(&status), cloud_code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.domain, "cutover");
    assert!(info.metadata.contains_key("httpStatus"));
    let header = status
        .metadata()
        .get("x-request-id")
        .expect("x-request-id on error");
    assert_eq!(
        info.metadata.get("requestId").map(String::as_str),
        header.to_str().ok()
    );
    status
}

/// Fetches a source server.
pub async fn get_server(client: &mut SourceServerServiceClient<Channel>, id: &str) -> SourceServer {
    client
        .get_source_server(GetSourceServerRequest {
            source_server_id: id.into(),
        })
        .await
        .expect("GetSourceServer")
        .into_inner()
}

/// Fetches a replication job.
pub async fn get_job(
    client: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
) -> ReplicationJob {
    client
        .get_replication_job(GetReplicationJobRequest { job_id: id.into() })
        .await
        .expect("GetReplicationJob")
        .into_inner()
}

/// Registers a server and returns its id.
pub async fn register(client: &mut SourceServerServiceClient<Channel>) -> String {
    client
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect("RegisterSourceServer")
        .into_inner()
        .source_server_id
}

/// Waits until a server reaches `state`.
pub async fn wait_for_state(
    client: &mut SourceServerServiceClient<Channel>,
    id: &str,
    state: LifeCycleState,
) -> SourceServer {
    eventually(DEADLINE, &format!("{id} to reach {state:?}"), || {
        let mut client = client.clone();
        async move {
            let server = get_server(&mut client, id).await;
            (server.life_cycle.as_ref().map(|l| l.state) == Some(state as i32)).then_some(server)
        }
    })
    .await
}

/// The `x-request-id` response metadata of a call.
pub fn request_id_header(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("x-request-id metadata")
        .to_str()
        .expect("ascii request id")
        .to_owned()
}

/// Polls a replication job until `done` holds.
pub async fn wait_for_job(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
    done: impl Fn(&ReplicationJob) -> bool,
) -> ReplicationJob {
    eventually(DEADLINE, &format!("job {id}"), || {
        let mut jobs = jobs.clone();
        let done = &done;
        async move {
            let job = get_job(&mut jobs, id).await;
            done(&job).then_some(job)
        }
    })
    .await
}

/// A replicating server (registered and READY_FOR_TEST; needs the
/// simulator) with an incremental job that completed its first run and is
/// Waiting. Returns `(source_server_id, job_id)`.
pub async fn waiting_job(server: &TestServer, frequency: i32, max_images: i32) -> (String, String) {
    let mut servers = server.servers().await;
    let source = register(&mut servers).await;
    let job_id = waiting_job_for(server, &source, frequency, max_images).await;
    (source, job_id)
}

/// An incremental job of `source` (replicated by whatever agent it has)
/// that completed its first run and is Waiting.
pub async fn waiting_job_for(
    server: &TestServer,
    source: &str,
    frequency: i32,
    max_images: i32,
) -> String {
    use cutover::pb::v1::{
        CreateReplicationJobRequest, ReplicationJobStatus, StartReplicationJobRequest,
    };
    let mut servers = server.servers().await;
    wait_for_state(&mut servers, source, LifeCycleState::ReadyForTest).await;
    let mut jobs = server.jobs().await;
    let job_id = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.to_owned(),
            name: "wave-1".into(),
            run_once: Some(false),
            frequency,
            max_number_of_image_to_keep: max_images,
            ..Default::default()
        })
        .await
        .expect("CreateReplicationJob")
        .into_inner()
        .job_id;
    jobs.start_replication_job(StartReplicationJobRequest {
        job_id: job_id.clone(),
        ..Default::default()
    })
    .await
    .expect("StartReplicationJob");
    wait_for_job(&mut jobs, &job_id, |job| {
        job.status == ReplicationJobStatus::Waiting as i32
    })
    .await;
    job_id
}

impl TestServer {
    /// The server process's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// LifecycleService client.
    pub async fn lifecycle(
        &self,
    ) -> cutover::pb::v1::lifecycle_service_client::LifecycleServiceClient<Channel> {
        cutover::pb::v1::lifecycle_service_client::LifecycleServiceClient::new(self.channel().await)
    }
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutover-agent"))
            .args(["--server", &server.endpoint])
            .args(args)
            .env("CUTOVER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cutover-agent");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read first line");
        let server_id = line
            .trim()
            .strip_prefix("source server ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
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
