//! Generated code: the public contract (`cutover.v1`, from the
//! `cutover-proto` crate, shared with `cutoverctl` and `cutover-agent`) and
//! the store's private encoding (`cutover.storage.v1`).

pub use cutover_proto::{v1, FILE_DESCRIPTOR_SET};

/// `cutover.storage.v1`: the store's encoding of resources and events;
/// messages only, not part of the public API.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod storage {
    /// Version 1 of the storage encoding.
    pub mod v1 {
        tonic::include_proto!("cutover.storage.v1");
    }
}
