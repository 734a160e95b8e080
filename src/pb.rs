//! Code generated from `proto/cutover/v1`, the public contract, and from
//! `proto/cutover/storage/v1`, the store's private encoding.
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]

/// `cutover.v1`: messages, clients and servers.
pub mod v1 {
    tonic::include_proto!("cutover.v1");
}

/// `cutover.storage.v1`: the store's encoding of resources and events;
/// messages only, not part of the public API.
pub mod storage {
    /// Version 1 of the storage encoding.
    pub mod v1 {
        tonic::include_proto!("cutover.storage.v1");
    }
}

/// The encoded file descriptor set of the public protos (`cutover.v1`, not
/// the storage encoding), for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cutover_descriptor");
