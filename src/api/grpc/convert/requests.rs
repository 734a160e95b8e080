//! gRPC requests as the control plane's request values: protobuf numbers
//! decoded, `0` read as proto3's "not set", and the fields named in the
//! request's `snake_case`. The limits are the request values' own.

use crate::{
    control_plane::requests::{
        ChangeServerLifeCycleState, CreateReplicationJob, CreateReplicationJobFields,
        DescribeReplicationJobs, DescribeSourceServers, DescribeSourceServersFields,
        JobFilterFields, JobFilterInput, JobSpecInput, LaunchServers, PageFields, PageRequest,
        ScheduleInput, ServerFilterInput,
    },
    domain::{DomainError, ReplicationType, SourceServerId},
    pb::v1 as pb,
};

use super::{decode, decode_all, decode_optional};

/// Both listings' page fields.
const PAGE: PageFields = PageFields {
    size: "max_results",
    token: "next_token",
};

const SERVER_LISTING: DescribeSourceServersFields = DescribeSourceServersFields {
    ids: "filters.source_server_ids",
    life_cycle_states: "filters.life_cycle_states",
    // Not in the proto: never named.
    application_ids: "filters.application_ids",
};

const JOB_FILTER: JobFilterFields = JobFilterFields {
    job_ids: "job_ids",
    source_ids: "source_ids",
};

const JOB_SPEC: CreateReplicationJobFields = CreateReplicationJobFields {
    name: "name",
    description: "description",
    run_once: "run_once",
    frequency: "frequency",
    images_to_keep: "max_number_of_image_to_keep",
};

/// A listing's page: `max_results` 0 is the default size.
fn page(max_results: i32, next_token: &str) -> Result<PageRequest, DomainError> {
    let size = (max_results != 0).then_some(i64::from(max_results));
    PageRequest::new(PAGE, size, next_token)
}

fn strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

/// DescribeSourceServers (absent filters: everything). A lifecycle state
/// must be given (UNSPECIFIED is refused), while an UNSPECIFIED
/// replication type means AGENT_BASED, as the proto documents for every
/// input.
pub fn describe_source_servers(
    req: &pb::DescribeSourceServersRequest,
) -> Result<DescribeSourceServers, DomainError> {
    let page = page(req.max_results, &req.next_token)?;
    let filters = match &req.filters {
        None => ServerFilterInput::default(),
        Some(filters) => ServerFilterInput {
            ids: strs(&filters.source_server_ids),
            is_archived: filters.is_archived,
            replication_types: filters
                .replication_types
                .iter()
                .map(|&n| {
                    decode_optional("filters.replication_types", n)
                        .map(|t| t.unwrap_or(ReplicationType::AgentBased))
                })
                .collect::<Result<_, _>>()?,
            life_cycle_states: decode_all(
                SERVER_LISTING.life_cycle_states,
                &filters.life_cycle_states,
            )?,
            application_ids: Vec::new(),
        },
    };
    DescribeSourceServers::new(&SERVER_LISTING, filters, page)
}

/// DescribeReplicationJobs. Statuses and business statuses must be values
/// (UNSPECIFIED is refused: a job without business status cannot be asked
/// for).
pub fn describe_replication_jobs(
    req: &pb::DescribeReplicationJobsRequest,
) -> Result<DescribeReplicationJobs, DomainError> {
    let page = page(req.max_results, &req.next_token)?;
    let filter = JobFilterInput {
        job_ids: strs(&req.job_ids),
        source_ids: strs(&req.source_ids),
        statuses: decode_all("statuses", &req.statuses)?,
        business_statuses: decode_all("business_statuses", &req.business_statuses)?,
    };
    DescribeReplicationJobs::new(&JOB_FILTER, filter, page)
}

/// StartTest's and StartCutover's one server.
pub fn launch(source_server_id: &str) -> Result<LaunchServers, DomainError> {
    LaunchServers::new("source_server_id", &[source_server_id])
}

/// ChangeServerLifeCycleState: a known state that is a target.
pub fn change_life_cycle_state(
    req: &pb::ChangeServerLifeCycleStateRequest,
) -> Result<ChangeServerLifeCycleState, DomainError> {
    let id = SourceServerId::parse("source_server_id", &req.source_server_id)?;
    ChangeServerLifeCycleState::new("state", id, decode("state", req.state)?)
}

/// CreateReplicationJob. `run_once` absent or true makes a one-off job;
/// `frequency` and `max_number_of_image_to_keep` are then ignored,
/// whatever they hold. `run_once` false makes an incremental job, and both
/// are required.
pub fn create_replication_job(
    req: &pb::CreateReplicationJobRequest,
) -> Result<CreateReplicationJob, DomainError> {
    let source_id = SourceServerId::parse("source_id", &req.source_id)?;
    let schedule = match req.run_once.unwrap_or(true) {
        true => ScheduleInput::RunOnce,
        false => ScheduleInput::Incremental {
            frequency_hours: i64::from(req.frequency),
            images_to_keep: i64::from(req.max_number_of_image_to_keep),
        },
    };
    let spec = JobSpecInput {
        name: &req.name,
        description: &req.description,
        schedule,
    };
    CreateReplicationJob::new(&JOB_SPEC, source_id, spec)
}
