//! The public contract passes buf's STANDARD lint rules (with the
//! exceptions `buf.yaml` lists and explains), and every public proto file
//! names its package for other languages' generators, so `protoc-gen-go`
//! and friends work without flags.

use std::process::Command;

use prost::Message;
use prost_types::FileDescriptorSet;

/// buf, installed from npm by `scripts/test` (or given as `CUTOVER_BUF`).
fn buf() -> String {
    std::env::var("CUTOVER_BUF").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/node/node_modules/.bin/buf"
        )
        .to_owned()
    })
}

#[test]
fn the_public_protos_pass_buf_lint() {
    let output = Command::new(buf())
        .arg("lint")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run buf ({err}): scripts/test installs it from npm into tests/node")
        });
    assert!(
        output.status.success(),
        "buf lint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_public_proto_names_its_package_for_other_languages() {
    let set = FileDescriptorSet::decode(cutover::pb::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let files: Vec<_> = set
        .file
        .iter()
        .filter(|file| file.package() == "cutover.v1")
        .collect();
    assert_eq!(files.len(), 5);
    for file in files {
        let options = file.options.clone().unwrap_or_default();
        let name = file.name();
        assert_eq!(
            options.go_package(),
            "github.com/cutover/cutover/gen/go/cutover/v1;cutoverv1",
            "{name}"
        );
        assert_eq!(options.java_package(), "dev.cutover.v1", "{name}");
        assert!(options.java_multiple_files(), "{name}");
        assert_eq!(options.csharp_namespace(), "Cutover.V1", "{name}");
    }
}
