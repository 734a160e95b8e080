//! `cutoverctl` as an operator runs it: a process against a real `cutoverd`.
//! Every command, the three output formats, the documented exit codes, a
//! whole migration wave, a job cutover, `watch --until` (also across a
//! server restart), bearer tokens and mutual TLS.

mod support;

use std::{
    io::{BufRead, BufReader, Read},
    net::TcpListener,
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::Value;
use sha2::Digest;
use support::{workspace_binary, TestServer};
use tempfile::TempDir;

/// Deadline for anything the simulator drives (`--sim-speed 100`).
const WAIT: &str = "30";

/// A finished `cutoverctl` run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.stdout))
    }

    /// Asserts the exit code and that stderr holds every `needle`.
    fn fails(&self, code: i32, needles: &[&str]) {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "{needle:?} not in {}",
                self.stderr
            );
        }
    }
}

/// `cutoverctl` with no CUTOVER_* variables from the environment.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(workspace_binary("cutoverctl"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CUTOVER_") {
            command.env_remove(key);
        }
    }
    command.args(args);
    command
}

/// Runs `cutoverctl ARGS` with CUTOVER_SERVER pointing at `server`.
fn ctl(server: &TestServer, args: &[&str]) -> Run {
    ctl_env(server, &[], args)
}

/// [`ctl`] with extra environment variables.
fn ctl_env(server: &TestServer, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = command(args);
    command.env("CUTOVER_SERVER", &server.endpoint);
    command.envs(env.iter().copied());
    finish(command.output().expect("run cutoverctl"))
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Registers a server; returns its id.
fn register(server: &TestServer) -> String {
    let json = ctl(server, &["servers", "register", "-o", "json"]).json();
    json["sourceServerId"].as_str().expect("an id").to_owned()
}

/// `servers get ID -o json`.
fn get(server: &TestServer, id: &str) -> Value {
    ctl(server, &["servers", "get", id, "-o", "json"]).json()
}

/// `watch --server ID... --until STATE` (plain lines: stdout is a pipe).
fn watch_until(server: &TestServer, ids: &[&str], until: &str) -> Run {
    let mut args = vec!["watch", "--until", until, "--timeout", WAIT];
    for id in ids {
        args.extend(["--server", id]);
    }
    ctl(server, &args)
}

/// An address nobody listens on.
fn closed_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn server_commands_print_tables_json_and_yaml_and_fail_with_documented_codes() {
    let server = TestServer::start(&["--sim-speed", "100"]);

    let init = ctl(&server, &["init"]);
    assert!(
        init.ok().contains("account 000000000000"),
        "{}",
        init.stdout
    );
    let init = ctl(&server, &["init", "-o", "json"]).json();
    assert_eq!(init["accountId"], "000000000000");

    // Register with tags and a client token; the retry replays the answer.
    let args = [
        "servers",
        "register",
        "--tag",
        "app=web",
        "--client-token",
        "reg-1",
    ];
    let first = ctl(&server, &[&args[..], &["-o", "json"]].concat()).json();
    let id = first["sourceServerId"].as_str().expect("id").to_owned();
    assert_eq!(first["tags"]["app"], "web");
    let retry = ctl(&server, &[&args[..], &["-o", "json"]].concat()).json();
    assert_eq!(retry["sourceServerId"], first["sourceServerId"]);
    let other = register(&server);

    watch_until(&server, &[&id, &other], "ready-for-test").ok();
    let json = get(&server, &id);
    assert_eq!(
        json["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_TEST"
    );
    assert_eq!(
        json["dataReplicationInfo"]["dataReplicationState"],
        "DATA_REPLICATION_STATE_CONTINUOUS"
    );
    let yaml = ctl(&server, &["servers", "get", &id, "-o", "yaml"]);
    let yaml: Value = serde_yaml_ng::from_str(yaml.ok()).expect("YAML parses");
    assert_eq!(yaml["sourceServerId"], json["sourceServerId"]);
    assert_eq!(
        yaml["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_TEST"
    );
    assert_eq!(yaml["tags"]["app"], "web");
    let table = ctl(&server, &["servers", "get", &id]);
    let mut lines = table.ok().lines();
    assert!(
        lines.next().expect("header").starts_with("ID "),
        "{}",
        table.stdout
    );
    let row = lines.next().expect("a row");
    assert!(
        row.starts_with(&id) && row.contains("READY_FOR_TEST"),
        "{row}"
    );

    // list: every page by default, one page with --max-results, filters.
    let listed = ctl(&server, &["servers", "list"]);
    assert!(listed.ok().contains(&id) && listed.stdout.contains(&other));
    let page = ctl(
        &server,
        &["servers", "list", "--max-results", "1", "-o", "json"],
    )
    .json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let token = page["nextToken"].as_str().expect("a next token");
    let rest = ctl(
        &server,
        &["servers", "list", "--next-token", token, "-o", "json"],
    )
    .json();
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(
        rest["items"][0]["sourceServerId"],
        page["items"][0]["sourceServerId"]
    );
    let filtered = ctl(
        &server,
        &[
            "servers",
            "list",
            "--id",
            &id,
            "--state",
            "ready-for-test",
            "--archived",
            "false",
            "--replication-type",
            "agent-based",
            "-o",
            "json",
        ],
    )
    .json();
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    let none = ctl(
        &server,
        &["servers", "list", "--state", "cutover", "-o", "json"],
    )
    .json();
    assert!(none.get("items").is_none(), "{none}");

    // Errors: not found 3, conflict 4, validation 5, unavailable 6.
    ctl(&server, &["servers", "get", "s-00000000000000000"]).fails(
        3,
        &[
            "error: ResourceNotFoundException",
            "resourceId: s-00000000000000000",
            "grpc code: NOT_FOUND (exit 3)",
        ],
    );
    ctl(&server, &["servers", "finalize", &id]).fails(
        4,
        &[
            "error: ConflictException",
            "currentState: READY_FOR_TEST",
            "httpStatus: 409",
            "requestId: ",
        ],
    );
    ctl(&server, &["servers", "get", "s-bad"]).fails(
        5,
        &[
            "error: ValidationException",
            "field violation: source_server_id",
        ],
    );
    let nobody = closed_address();
    let run = finish(
        command(&["--server", &nobody, "servers", "list"])
            .output()
            .expect("run"),
    );
    run.fails(6, &["UNAVAILABLE", "cannot connect"]);
    let run = finish(
        command(&["servers", "list", "--server", &nobody])
            .output()
            .expect("run"),
    );
    run.fails(6, &["UNAVAILABLE"]);

    // Test, revert, test again, ready for cutover.
    let started = ctl(&server, &["servers", "start-test", &id]);
    assert!(started.ok().contains("TESTING") && started.stdout.contains("mgnjob-"));
    let reverted = ctl(
        &server,
        &["servers", "mark-ready", &id, "--state", "ready-for-test"],
    );
    assert!(
        reverted.ok().contains("READY_FOR_TEST"),
        "{}",
        reverted.stdout
    );
    let json = ctl(&server, &["servers", "start-test", &id, "-o", "json"]).json();
    assert_eq!(
        json["sourceServer"]["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_TESTING"
    );
    assert!(json["job"]["jobId"]
        .as_str()
        .is_some_and(|j| j.starts_with("mgnjob-")));
    let ready = ctl(&server, &["servers", "mark-ready", &id, "-o", "json"]).json();
    assert_eq!(
        ready["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_CUTOVER"
    );

    // Disconnect, then archive; archived servers filter.
    let gone = ctl(&server, &["servers", "disconnect", &other, "-o", "json"]).json();
    assert_eq!(gone["lifeCycle"]["state"], "LIFE_CYCLE_STATE_DISCONNECTED");
    let archived = ctl(
        &server,
        &["servers", "archive", &other, "--client-token", "arch-1"],
    );
    assert!(archived.ok().contains(&other), "{}", archived.stdout);
    let listed = ctl(&server, &["servers", "list", "--archived", "-o", "json"]).json();
    assert_eq!(listed["items"][0]["sourceServerId"], other.as_str());
    assert_eq!(listed["items"][0]["isArchived"], true);
    ctl(&server, &["servers", "archive", &other]).fails(4, &["ConflictException"]);
}

#[test]
fn a_migration_wave_runs_from_the_cli() {
    let server = TestServer::start(&["--sim-speed", "100"]);
    let ids: Vec<String> = (0..3).map(|_| register(&server)).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let ready = watch_until(&server, &ids, "ready-for-test");
    ready.ok();
    assert!(
        ready.stderr.contains("3 of 3 watched resources reached"),
        "{}",
        ready.stderr
    );
    for id in &ids {
        ctl(&server, &["servers", "start-test", id]).ok();
        ctl(&server, &["servers", "mark-ready", id]).ok();
        let cutting = ctl(&server, &["servers", "start-cutover", id, "-o", "json"]).json();
        assert_eq!(
            cutting["sourceServer"]["lifeCycle"]["state"],
            "LIFE_CYCLE_STATE_CUTTING_OVER"
        );
        let done = ctl(&server, &["servers", "finalize", id, "-o", "json"]).json();
        assert_eq!(done["lifeCycle"]["state"], "LIFE_CYCLE_STATE_CUTOVER");
        assert_eq!(
            done["dataReplicationInfo"]["dataReplicationState"],
            "DATA_REPLICATION_STATE_DISCONNECTED"
        );
        assert_eq!(done["followUpTasks"].as_array().map(Vec::len), Some(2));
    }
    let started = Instant::now();
    let watched = watch_until(&server, &ids, "tasks-done");
    watched.ok();
    assert!(started.elapsed() < Duration::from_secs(30));
    // Plain lines: revision, id, event type, new state; revisions increase.
    let mut last = 0u64;
    for line in watched.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let revision: u64 = fields[0].parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(revision >= last, "{}", watched.stdout);
        last = revision;
        assert!(ids.contains(&fields[1]), "{line}");
        assert!(fields[3].starts_with("lifecycle=CUTOVER"), "{line}");
    }
    for id in &ids {
        let json = get(&server, id);
        let tasks = json["followUpTasks"].as_array().expect("tasks");
        assert!(tasks
            .iter()
            .all(|t| t["state"] == "FOLLOW_UP_TASK_STATE_COMPLETED"));
    }
    let table = ctl(&server, &["servers", "list", "--state", "cutover"]);
    assert_eq!(
        table.ok().matches("2/2 done").count(),
        3,
        "{}",
        table.stdout
    );
}

#[test]
fn a_job_cuts_over_with_a_final_sync() {
    let server = TestServer::start(&["--sim-speed", "100"]);
    let source = register(&server);
    watch_until(&server, &[&source], "ready-for-test").ok();
    let created = ctl(
        &server,
        &[
            "jobs",
            "create",
            "--source",
            &source,
            "--name",
            "wave-1",
            "--frequency",
            "24",
            "--max-images",
            "2",
            "-o",
            "json",
        ],
    )
    .json();
    let job = created["jobId"].as_str().expect("job id").to_owned();
    assert!(job.starts_with("j-"), "{created}");
    let get = |format: &str| ctl(&server, &["jobs", "get", &job, "-o", format]);
    assert_eq!(get("json").json()["status"], "REPLICATION_JOB_STATUS_READY");

    ctl(&server, &["jobs", "cutover", &job, "--sync-data"]).fails(
        4,
        &[
            "error: ReplicationJob.InvalidStatus",
            "The specified replication job status: Ready is invalid.",
            "currentState: Ready",
        ],
    );
    assert!(ctl(&server, &["jobs", "start", &job]).ok().contains(&job));
    let waiting = ctl(
        &server,
        &[
            "watch",
            "--job",
            &job,
            "--until",
            "waiting",
            "--timeout",
            WAIT,
        ],
    );
    assert!(
        waiting.ok().contains("REPLICATION_JOB_STATUS_CHANGED"),
        "{}",
        waiting.stdout
    );
    ctl(&server, &["jobs", "stop", &job]).fails(4, &["ReplicationJob.InvalidStatus"]);

    let listed = ctl(
        &server,
        &["jobs", "list", "--status", "waiting", "--source", &source],
    );
    let row = listed.ok().lines().nth(1).expect("a row");
    assert!(
        row.starts_with(&job) && row.contains("WAITING"),
        "{}",
        listed.stdout
    );
    let page = ctl(
        &server,
        &[
            "jobs",
            "list",
            "--id",
            &job,
            "--max-results",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(page.json()["replicationJobs"][0]["jobId"], job.as_str());

    let cut = ctl(
        &server,
        &[
            "jobs",
            "cutover",
            &job,
            "--sync-data",
            "--client-token",
            "cut-1",
        ],
    );
    assert!(cut.ok().contains("cutting over"), "{}", cut.stdout);
    let retry = ctl(
        &server,
        &[
            "jobs",
            "cutover",
            &job,
            "--sync-data",
            "--client-token",
            "cut-1",
        ],
    );
    retry.ok();
    let finished = ctl(
        &server,
        &[
            "watch",
            "--job",
            &job,
            "--until",
            "finished",
            "--timeout",
            WAIT,
        ],
    );
    assert!(
        finished.ok().contains("status=FINISHED"),
        "{}",
        finished.stdout
    );

    let json = get("json").json();
    assert_eq!(json["status"], "REPLICATION_JOB_STATUS_FINISHED");
    assert_eq!(
        json["progress"], 100,
        "whole numbers print as grpcurl prints them"
    );
    assert_eq!(json["cutOver"]["syncData"], true);
    let runs = json["replicationJobRuns"].as_array().expect("runs");
    assert_eq!(
        runs.last().map(|r| &r["imageId"]),
        Some(&Value::from("FINAL"))
    );
    let method = "cutover.v1.ReplicationJobService/GetReplicationJob";
    let theirs = grpcurl_json(&server, None, method, &format!(r#"{{"jobId":"{job}"}}"#));
    assert_eq!(comparable(get("json").ok()), comparable(&theirs));
    let yaml: Value = serde_yaml_ng::from_str(get("yaml").ok()).expect("YAML parses");
    assert_eq!(yaml["status"], "REPLICATION_JOB_STATUS_FINISHED");
    assert!(get("table").ok().contains("FINISHED"));
    ctl(&server, &["jobs", "get", "j-00000000000000000000"])
        .fails(3, &["ResourceNotFoundException"]);
    ctl(&server, &["jobs", "start", "nope"]).fails(5, &["ValidationException"]);
}

#[test]
fn watch_resumes_by_revision_across_a_server_restart() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let listen = format!("127.0.0.1:{port}");
    let dir = TempDir::new().expect("dir");
    let args = ["--sim-speed", "100", "--listen", listen.as_str()];
    let mut server = TestServer::start_in(dir.path(), &args);
    let id = register(&server);
    watch_until(&server, &[&id], "ready-for-test").ok();

    let mut watch = command(&[
        "watch",
        "--server",
        &id,
        "--until",
        "cutting-over",
        "--timeout",
        "60",
    ])
    .env("CUTOVER_SERVER", &server.endpoint)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn watch");
    let stdout = lines_of(watch.stdout.take().expect("stdout"));
    let stderr = lines_of(watch.stderr.take().expect("stderr"));
    wait_for_line(&stdout, "SNAPSHOT");

    server.stop();
    wait_for_line(&stderr, "resuming from revision");
    let server = TestServer::start_in(dir.path(), &args);
    ctl(&server, &["servers", "start-test", &id]).ok();
    ctl(&server, &["servers", "mark-ready", &id]).ok();
    ctl(&server, &["servers", "start-cutover", &id]).ok();
    wait_for_line(&stdout, "lifecycle=CUTTING_OVER");
    assert_eq!(exit_status(&mut watch), 0);
}

/// Lines of a child's pipe, as they come.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits (30 s at most) for a line containing `needle`.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(err) => panic!("no line with {needle:?}: {err}"),
        }
    }
}

/// Waits (30 s at most) for a child to exit; its exit code.
fn exit_status(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cutoverctl watch did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The grpcurl binary: `$GRPCURL`, else `grpcurl` on PATH (`scripts/test`
/// installs it); panics otherwise, like the grpcurl suite.
fn grpcurl() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("GRPCURL").filter(|p| !p.is_empty()) {
        return path.into();
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("grpcurl"))
        .find(|candidate| candidate.is_file())
        .expect("grpcurl on PATH or in $GRPCURL: run `scripts/test`")
}

/// What grpcurl prints for `method` with `body`, as the same caller.
fn grpcurl_json(server: &TestServer, token: Option<&str>, method: &str, body: &str) -> String {
    let mut command = Command::new(grpcurl());
    command.args(["-plaintext", "-max-time", "10", "-d", body]);
    if let Some(token) = token {
        command.args(["-H", &format!("authorization: Bearer {token}")]);
    }
    let run = finish(
        command
            .args([server.addr.as_str(), method])
            .stdin(Stdio::null())
            .output()
            .expect("run grpcurl"),
    );
    run.ok().to_owned()
}

/// JSON text without its `requestId` line (it differs per call) and with
/// grpcurl's empty objects (`{` newline, blanks, `}`) written as `{}`.
fn comparable(json: &str) -> String {
    let mut text = String::new();
    for line in json
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"requestId\""))
    {
        text.push_str(line);
        text.push('\n');
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let blank = rest.len() - rest.trim_start().len();
        if rest[blank..].starts_with('}') {
            rest = &rest[blank..];
        }
    }
    out.push_str(rest);
    out.replace(",\n}", "\n}")
}

#[test]
fn bearer_tokens_are_sent_and_their_absence_is_exit_7() {
    let dir = TempDir::new().expect("dir");
    let tokens = dir.path().join("tokens");
    let digest = hex::encode(sha2::Sha256::digest(b"ops-token"));
    std::fs::write(&tokens, format!("{digest} 111111111111\n")).expect("tokens file");
    let tokens = tokens.to_str().expect("utf-8");
    let server = TestServer::start(&["--no-simulator", "--tokens-file", tokens]);
    ctl(&server, &["servers", "list"]).fails(7, &["UNAUTHENTICATED", "(exit 7)"]);
    ctl(&server, &["servers", "list", "--token", "wrong"]).fails(7, &["UNAUTHENTICATED"]);
    ctl(&server, &["servers", "list", "--token", "ops-token"])
        .fails(4, &["UninitializedAccountException"]);
    let init = ctl(&server, &["init", "--token", "ops-token", "-o", "json"]).json();
    assert_eq!(init["accountId"], "111111111111");
    let env = [("CUTOVER_TOKEN", "ops-token")];
    let register = [
        "servers", "register", "--tag", "app=web", "--tag", "wave=1", "-o", "json",
    ];
    let json = ctl_env(&server, &env, &register).json();
    assert_eq!(json["accountId"], "111111111111");
    let id = json["sourceServerId"].as_str().expect("id");

    // -o json is what grpcurl prints, up to the request id.
    let ours = ctl_env(&server, &env, &["servers", "get", id, "-o", "json"]);
    let body = format!(r#"{{"sourceServerId":"{id}"}}"#);
    let method = "cutover.v1.SourceServerService/GetSourceServer";
    let theirs = grpcurl_json(&server, Some("ops-token"), method, &body);
    assert_eq!(comparable(ours.ok()), comparable(&theirs));
    let snapshot = ctl_env(
        &server,
        &env,
        &[
            "-o",
            "json",
            "watch",
            "--server",
            id,
            "--until",
            "pending-installation",
        ],
    );
    let first: Value =
        serde_json::from_str(snapshot.ok().lines().next().expect("a line")).expect("JSON lines");
    assert_eq!(first["snapshot"]["sourceServer"]["sourceServerId"], id);
}

/// A throwaway CA, a server certificate for `localhost` and a client
/// certificate, as PEM files.
fn pki(dir: &TempDir) -> impl Fn(&str) -> String + '_ {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("signed");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(vec!["localhost".into()]);
    let (client_cert, client_key) = leaf(vec!["ops.example".into()]);
    for (name, pem) in [
        ("ca.pem", ca_cert.pem()),
        ("server.pem", server_cert),
        ("server.key", server_key),
        ("client.pem", client_cert),
        ("client.key", client_key),
    ] {
        std::fs::write(dir.path().join(name), pem).expect("write");
    }
    |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned()
}

#[test]
fn mutual_tls_uses_the_ca_the_host_name_and_the_client_certificate() {
    let dir = TempDir::new().expect("dir");
    let path = pki(&dir);
    let server = TestServer::start(&[
        "--no-simulator",
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
        "--tls-client-ca",
        &path("ca.pem"),
    ]);
    let port = server.addr.rsplit(':').next().expect("port");
    // No scheme: --ca implies https; the TLS name is `localhost`.
    let address = format!("localhost:{port}");
    let tls = ["--server", &address, "--ca", &path("ca.pem")];
    let identity = ["--cert", &path("client.pem"), "--key", &path("client.key")];
    let run = finish(
        command(
            &[
                &tls[..],
                &identity[..],
                &["servers", "register", "-o", "json"],
            ]
            .concat(),
        )
        .output()
        .expect("run"),
    );
    assert!(run.json()["sourceServerId"].as_str().is_some());
    let anonymous = finish(
        command(&[&tls[..], &["--timeout", "5", "servers", "list"]].concat())
            .output()
            .expect("run"),
    );
    assert_ne!(
        anonymous.code, 0,
        "no client certificate: {}",
        anonymous.stdout
    );
    let plaintext = finish(
        command(&[
            "--server",
            &server.endpoint,
            "--timeout",
            "5",
            "servers",
            "list",
        ])
        .output()
        .expect("run"),
    );
    assert_ne!(
        plaintext.code, 0,
        "plaintext to a TLS server: {}",
        plaintext.stdout
    );
    let half = finish(
        command(
            &[
                &tls[..],
                &["--cert", &path("client.pem"), "servers", "list"],
            ]
            .concat(),
        )
        .output()
        .expect("run"),
    );
    half.fails(2, &["--cert and --key go together"]);
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    let help = finish(command(&["--help"]).output().expect("run"));
    for line in [
        "3  not found",
        "4  conflict",
        "5  validation",
        "6  unavailable",
        "7  unauthenticated",
    ] {
        assert!(help.ok().contains(line), "{line:?} not in {}", help.stdout);
    }
    for args in [
        &["servers", "frobnicate"][..],
        &["watch", "--until", "sideways"],
        &["watch", "--job", "s-00000000000000000"],
        &[
            "watch",
            "--job",
            "j-00000000000000000000",
            "--until",
            "cutover",
        ],
        &[
            "watch",
            "--server",
            "s-00000000000000000",
            "--until",
            "finished",
        ],
        &["--timeout", "0", "servers", "list"],
        &["--server", "ftp://x:1", "servers", "list"],
        &["--cert", "c.pem", "--key", "k.pem", "servers", "list"],
        &["servers", "register", "--tag", "novalue"],
    ] {
        let run = finish(
            command(args)
                .env("CUTOVER_SERVER", closed_address())
                .output()
                .expect("run"),
        );
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}
