//! Temporary stand-in for the binary codec (JSON), replaced by the protobuf codec.

use crate::domain::{LifecycleEvent, ReplicationJob, SourceServer};
use crate::store::StoreError;

pub(crate) const FORMAT_VERSION: u32 = 1;

fn enc<T: serde::Serialize>(v: &T, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(out, v);
}
fn dec<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string()))
}
pub(crate) fn encode_source_server(v: &SourceServer, out: &mut Vec<u8>) {
    enc(v, out)
}
pub(crate) fn decode_source_server(b: &[u8]) -> Result<SourceServer, StoreError> {
    dec(b)
}
pub(crate) fn encode_replication_job(v: &ReplicationJob, out: &mut Vec<u8>) {
    enc(v, out)
}
pub(crate) fn decode_replication_job(b: &[u8]) -> Result<ReplicationJob, StoreError> {
    dec(b)
}
pub(crate) fn encode_event(v: &LifecycleEvent, out: &mut Vec<u8>) {
    enc(v, out)
}
pub(crate) fn decode_event(b: &[u8]) -> Result<LifecycleEvent, StoreError> {
    dec(b)
}
