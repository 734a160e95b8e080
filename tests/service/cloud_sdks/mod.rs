//! The clouds' own SDKs, unmodified, against `cutoverd`'s MGN and SMC
//! endpoints: boto3 and the AWS SDK for Rust (MGN, restJson1 with SigV4),
//! `alibabacloud-smc20190601` and `aliyun-python-sdk-smc` (SMC, ACS3 and
//! HMAC-SHA1 signatures). Each flow is then checked over gRPC, with
//! `cutoverctl`, and on the watch stream: one state, one event log. The
//! wire-level cases no SDK can send (malformed JSON, wrong types, unknown
//! operations, bodies signed by hand) are in `wire`.
//!
//! Needs Python with boto3 and both Alibaba SDKs, and the prebuilt AWS
//! SDK check: `scripts/test` provides them.

mod mgn;
mod smc;
mod wire;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use cutover::pb::v1::{resource_state::State, LifecycleEvent};
use cutover_testkit::*;
use serde_json::Value;
use tempfile::TempDir;

/// The access key of the built-in account (which gRPC uses without
/// tokens), so gRPC, `cutoverctl` and the SDKs share one account.
const KEY: &str = "AKIDCUTOVERTEST";
const SECRET: &str = "cutover/test+secret";
/// A key of an account nobody initialised.
const STRANGER_KEY: &str = "AKIDSTRANGER";
const STRANGER_SECRET: &str = "stranger-secret";

/// `cutoverd` with both native endpoints and a keys file, simulator at
/// `--sim-speed 100`.
struct CloudServer {
    server: TestServer,
    _keys: TempDir,
}

impl CloudServer {
    fn start() -> CloudServer {
        let keys = TempDir::new().expect("temp dir");
        let path = keys.path().join("access-keys");
        std::fs::write(
            &path,
            format!(
                "# test keys\n{KEY} {SECRET} 000000000000\n{STRANGER_KEY} {STRANGER_SECRET} 444455556666\n"
            ),
        )
        .expect("write keys");
        restrict(&path);
        let path = path.to_str().expect("utf-8 path").to_owned();
        let server = TestServer::in_process(&[
            "--sim-speed",
            "100",
            "--mgn-listen",
            "127.0.0.1:0",
            "--smc-listen",
            "127.0.0.1:0",
            "--access-keys-file",
            &path,
        ]);
        CloudServer {
            server,
            _keys: keys,
        }
    }

    fn mgn_endpoint(&self) -> String {
        format!("http://{}", self.server.mgn_addr.as_deref().expect("MGN"))
    }

    fn smc_addr(&self) -> &str {
        self.server.smc_addr.as_deref().expect("SMC")
    }
}

fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn python() -> String {
    std::env::var("CUTOVER_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs `tests/python/SCRIPT CONFIG`; asserts it passed every check and
/// returns the JSON of its `RESULT` line.
fn run_python(script: &str, config: &Value) -> Value {
    let python = python();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = Command::new(&python)
        .arg(&path)
        .arg(config.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run `{python}` ({err}): run `scripts/test`, which installs the SDKs")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "an SDK is missing: run `scripts/test`, which installs boto3 and the Alibaba SDKs"
    );
    assert!(
        output.status.success(),
        "{script} exited with {}",
        output.status
    );
    let summary = stdout
        .lines()
        .find(|line| line.ends_with(" failed"))
        .unwrap_or_else(|| panic!("no summary from {script}"));
    assert!(summary.ends_with(" 0 failed"), "{summary}");
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line from {script}"));
    serde_json::from_str(result).expect("RESULT is JSON")
}

/// The prebuilt AWS SDK for Rust check (`tests/aws_sdk_mgn`), which
/// `scripts/test` builds and names in `CUTOVER_AWS_SDK_MGN_CHECK`.
fn aws_sdk_check() -> PathBuf {
    let path = std::env::var_os("CUTOVER_AWS_SDK_MGN_CHECK").map(PathBuf::from);
    match path {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "CUTOVER_AWS_SDK_MGN_CHECK does not name the built AWS SDK check: run `scripts/test`, \
             which builds tests/aws_sdk_mgn"
        ),
    }
}

/// `cutoverctl -o json ARGS` against `server`.
fn cutoverctl_json(server: &TestServer, args: &[&str]) -> Value {
    let output = Command::new(workspace_binary("cutoverctl"))
        .env("CUTOVER_SERVER", &server.endpoint)
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("run cutoverctl");
    assert!(
        output.status.success(),
        "cutoverctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cutoverctl printed JSON")
}

/// Every event of the log, from revision 1 to its head now.
async fn whole_log(server: &TestServer) -> Vec<LifecycleEvent> {
    let head = snapshot_head(server).await;
    log_until(server, head).await
}

/// What `state` picks from each event of `id`, in revision order,
/// without repeats.
fn history(log: &[LifecycleEvent], id: &str, state: impl Fn(&State) -> Option<i32>) -> Vec<i32> {
    let mut seen: Vec<i32> = Vec::new();
    let picked = log
        .iter()
        .filter(|e| e.resource_id == id)
        .filter_map(|e| e.new_state.as_ref()?.state.as_ref())
        .filter_map(state);
    for value in picked {
        if seen.last() != Some(&value) {
            seen.push(value);
        }
    }
    seen
}

/// The lifecycle states server `id` went through.
fn server_states(log: &[LifecycleEvent], id: &str) -> Vec<i32> {
    history(log, id, |state| match state {
        State::SourceServer(server) => Some(server.life_cycle_state),
        State::ReplicationJob(_) => None,
    })
}

/// The statuses job `id` went through.
fn job_statuses(log: &[LifecycleEvent], id: &str) -> Vec<i32> {
    history(log, id, |state| match state {
        State::ReplicationJob(job) => Some(job.status),
        State::SourceServer(_) => None,
    })
}
