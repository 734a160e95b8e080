//! A Python client of the contract: `tests/python/flows.py` generates its
//! stubs from `proto/` with `grpc_tools.protoc` at run time and drives the
//! MGN and SMC cutovers, the watch and the error model (decoding
//! `google.rpc` details with grpcio-status) against the real `cutoverd`.
//!
//! Needs Python with grpcio, grpcio-tools and grpcio-status: `scripts/test`
//! installs them. `CUTOVER_PYTHON` names the interpreter (default
//! `python3`).

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use cutover_testkit::*;

fn python() -> String {
    std::env::var("CUTOVER_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Fails (never skips) when the interpreter or its gRPC packages are missing.
fn require_python_grpc(python: &str) {
    let probe = Command::new(python)
        .args([
            "-c",
            "import grpc, grpc_tools.protoc, grpc_status.rpc_status, google.rpc.error_details_pb2",
        ])
        .output();
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "`{python}` cannot import grpc_tools / grpcio-status ({}): run `scripts/test`, \
             which installs grpcio, grpcio-tools and grpcio-status, instead of a bare `cargo test`",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => panic!(
            "cannot run `{python}` ({err}): set CUTOVER_PYTHON or run `scripts/test` \
             instead of a bare `cargo test`"
        ),
    }
}

#[test]
fn python_client_runs_the_flows_against_cutoverd() {
    let python = python();
    require_python_grpc(&python);
    let server = TestServer::start(&["--sim-speed", "100"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/flows.py");
    let started = Instant::now();
    let output = Command::new(&python)
        .arg(&script)
        .arg(&server.addr)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run flows.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    println!("flows.py took {:?}", started.elapsed());
    assert!(
        output.status.success(),
        "flows.py exited with {}:\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("passed, 0 failed"),
        "unexpected last line {last:?}:\n{stdout}"
    );
    let passed: u32 = last
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {last:?}"));
    assert!(passed >= 6, "only {passed} checks ran:\n{stdout}");
}
