//! The page's protobuf codec against protobufjs, in Node
//! (`tests/node/dashboard_codec.mjs`): the schema the page is served, and a
//! real `google.rpc.Status` as tonic encodes it.

use std::{collections::HashMap, path::Path, process::Command};

use tonic_types::{ErrorDetails, StatusExt};

#[test]
fn the_page_codec_agrees_with_protobufjs() {
    let node_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        node_tests.join("node_modules/protobufjs").is_dir(),
        "the npm packages are missing: run `scripts/test`, which installs them"
    );
    let dir = tempfile::TempDir::new().expect("temp dir");
    let schema = cutover::api::dashboard::schema_json(&[
        cutover::pb::FILE_DESCRIPTOR_SET,
        tonic_types::pb::FILE_DESCRIPTOR_SET,
    ])
    .expect("schema");
    std::fs::write(dir.path().join("schema.json"), schema).expect("write schema");
    let details = ErrorDetails::with_error_info(
        "RevisionCompacted",
        "cutover",
        HashMap::from([("oldestRevision".to_owned(), "42".to_owned())]),
    );
    let status = tonic::Status::with_error_details(tonic::Code::OutOfRange, "compacted", details);
    std::fs::write(dir.path().join("status.bin"), status.details()).expect("write status");

    let output = Command::new("node")
        .arg(node_tests.join("dashboard_codec.mjs"))
        .arg(dir.path().join("schema.json"))
        .arg(dir.path().join("status.bin"))
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("10 passed, 0 failed"),
        "{stdout}"
    );
}
