//! Code generated from `proto/cutover/v1`, the public contract.
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]

/// `cutover.v1`: messages, clients and servers.
pub mod v1 {
    tonic::include_proto!("cutover.v1");
}

/// The encoded file descriptor set of every cutover proto, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cutover_descriptor");
