//! Compiles the internal storage format (`proto/cutover/storage/v1`)
//! without a system `protoc`: protox parses it, tonic-prost-build generates
//! its messages. The public contract is the `cutover-proto` crate's; this
//! one never appears in reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Messages only: the store encodes and decodes them, nothing serves them.
    let storage = protox::compile(["proto/cutover/storage/v1/storage.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        .btree_map(".")
        .compile_fds(storage)?;
    println!("cargo:rerun-if-changed=proto/cutover/storage");
    Ok(())
}
