//! A Node.js client of the contract: `tests/node/flows.js`, on
//! `@grpc/grpc-js` and `@grpc/proto-loader` reading `proto/` at run time,
//! drives a whole FinalizeCutover and CutOverReplicationJob, resumes a
//! watch and decodes `google.rpc.ErrorInfo` from an error, against the
//! real `cutoverd`. `scripts/test` installs the npm packages.

use std::{
    path::Path,
    process::{Command, Stdio},
};

use cutover_testkit::*;

#[test]
fn node_client_runs_the_flows_against_cutoverd() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/@grpc/grpc-js").is_dir(),
        "the npm packages are missing: run `scripts/test`, which installs them"
    );
    let server = TestServer::start(&["--sim-speed", "100"]);
    let output = Command::new("node")
        .arg(dir.join("flows.js"))
        .arg(&server.addr)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "flows.js exited with {}:\n{stdout}\n{stderr}",
        output.status
    );
    assert_eq!(
        stdout.lines().last(),
        Some("4 passed, 0 failed"),
        "{stdout}"
    );
}
