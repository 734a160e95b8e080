//! The storage encoding of resources, events and client token outcomes:
//! the protobuf messages of `proto/cutover/storage/v1/storage.proto`, which
//! mirror the domain types field for field.
//!
//! Decoding takes the generated message by value and moves its strings,
//! maps and vectors into the domain value, because start-up decodes every
//! stored server. It rejects what the domain cannot hold (a malformed id, an
//! unspecified or unknown enum value, a missing required message) as
//! [`StoreError::Corrupt`], naming the field; it never panics.
//!
//! Format changes follow the evolution rules in the proto's header, and the
//! golden files under `golden/v1/` hold bytes every release must still read.
//! The functions are public so that fuzzers and tools can read stored
//! bytes; the stores are their only writers.

mod enums;
mod event;
mod job;
mod outcome;
mod server;
#[cfg(test)]
mod tests;

use std::fmt::Display;

use prost::Message;

use crate::domain::{AccountId, DomainError, LifecycleEvent, ReplicationJob, SourceServer};
use crate::pb::storage::v1 as pb;
use crate::store::{Outcome, StoreError};

/// The storage format these functions read and write (1 = this first protobuf format).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Appends the encoding of `server` to `out`.
pub fn encode_source_server(server: &SourceServer, out: &mut Vec<u8>) {
    append(&server::to_message(server), out);
}

/// The source server encoded in `bytes`.
pub fn decode_source_server(bytes: &[u8]) -> Result<SourceServer, StoreError> {
    let message = pb::StoredSourceServer::decode(bytes).map_err(|err| unreadable(&err))?;
    server::from_message(message).map_err(|err| about("source server", err))
}

/// Appends the encoding of `job` to `out`.
pub fn encode_replication_job(job: &ReplicationJob, out: &mut Vec<u8>) {
    append(&job::to_message(job), out);
}

/// The replication job encoded in `bytes`.
pub fn decode_replication_job(bytes: &[u8]) -> Result<ReplicationJob, StoreError> {
    let message = pb::StoredReplicationJob::decode(bytes).map_err(|err| unreadable(&err))?;
    job::from_message(message).map_err(|err| about("replication job", err))
}

/// Appends the encoding of `event` to `out`.
pub fn encode_event(event: &LifecycleEvent, out: &mut Vec<u8>) {
    append(&event::to_message(event), out);
}

/// The lifecycle event encoded in `bytes`.
pub fn decode_event(bytes: &[u8]) -> Result<LifecycleEvent, StoreError> {
    let message = pb::StoredEvent::decode(bytes).map_err(|err| unreadable(&err))?;
    event::from_message(message).map_err(|err| about("event", err))
}

/// Appends the encoding of a client token's `outcome` to `out`.
pub fn encode_outcome(outcome: &Outcome, out: &mut Vec<u8>) {
    append(&outcome::to_message(outcome), out);
}

/// The client token outcome encoded in `bytes`.
pub fn decode_outcome(bytes: &[u8]) -> Result<Outcome, StoreError> {
    let message = pb::StoredOutcome::decode(bytes).map_err(|err| unreadable(&err))?;
    outcome::from_message(message).map_err(|err| about("client token outcome", err))
}

fn append(message: &impl Message, out: &mut Vec<u8>) {
    // The only encoding error is a buffer too small, and a Vec grows.
    let encoded = message.encode(out);
    debug_assert!(encoded.is_ok(), "encoding into a Vec failed: {encoded:?}");
}

fn unreadable(err: &prost::DecodeError) -> StoreError {
    StoreError::Corrupt(format!("not a valid storage message: {err}"))
}

/// Corruption of `field`.
fn corrupt(field: &str, detail: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{field}: {detail}"))
}

/// `err` with its field path prefixed by `outer` (`outer.field: ...`).
fn within(outer: &str, err: StoreError) -> StoreError {
    match err {
        StoreError::Corrupt(detail) => StoreError::Corrupt(format!("{outer}.{detail}")),
        other => other,
    }
}

/// `err` naming what was being decoded (`what: field: ...`).
fn about(what: &str, err: StoreError) -> StoreError {
    match err {
        StoreError::Corrupt(detail) => StoreError::Corrupt(format!("{what}: {detail}")),
        other => other,
    }
}

/// The message of a required message field.
fn required<T>(message: Option<T>, field: &str) -> Result<T, StoreError> {
    message.ok_or_else(|| corrupt(field, "missing"))
}

/// An id read back with its domain `parse`.
fn id<T>(
    parse: fn(&str, &str) -> Result<T, DomainError>,
    value: &str,
    field: &str,
) -> Result<T, StoreError> {
    parse(field, value).map_err(|err| match err {
        // Its text would call stored data an invalid request.
        DomainError::Validation(violations) => {
            let reasons: Vec<String> = violations.into_iter().map(|v| v.description).collect();
            corrupt(field, reasons.join("; "))
        }
        other => corrupt(field, other),
    })
}

/// The owning account of a resource.
fn account_id(value: &str) -> Result<AccountId, StoreError> {
    id(AccountId::parse, value, "account_id")
}
