//! SMC request parameters as the control plane's request values, under
//! SMC's parameter names; enums are read by their cloud names. The limits
//! are the request values' own; what is SMC's alone stays here: a missing
//! parameter is `Missing<Name>`, not a range error.

use super::{error::SmcError, params::Params};
use crate::{
    control_plane::requests::{
        by_cloud_name, CreateReplicationJob, CreateReplicationJobFields,
        DescribeReplicationJobsByNumber, JobFilterFields, JobFilterInput, JobSpecInput,
        NumberedPageFields, NumberedPageRequest, ScheduleInput,
    },
    domain::{BusinessStatus, ReplicationJobStatus, SourceServerId},
};

const JOB_FILTER: JobFilterFields = JobFilterFields {
    job_ids: "JobId",
    source_ids: "SourceId",
};

const PAGE: NumberedPageFields = NumberedPageFields {
    number: "PageNumber",
    size: "PageSize",
};

const JOB_SPEC: CreateReplicationJobFields = CreateReplicationJobFields {
    name: "Name",
    description: "Description",
    run_once: "RunOnce",
    frequency: "Frequency",
    images_to_keep: "MaxNumberOfImageToKeep",
};

/// DescribeReplicationJobs: `JobId.N`, `SourceId.N`, `Status`,
/// `BusinessStatus`, `Name`, `PageNumber` and `PageSize`. Jobs keep no
/// target instance and no tags, so an `InstanceId.N` or `Tag.N` filter
/// matches none; `JobType` and `RegionId` filter nothing (one region,
/// image jobs only).
pub(super) fn describe_replication_jobs(
    params: &Params,
) -> Result<DescribeReplicationJobsByNumber, SmcError> {
    let page = NumberedPageRequest::new(
        PAGE,
        params.integer(PAGE.number)?,
        params.integer(PAGE.size)?,
    )?;
    let filter = JobFilterInput {
        job_ids: params.list(JOB_FILTER.job_ids)?,
        source_ids: params.list(JOB_FILTER.source_ids)?,
        statuses: params
            .get("Status")
            .map(|name| by_cloud_name("Status", name, ReplicationJobStatus::ALL))
            .transpose()?
            .into_iter()
            .collect(),
        business_statuses: params
            .get("BusinessStatus")
            .map(|name| by_cloud_name("BusinessStatus", name, BusinessStatus::ALL))
            .transpose()?
            .into_iter()
            .collect(),
    };
    let on_unkept_attributes = params.mentions("InstanceId") || params.mentions("Tag");
    Ok(DescribeReplicationJobsByNumber::new(
        &JOB_FILTER,
        filter,
        params.get("Name"),
        on_unkept_attributes,
        page,
    )?)
}

/// CreateReplicationJob. The target parameters (TargetType, InstanceId,
/// SystemDiskSize, DataDisk.N, VpcId, ...) describe the image SMC would
/// build; the simulated data plane builds none, so they are taken and not
/// kept **(decision)**. Tags would be silently lost, so they are refused.
pub(super) fn create_replication_job(params: &Params) -> Result<CreateReplicationJob, SmcError> {
    params.required("RegionId")?;
    let source_id = SourceServerId::parse("SourceId", params.required("SourceId")?)?;
    if params.mentions("Tag") {
        return Err(SmcError::invalid(
            "Tag",
            "replication job tags are not kept by this endpoint",
        ));
    }
    let schedule = match params.bool(JOB_SPEC.run_once)?.unwrap_or(true) {
        true => ScheduleInput::RunOnce,
        false => ScheduleInput::Incremental {
            frequency_hours: required_integer(params, JOB_SPEC.frequency)?,
            images_to_keep: required_integer(params, JOB_SPEC.images_to_keep)?,
        },
    };
    let spec = JobSpecInput {
        name: params.get(JOB_SPEC.name).unwrap_or_default(),
        description: params.get(JOB_SPEC.description).unwrap_or_default(),
        schedule,
    };
    Ok(CreateReplicationJob::new(&JOB_SPEC, source_id, spec)?)
}

/// An integer an incremental job requires: `Missing<Name>` when absent.
fn required_integer(params: &Params, name: &str) -> Result<i64, SmcError> {
    params
        .integer(name)?
        .ok_or_else(|| SmcError::Missing(name.to_owned()))
}
