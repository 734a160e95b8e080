//! The contract as a JSON client sees it: grpcurl (1.8.6, reflection
//! v1alpha) as a subprocess against the real `cutoverd`, with JSON bodies
//! only: service listing, descriptors, both cutovers, the watch, and error
//! details decoded from the server's registered `google.rpc` descriptors.
//!
//! grpcurl comes from `$GRPCURL`, else `grpcurl` on PATH; `scripts/test`
//! installs it and sets `GRPCURL`. Without it these tests fail, never skip.

mod support;

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use support::{TestServer, DEADLINE};

const FAST: &[&str] = &["--sim-speed", "100"];
const QUIET: &[&str] = &["--no-simulator"];
const SERVERS: &str = "cutover.v1.SourceServerService";
const JOBS: &str = "cutover.v1.ReplicationJobService";

/// The grpcurl binary: `$GRPCURL`, else `grpcurl` on PATH; panics otherwise.
fn grpcurl() -> PathBuf {
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

/// What one grpcurl run printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// stdout and stderr together (grpcurl prints errors on stderr).
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `grpcurl -plaintext -max-time 10 ARGS...`.
fn grpcurl_run(args: &[&str]) -> Run {
    let output = Command::new(grpcurl())
        .args(["-plaintext", "-max-time", "10"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run grpcurl");
    Run::from_output(output)
}

/// Calls `method` with a JSON `body`; expects success and returns the JSON.
fn call(server: &TestServer, method: &str, body: &str) -> Value {
    let run = grpcurl_run(&["-d", body, &server.addr, method]);
    assert_eq!(
        run.code,
        Some(0),
        "grpcurl {method} {body} failed:\n{}",
        run.all()
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("{method} printed no JSON ({err}):\n{}", run.stdout))
}

/// Calls `method` with a JSON `body`; expects a failure.
fn call_err(server: &TestServer, method: &str, body: &str) -> Run {
    let run = grpcurl_run(&["-d", body, &server.addr, method]);
    assert_ne!(
        run.code,
        Some(0),
        "{method} {body} succeeded:\n{}",
        run.all()
    );
    run
}

/// A JSON string at `pointer`, "" if absent.
fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A proto3-JSON uint64/int64 (a string, or absent for 0).
fn int(value: &Value, pointer: &str) -> u64 {
    match value.pointer(pointer) {
        None => 0,
        Some(Value::String(s)) => s.parse().unwrap_or_else(|_| panic!("{pointer}: {s:?}")),
        Some(Value::Number(n)) => n.as_u64().expect("unsigned"),
        Some(other) => panic!("{pointer}: not an integer: {other}"),
    }
}

/// Polls `probe` every 20 ms until it returns `Some`, failing after
/// `deadline` with `what` in the message.
fn poll<T>(what: &str, deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn id_body(id: &str) -> String {
    format!(r#"{{"sourceServerId":"{id}"}}"#)
}

fn job_body(id: &str) -> String {
    format!(r#"{{"jobId":"{id}"}}"#)
}

fn register(server: &TestServer) -> String {
    let registered = call(server, &format!("{SERVERS}/RegisterSourceServer"), "{}");
    let id = text(&registered, "/sourceServerId").to_owned();
    assert!(id.starts_with("s-") && id.len() == 19, "{registered}");
    id
}

fn get_server(server: &TestServer, id: &str) -> Value {
    call(server, &format!("{SERVERS}/GetSourceServer"), &id_body(id))
}

fn wait_for_state(server: &TestServer, id: &str, state: &str) -> Value {
    poll(&format!("{id} to reach {state}"), DEADLINE, || {
        let got = get_server(server, id);
        (text(&got, "/lifeCycle/state") == state).then_some(got)
    })
}

fn get_job(server: &TestServer, id: &str) -> Value {
    call(server, &format!("{JOBS}/GetReplicationJob"), &job_body(id))
}

fn wait_for_job(server: &TestServer, id: &str, status: &str) -> Value {
    poll(&format!("{id} to reach {status}"), DEADLINE, || {
        let job = get_job(server, id);
        (text(&job, "/status") == status).then_some(job)
    })
}

/// Every JSON value of a stream of concatenated JSON objects (what grpcurl
/// prints for a server-streaming call), up to the first incomplete one.
fn json_stream(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

#[test]
fn list_shows_the_services_health_and_reflection() {
    let server = TestServer::start(QUIET);
    let run = grpcurl_run(&[&server.addr, "list"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let services: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    for service in [
        "cutover.v1.AccountService",
        "cutover.v1.AgentService",
        "cutover.v1.LifecycleService",
        "cutover.v1.ReplicationJobService",
        "cutover.v1.SourceServerService",
        "grpc.health.v1.Health",
    ] {
        assert!(services.contains(&service), "{service} in {services:?}");
    }
    assert!(
        services.iter().any(|s| s.starts_with("grpc.reflection.")),
        "reflection in {services:?}"
    );
    assert_eq!(
        services
            .iter()
            .filter(|s| s.starts_with("cutover.v1."))
            .count(),
        5,
        "{services:?}"
    );

    let run = grpcurl_run(&[&server.addr, "list", SERVERS]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    for method in [
        "RegisterSourceServer",
        "GetSourceServer",
        "DescribeSourceServers",
        "StartTest",
        "ChangeServerLifeCycleState",
        "StartCutover",
        "FinalizeCutover",
        "DisconnectFromService",
        "MarkAsArchived",
    ] {
        let full = format!("{SERVERS}.{method}");
        assert!(
            run.stdout.lines().any(|l| l.trim() == full),
            "{full} in\n{}",
            run.stdout
        );
    }

    for service in ["", SERVERS, JOBS, "cutover.v1.LifecycleService"] {
        let health = call(
            &server,
            "grpc.health.v1.Health/Check",
            &format!(r#"{{"service":"{service}"}}"#),
        );
        assert_eq!(text(&health, "/status"), "SERVING", "{service:?}: {health}");
    }
}

#[test]
fn describe_shows_finalize_cutover_and_its_request() {
    let server = TestServer::start(QUIET);
    let run = grpcurl_run(&[
        &server.addr,
        "describe",
        "cutover.v1.SourceServerService.FinalizeCutover",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("rpc FinalizeCutover")
            && run.stdout.contains(".cutover.v1.FinalizeCutoverRequest")
            && run.stdout.contains("returns ( .cutover.v1.SourceServer )"),
        "{}",
        run.stdout
    );

    let run = grpcurl_run(&[
        &server.addr,
        "describe",
        "cutover.v1.FinalizeCutoverRequest",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("string source_server_id = 1;")
            && run.stdout.contains("string client_token = 2;"),
        "{}",
        run.stdout
    );

    let run = grpcurl_run(&[
        &server.addr,
        "describe",
        "cutover.v1.CutOverReplicationJobRequest",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    for field in ["job_id", "sync_data", "client_token"] {
        assert!(run.stdout.contains(field), "{field} in {}", run.stdout);
    }
}

#[test]
fn server_cutover_with_json_bodies() {
    let server = TestServer::start(FAST);
    let registered = call(&server, &format!("{SERVERS}/RegisterSourceServer"), "{}");
    let id = text(&registered, "/sourceServerId").to_owned();
    assert!(id.starts_with("s-") && id.len() == 19, "{registered}");
    assert_eq!(
        text(&registered, "/lifeCycle/state"),
        "LIFE_CYCLE_STATE_PENDING_INSTALLATION"
    );
    assert!(!text(&registered, "/requestId").is_empty(), "{registered}");

    let ready = wait_for_state(&server, &id, "LIFE_CYCLE_STATE_READY_FOR_TEST");
    assert_eq!(
        text(&ready, "/dataReplicationInfo/dataReplicationState"),
        "DATA_REPLICATION_STATE_CONTINUOUS"
    );
    assert!(
        text(&ready, "/dataReplicationInfo/lagDuration").ends_with('s'),
        "lag is a JSON duration once CONTINUOUS: {ready}"
    );
    assert_eq!(text(&ready, "/sourceState"), "SOURCE_STATE_AVAILABLE");

    let test = call(&server, &format!("{SERVERS}/StartTest"), &id_body(&id));
    assert!(text(&test, "/job/jobId").starts_with("mgnjob-"), "{test}");
    assert_eq!(
        text(&test, "/sourceServer/lifeCycle/state"),
        "LIFE_CYCLE_STATE_TESTING"
    );

    let changed = call(
        &server,
        &format!("{SERVERS}/ChangeServerLifeCycleState"),
        &format!(r#"{{"sourceServerId":"{id}","state":"LIFE_CYCLE_STATE_READY_FOR_CUTOVER"}}"#),
    );
    assert_eq!(
        text(&changed, "/lifeCycle/state"),
        "LIFE_CYCLE_STATE_READY_FOR_CUTOVER"
    );

    let cutover = call(&server, &format!("{SERVERS}/StartCutover"), &id_body(&id));
    let cutover_job = text(&cutover, "/job/jobId").to_owned();
    assert!(cutover_job.starts_with("mgnjob-"), "{cutover}");
    assert_eq!(
        text(&cutover, "/sourceServer/lifeCycle/state"),
        "LIFE_CYCLE_STATE_CUTTING_OVER"
    );

    let done = call(
        &server,
        &format!("{SERVERS}/FinalizeCutover"),
        &id_body(&id),
    );
    assert_eq!(text(&done, "/sourceServerId"), id);
    assert!(!text(&done, "/requestId").is_empty(), "{done}");
    assert_eq!(text(&done, "/lifeCycle/state"), "LIFE_CYCLE_STATE_CUTOVER");
    assert!(
        !text(&done, "/lifeCycle/lastCutover/finalized/apiCallDateTime").is_empty(),
        "{done}"
    );
    assert_eq!(
        text(&done, "/lifeCycle/lastCutover/initiated/jobID"),
        "",
        "JSON names are lowerCamel: jobId, not jobID"
    );
    assert_eq!(
        text(&done, "/lifeCycle/lastCutover/initiated/jobId"),
        cutover_job
    );
    let info = &done["dataReplicationInfo"];
    assert_eq!(
        text(info, "/dataReplicationState"),
        "DATA_REPLICATION_STATE_DISCONNECTED"
    );
    assert!(info.get("lagDuration").is_none(), "lag is nulled: {info}");
    assert!(info.get("etaDateTime").is_none(), "eta is nulled: {info}");
    let disks = info["replicatedDisks"].as_array().expect("replicatedDisks");
    assert!(!disks.is_empty());
    for disk in disks {
        // proto3 JSON omits zero: an emptied disk has no totalStorageBytes.
        assert_eq!(int(disk, "/totalStorageBytes"), 0, "{disk}");
        assert!(int(disk, "/replicatedStorageBytes") > 0, "{disk}");
    }
    assert_eq!(text(&done, "/launchedInstance/jobId"), cutover_job);
    let tasks = done["followUpTasks"].as_array().expect("followUpTasks");
    assert_eq!(tasks.len(), 2, "{done}");
    let mut kinds: Vec<&str> = tasks.iter().map(|t| text(t, "/kind")).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "FOLLOW_UP_TASK_KIND_AGENT_UNINSTALL",
            "FOLLOW_UP_TASK_KIND_REPLICATION_RESOURCES_TEARDOWN"
        ]
    );
    for task in tasks {
        assert_eq!(text(task, "/state"), "FOLLOW_UP_TASK_STATE_PENDING");
        assert!(!text(task, "/deadlineDateTime").is_empty(), "{task}");
    }

    // As the README's walk-through shows: the simulated agent completes both.
    poll("the follow-up tasks to complete", DEADLINE, || {
        let now = get_server(&server, &id);
        assert_eq!(text(&now, "/lifeCycle/state"), "LIFE_CYCLE_STATE_CUTOVER");
        let tasks = now["followUpTasks"].as_array()?.clone();
        (tasks.len() == 2
            && tasks.iter().all(|t| {
                text(t, "/state") == "FOLLOW_UP_TASK_STATE_COMPLETED"
                    && !text(t, "/completedDateTime").is_empty()
                    && int(t, "/attempts") >= 1
            }))
        .then_some(())
    });
}

#[test]
fn job_cutover_with_json_bodies() {
    let server = TestServer::start(FAST);
    let source = register(&server);
    wait_for_state(&server, &source, "LIFE_CYCLE_STATE_READY_FOR_TEST");

    let created = call(
        &server,
        &format!("{JOBS}/CreateReplicationJob"),
        &format!(
            r#"{{"sourceId":"{source}","name":"wave-1","runOnce":false,"frequency":24,"maxNumberOfImageToKeep":2}}"#
        ),
    );
    let job = text(&created, "/jobId").to_owned();
    assert!(job.starts_with("j-") && job.len() == 22, "{created}");
    let ready = get_job(&server, &job);
    assert_eq!(text(&ready, "/status"), "REPLICATION_JOB_STATUS_READY");
    assert_eq!(text(&ready, "/sourceId"), source);

    let started = call(
        &server,
        &format!("{JOBS}/StartReplicationJob"),
        &job_body(&job),
    );
    assert!(!text(&started, "/requestId").is_empty(), "{started}");
    let waiting = wait_for_job(&server, &job, "REPLICATION_JOB_STATUS_WAITING");
    assert_eq!(int(&waiting, "/frequency"), 24);
    assert_eq!(int(&waiting, "/maxNumberOfImageToKeep"), 2);
    assert_eq!(text(&waiting, "/replicationJobRuns/0/imageId"), "CYCLE_1");

    let cut = call(
        &server,
        &format!("{JOBS}/CutOverReplicationJob"),
        &format!(r#"{{"jobId":"{job}","syncData":true}}"#),
    );
    assert!(!text(&cut, "/requestId").is_empty(), "{cut}");

    let finished = wait_for_job(&server, &job, "REPLICATION_JOB_STATUS_FINISHED");
    let runs = finished["replicationJobRuns"]
        .as_array()
        .expect("replicationJobRuns");
    let images: Vec<&str> = runs.iter().map(|r| text(r, "/imageId")).collect();
    assert_eq!(images, ["CYCLE_1", "FINAL"], "{finished}");
    assert_eq!(finished["cutOver"]["syncData"], Value::Bool(true));
    assert!(!text(&finished, "/endTime").is_empty(), "{finished}");
    assert_eq!(finished["progress"].as_f64(), Some(100.0), "{finished}");

    let again = call_err(
        &server,
        &format!("{JOBS}/CutOverReplicationJob"),
        &format!(r#"{{"jobId":"{job}","syncData":true}}"#),
    );
    let all = again.all();
    assert!(
        all.contains("FailedPrecondition")
            && all.contains(r#""reason":"ReplicationJob.InvalidStatus""#)
            && all.contains("The specified replication job status: Finished is invalid."),
        "{all}"
    );
}

#[test]
fn watch_prints_a_snapshot_end_then_live_events() {
    let server = TestServer::start(FAST);
    let known = register(&server);

    let mut child = Command::new(grpcurl())
        .args(["-plaintext", "-max-time", "3", "-d"])
        .arg(r#"{"sendInitialSnapshot":true}"#)
        .arg(&server.addr)
        .arg("cutover.v1.LifecycleService/WatchLifecycleEvents")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn grpcurl");
    let mut stdout = child.stdout.take().expect("stdout");
    let (chunks, received) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if chunks
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });

    // Register only once the snapshot is complete, so it is a live event.
    let mut printed = String::new();
    let started = Instant::now();
    while !json_stream(&printed)
        .iter()
        .any(|v| v.get("snapshotEnd").is_some())
    {
        let left = Duration::from_secs(3).saturating_sub(started.elapsed());
        match received.recv_timeout(left) {
            Ok(chunk) => printed.push_str(&chunk),
            Err(_) => panic!("no snapshotEnd from grpcurl:\n{printed}"),
        }
    }
    let fresh = register(&server);

    let status = child.wait().expect("grpcurl exits at -max-time");
    reader.join().expect("reader");
    printed.extend(received.try_iter());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(
        stderr.contains("DeadlineExceeded"),
        "the watch ends at -max-time: {status} {stderr}"
    );

    let messages = json_stream(&printed);
    let end = messages
        .iter()
        .position(|m| m.get("snapshotEnd").is_some())
        .expect("snapshotEnd");
    let snapshot_revision = int(&messages[end], "/snapshotEnd/revision");
    assert!(snapshot_revision >= 1, "{}", messages[end]);
    assert!(
        messages[..end].iter().all(|m| m.get("snapshot").is_some()),
        "only snapshots before snapshotEnd"
    );
    assert!(
        messages[..end]
            .iter()
            .any(|m| text(m, "/snapshot/sourceServer/sourceServerId") == known),
        "{known} in the snapshot:\n{printed}"
    );

    let events: Vec<&Value> = messages[end + 1..]
        .iter()
        .filter_map(|m| m.get("event"))
        .collect();
    let revisions: Vec<u64> = events.iter().map(|e| int(e, "/revision")).collect();
    let expected: Vec<u64> = (snapshot_revision + 1..).take(revisions.len()).collect();
    assert_eq!(revisions, expected, "live events follow with no gap");
    let registered = events
        .iter()
        .find(|e| {
            text(e, "/resourceId") == fresh
                && text(e, "/eventType") == "LIFECYCLE_EVENT_TYPE_SOURCE_SERVER_REGISTERED"
        })
        .unwrap_or_else(|| panic!("no registration event of {fresh}:\n{printed}"));
    assert!(int(registered, "/revision") > snapshot_revision);
    assert_eq!(
        text(registered, "/resourceType"),
        "RESOURCE_TYPE_SOURCE_SERVER"
    );
    assert_eq!(text(registered, "/sourceServer/sourceServerId"), fresh);
    assert_eq!(
        text(registered, "/newState/sourceServer/lifeCycleState"),
        "LIFE_CYCLE_STATE_PENDING_INSTALLATION"
    );
}

#[test]
fn errors_print_their_google_rpc_details() {
    // No simulator: a registered server stays PENDING_INSTALLATION.
    let server = TestServer::start(QUIET);
    let id = register(&server);

    let conflict = call_err(
        &server,
        &format!("{SERVERS}/FinalizeCutover"),
        &id_body(&id),
    );
    assert_eq!(
        conflict.code,
        Some(64 + 9),
        "grpcurl exits 64 + the gRPC code"
    );
    let all = conflict.all();
    for needle in [
        "FailedPrecondition",
        r#""reason":"ConflictException""#,
        "type.googleapis.com/google.rpc.ErrorInfo",
        r#""currentState":"PENDING_INSTALLATION""#,
        r#""httpStatus":"409""#,
        r#""domain":"cutover""#,
        &format!(r#""resourceId":"{id}""#),
    ] {
        assert!(all.contains(needle), "{needle} in\n{all}");
    }

    let malformed = call_err(
        &server,
        &format!("{SERVERS}/FinalizeCutover"),
        r#"{"sourceServerId":"s-nope"}"#,
    );
    assert_eq!(malformed.code, Some(64 + 3));
    let all = malformed.all();
    for needle in [
        "InvalidArgument",
        r#""reason":"ValidationException""#,
        "type.googleapis.com/google.rpc.BadRequest",
        r#""field":"source_server_id""#,
    ] {
        assert!(all.contains(needle), "{needle} in\n{all}");
    }

    // -format-error: the status as JSON, details and all.
    let run = grpcurl_run(&[
        "-format-error",
        "-d",
        r#"{"sourceServerId":"s-00000000000000000"}"#,
        &server.addr,
        &format!("{SERVERS}/GetSourceServer"),
    ]);
    assert_eq!(run.code, Some(64 + 5), "{}", run.all());
    // grpcurl prints the formatted status on stderr.
    let status: Value = serde_json::from_str(&run.stderr)
        .unwrap_or_else(|err| panic!("no JSON status ({err}):\n{}", run.all()));
    assert_eq!(status["code"], 5);
    let details = status["details"].as_array().expect("details");
    let types: Vec<&str> = details.iter().map(|d| text(d, "/@type")).collect();
    assert_eq!(
        types,
        [
            "type.googleapis.com/google.rpc.ErrorInfo",
            "type.googleapis.com/google.rpc.ResourceInfo"
        ]
    );
    assert_eq!(text(&details[0], "/reason"), "ResourceNotFoundException");
    assert_eq!(
        text(&details[1], "/resourceName"),
        "s-00000000000000000",
        "{status}"
    );
}

/// Sanity for the helpers, so a wrong `GRPCURL` fails loudly and early.
#[test]
fn grpcurl_is_the_expected_version() {
    let path = grpcurl();
    let output = Command::new(&path)
        .arg("-version")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", path.display()));
    let version = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        version.contains("grpcurl v1."),
        "{}: {version}",
        path.display()
    );
    assert!(Path::new(&path).is_file());
}
