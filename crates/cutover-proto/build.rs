//! Compiles the public contract in `proto/cutover/v1` without a system
//! `protoc`: protox parses the files into a descriptor set,
//! tonic-prost-build generates code from it, and the encoded set is kept
//! for server reflection and JSON output.

use std::{env, fs, path::PathBuf};

use protox::prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let protos = [
        "cutover/v1/account.proto",
        "cutover/v1/source_server.proto",
        "cutover/v1/replication_job.proto",
        "cutover/v1/lifecycle.proto",
        "cutover/v1/agent.proto",
    ]
    .map(|file| root.join(file));
    let descriptors = protox::compile(&protos, [&root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("cutover_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .btree_map(".")
        .compile_fds(descriptors)?;
    println!(
        "cargo:rerun-if-changed={}",
        root.join("cutover/v1").display()
    );
    Ok(())
}
