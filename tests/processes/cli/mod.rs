//! `cutoverctl` as an operator runs it: a process against a real `cutoverd`.
//! Every command, the three output formats, the documented exit codes, a
//! whole migration wave, a job cutover, `watch --until` (also across a
//! server restart), bearer tokens and mutual TLS. This file holds what the
//! themes share: running `cutoverctl` and reading what it printed.

mod formats;
mod security;
mod usage;
mod watch;
mod wave;

use std::process::{Command, Output, Stdio};

use cutover_testkit::{grpcurl, workspace_binary, TestServer};
use serde_json::Value;
use socket2::{Domain, Socket, Type};

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

/// An address nobody listens on: bound, so no other process can take it
/// while the test runs, but not listening, so connections are refused.
struct ClosedAddress {
    _socket: Socket,
    url: String,
}

fn closed_address() -> ClosedAddress {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    socket.bind(&loopback.into()).expect("bind");
    let addr = socket
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("an IP address");
    ClosedAddress {
        _socket: socket,
        url: format!("http://{addr}"),
    }
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
