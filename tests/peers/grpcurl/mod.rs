//! The contract as a JSON client sees it: grpcurl (1.8.6, reflection
//! v1alpha) as a subprocess against the real `cutoverd`, with JSON bodies
//! only: service listing, descriptors, both cutovers, the watch, and error
//! details decoded from the server's registered `google.rpc` descriptors.
//!
//! grpcurl comes from `$GRPCURL`, else `grpcurl` on PATH; `scripts/test`
//! installs it and sets `GRPCURL`. Without it these tests fail, never skip.
//!
//! This file runs grpcurl and reads its JSON; the cases are in the modules.

mod cutovers;
mod details;
mod reflection;
mod watch;

use std::process::{Command, Output, Stdio};

use cutover_testkit::{eventually_blocking, grpcurl, TestServer, DEADLINE};
use serde_json::Value;

const FAST: &[&str] = &["--sim-speed", "100"];
const QUIET: &[&str] = &["--no-simulator"];
const SERVERS: &str = "cutover.v1.SourceServerService";
const JOBS: &str = "cutover.v1.ReplicationJobService";

/// What one grpcurl run printed.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
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
    pub(crate) fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `grpcurl -plaintext -max-time 10 ARGS...`.
pub(crate) fn grpcurl_run(args: &[&str]) -> Run {
    let output = Command::new(grpcurl())
        .args(["-plaintext", "-max-time", "10"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run grpcurl");
    Run::from_output(output)
}

/// `grpcurl -plaintext -max-time 10 ARGS...`, which must succeed; returns
/// what it printed on stdout.
pub(crate) fn grpcurl_ok(args: &[&str]) -> String {
    let run = grpcurl_run(args);
    assert_eq!(run.code, Some(0), "grpcurl {args:?} failed:\n{}", run.all());
    run.stdout
}

/// Calls `method` with a JSON `body`; expects success and returns the JSON.
pub(crate) fn call(server: &TestServer, method: &str, body: &str) -> Value {
    let stdout = grpcurl_ok(&["-d", body, &server.addr, method]);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("{method} printed no JSON ({err}):\n{stdout}"))
}

/// Calls `method` with a JSON `body`; expects a failure.
pub(crate) fn call_err(server: &TestServer, method: &str, body: &str) -> Run {
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
pub(crate) fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A proto3-JSON uint64/int64 (a string, or absent for 0).
pub(crate) fn int(value: &Value, pointer: &str) -> u64 {
    match value.pointer(pointer) {
        None => 0,
        Some(Value::String(s)) => s.parse().unwrap_or_else(|_| panic!("{pointer}: {s:?}")),
        Some(Value::Number(n)) => n.as_u64().expect("unsigned"),
        Some(other) => panic!("{pointer}: not an integer: {other}"),
    }
}

pub(crate) fn id_body(id: &str) -> String {
    format!(r#"{{"sourceServerId":"{id}"}}"#)
}

pub(crate) fn job_body(id: &str) -> String {
    format!(r#"{{"jobId":"{id}"}}"#)
}

/// Registers a server; returns the JSON of it.
pub(crate) fn register_json(server: &TestServer) -> Value {
    let registered = call(server, &format!("{SERVERS}/RegisterSourceServer"), "{}");
    let id = text(&registered, "/sourceServerId");
    assert!(id.starts_with("s-") && id.len() == 19, "{registered}");
    registered
}

/// Registers a server; returns its id.
pub(crate) fn register(server: &TestServer) -> String {
    text(&register_json(server), "/sourceServerId").to_owned()
}

pub(crate) fn get_server(server: &TestServer, id: &str) -> Value {
    call(server, &format!("{SERVERS}/GetSourceServer"), &id_body(id))
}

pub(crate) fn wait_for_state(server: &TestServer, id: &str, state: &str) -> Value {
    eventually_blocking(DEADLINE, &format!("{id} to reach {state}"), || {
        let got = get_server(server, id);
        (text(&got, "/lifeCycle/state") == state).then_some(got)
    })
}

pub(crate) fn get_job(server: &TestServer, id: &str) -> Value {
    call(server, &format!("{JOBS}/GetReplicationJob"), &job_body(id))
}

pub(crate) fn wait_for_job(server: &TestServer, id: &str, status: &str) -> Value {
    eventually_blocking(DEADLINE, &format!("{id} to reach {status}"), || {
        let job = get_job(server, id);
        (text(&job, "/status") == status).then_some(job)
    })
}

/// Every JSON value of a stream of concatenated JSON objects (what grpcurl
/// prints for a server-streaming call), up to the first incomplete one.
pub(crate) fn json_stream(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}
