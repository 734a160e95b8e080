//! Compiles the protos in `proto/` without a system `protoc`: protox parses
//! the files into descriptor sets, tonic-prost-build generates code from
//! them. The public contract's encoded set is kept for server reflection;
//! the storage encoding is compiled apart so that it never appears there.

use std::{env, fs, path::PathBuf};

use protox::prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/cutover/v1/account.proto",
        "proto/cutover/v1/source_server.proto",
        "proto/cutover/v1/replication_job.proto",
        "proto/cutover/v1/lifecycle.proto",
        "proto/cutover/v1/agent.proto",
    ];
    let descriptors = protox::compile(protos, ["proto"])?;
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

    // Messages only: the store encodes and decodes them, nothing serves them.
    let storage = protox::compile(["proto/cutover/storage/v1/storage.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        .btree_map(".")
        .compile_fds(storage)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
