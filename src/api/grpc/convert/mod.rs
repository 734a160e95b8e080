//! Conversions between the protobuf messages of `cutover.v1` and the domain.
//!
//! Outbound (domain → proto) conversions are infallible. Inbound (proto →
//! domain) conversions validate everything a client can get wrong and
//! return [`DomainError::Validation`] naming the request field in
//! `snake_case` (`filters.life_cycle_states`, `lag_duration`, ...); they never
//! panic, whatever the input.
//!
//! - instants and spans: [`timestamp`], [`duration`], [`timestamp_from`],
//!   [`millis_from`];
//! - [`ProtoEnum`]: every enum, with [`encode`], [`decode`],
//!   [`decode_optional`] and [`decode_all`];
//! - source servers: [`source_server`], [`registration`],
//!   [`source_properties_from`], [`replication_report`];
//! - replication jobs: [`replication_job`];
//! - events: [`lifecycle_event`], [`resource_state`];
//! - the control plane's request values, whose constructors hold the
//!   limits: [`describe_source_servers`], [`launch`],
//!   [`change_life_cycle_state`], [`describe_replication_jobs`],
//!   [`create_replication_job`].

mod enums;
mod event;
mod replication_job;
mod requests;
mod source_server;
mod time;

#[cfg(test)]
mod tests;

pub use enums::{decode, decode_all, decode_optional, encode, encode_optional, ProtoEnum};
pub use event::{lifecycle_event, resource_state};
pub use replication_job::replication_job;
pub use requests::{
    change_life_cycle_state, create_replication_job, describe_replication_jobs,
    describe_source_servers, launch,
};
pub use source_server::{
    follow_up_task, registration, replication_report, source_properties, source_properties_from,
    source_server,
};
pub use time::{
    duration, millis_from, optional_duration, optional_millis_from, optional_timestamp,
    optional_timestamp_from, timestamp, timestamp_from,
};

/// A count as a proto `int32`, saturating at `i32::MAX`.
fn saturating_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
