//! Requests as the use cases take them, whatever wire they came on.
//!
//! Every operation that carries limits or choices has one value here, and
//! only its constructor makes one: page sizes, id counts, token lengths and
//! the allowed enum values live in these constructors and nowhere else, so
//! gRPC, MGN and SMC cannot drift apart in what they accept. A wire's codec
//! reads its own encoding (protobuf numbers, JSON members, query
//! parameters) into the constructor's plain inputs and hands over its own
//! names for the fields, which every refusal then names; it checks no
//! limit itself. Enums a wire sends as text are read by the one parser in
//! [`by_cloud_name`].

mod cloud_names;
mod create_job;
mod job_listing;
mod launch;
mod life_cycle;
mod page;
mod server_listing;

#[cfg(test)]
mod tests;

pub use cloud_names::{all_by_cloud_name, by_cloud_name};
pub use create_job::{
    CreateReplicationJob, CreateReplicationJobFields, JobSpecInput, ScheduleInput,
};
pub use job_listing::{
    DescribeReplicationJobs, DescribeReplicationJobsByNumber, JobFilterFields, JobFilterInput,
};
pub use launch::LaunchServers;
pub use life_cycle::ChangeServerLifeCycleState;
pub use page::{NumberedPageFields, NumberedPageRequest, PageFields, PageRequest};
pub use server_listing::{DescribeSourceServers, DescribeSourceServersFields, ServerFilterInput};

use crate::domain::DomainError;

/// `values` parsed by `parse` as ids of `field`, once there are at most
/// `max` of them: counted first, so that an over-long list costs no
/// parsing.
fn id_list<T>(
    field: &str,
    values: &[&str],
    max: usize,
    parse: fn(&str, &str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    at_most(field, values.len(), max)?;
    values.iter().map(|value| parse(field, value)).collect()
}

/// A refusal on `field` when it lists more than `max` values.
fn at_most(field: &str, len: usize, max: usize) -> Result<(), DomainError> {
    match len <= max {
        true => Ok(()),
        false => Err(DomainError::invalid_field(
            field,
            format!("at most {max} values are allowed, got {len}"),
        )),
    }
}
