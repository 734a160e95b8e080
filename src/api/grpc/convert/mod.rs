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
//!   [`source_properties_from`], [`source_server_filter`],
//!   [`replication_report`];
//! - replication jobs: [`replication_job`], [`job_spec`],
//!   [`replication_job_filter`];
//! - events: [`lifecycle_event`], [`resource_state`];
//! - pagination: [`page_size`].

mod enums;
mod event;
mod replication_job;
mod source_server;
mod time;

#[cfg(test)]
mod tests;

use crate::domain::DomainError;

pub use enums::{decode, decode_all, decode_optional, encode, encode_optional, ProtoEnum};
pub use event::{lifecycle_event, resource_state};
pub use replication_job::{job_spec, replication_job, replication_job_filter, MAX_FILTER_JOB_IDS};
pub use source_server::{
    follow_up_task, registration, replication_report, source_properties, source_properties_from,
    source_server, source_server_filter, MAX_FILTER_LIFE_CYCLE_STATES,
    MAX_FILTER_SOURCE_SERVER_IDS,
};
pub use time::{
    duration, millis_from, optional_duration, optional_millis_from, optional_timestamp,
    optional_timestamp_from, timestamp, timestamp_from,
};

/// Page size of a listing when `max_results` is 0.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Largest page size a listing accepts.
pub const MAX_PAGE_SIZE: usize = 1000;

/// A listing's `max_results` as a page size: 0 means the default (1000),
/// 1 to 1000 are taken as given, anything else is a validation error on
/// `max_results`.
pub fn page_size(max_results: i32) -> Result<usize, DomainError> {
    match usize::try_from(max_results) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(n) if n <= MAX_PAGE_SIZE => Ok(n),
        _ => Err(DomainError::invalid_field(
            "max_results",
            format!("must be 1 to {MAX_PAGE_SIZE} (0 for {DEFAULT_PAGE_SIZE}), got {max_results}"),
        )),
    }
}

/// A count as a proto `int32`, saturating at `i32::MAX`.
fn saturating_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
