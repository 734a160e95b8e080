//! Replication jobs (SMC): the resource outbound; creation and listing
//! filters inbound.

use crate::{
    domain::{
        replication_job::JobSpec, DomainError, JobRun, JobSchedule, ReplicationJob,
        ReplicationJobId, SourceServerId,
    },
    pb::v1 as pb,
    store::ReplicationJobFilter,
};

use super::{
    decode_all, encode, encode_optional, optional_timestamp, saturating_i32,
    source_server::at_most, timestamp,
};

/// At most this many ids in `job_ids` and in `source_ids`.
pub const MAX_FILTER_JOB_IDS: usize = 200;

/// A replication job as the API shows it; `request_id` is left empty for
/// the caller to set when the message is a whole response. A one-off job
/// shows `run_once` true with `frequency` and `max_number_of_image_to_keep`
/// 0; an absent error code is empty.
pub fn replication_job(job: &ReplicationJob) -> pb::ReplicationJob {
    let (run_once, frequency, max_images) = match job.schedule {
        JobSchedule::RunOnce => (true, 0, 0),
        JobSchedule::Incremental {
            frequency_hours,
            max_images,
        } => (
            false,
            saturating_i32(frequency_hours),
            saturating_i32(max_images),
        ),
    };
    pb::ReplicationJob {
        job_id: job.id.to_string(),
        source_id: job.source_id.to_string(),
        name: job.name.clone(),
        description: job.description.clone(),
        status: encode(job.status),
        business_status: encode_optional(job.business_status),
        progress: job.progress,
        error_code: job.error_code.clone().unwrap_or_default(),
        status_info: job.status_info.clone(),
        run_once,
        frequency,
        max_number_of_image_to_keep: max_images,
        creation_time: Some(timestamp(job.created)),
        start_time: optional_timestamp(job.started),
        end_time: optional_timestamp(job.ended),
        replication_job_runs: job.runs.iter().map(job_run).collect(),
        image_ids: job.image_ids.clone(),
        next_run_time: optional_timestamp(job.next_run),
        cut_over: job.cut_over.map(|c| pb::ReplicationJobCutOver {
            requested_time: Some(timestamp(c.requested)),
            sync_data: c.sync_data,
        }),
        account_id: job.account_id.to_string(),
        request_id: String::new(),
    }
}

fn job_run(run: &JobRun) -> pb::ReplicationJobRun {
    pb::ReplicationJobRun {
        start_time: Some(timestamp(run.start)),
        end_time: Some(timestamp(run.end)),
        image_id: run.image_id.clone(),
        r#type: encode(run.run_type),
    }
}

/// CreateReplicationJob's request as the source server to migrate and the
/// job's spec, validated by [`JobSpec::validate`].
///
/// `run_once` absent or true makes a one-off job; `frequency` and
/// `max_number_of_image_to_keep` are then ignored, whatever they hold.
/// `run_once` false makes an incremental job, and both are required (1-168
/// hours, 1-10 images).
pub fn job_spec(
    req: &pb::CreateReplicationJobRequest,
) -> Result<(SourceServerId, JobSpec), DomainError> {
    let source_id = SourceServerId::parse("source_id", &req.source_id)?;
    let schedule = if req.run_once.unwrap_or(true) {
        JobSchedule::RunOnce
    } else {
        JobSchedule::Incremental {
            frequency_hours: non_negative(
                "frequency",
                req.frequency,
                "must be 1-168 hours when run_once is false",
            )?,
            max_images: non_negative(
                "max_number_of_image_to_keep",
                req.max_number_of_image_to_keep,
                "must be 1-10 when run_once is false",
            )?,
        }
    };
    let spec = JobSpec {
        name: req.name.clone(),
        description: req.description.clone(),
        schedule,
    };
    spec.validate()?;
    Ok((source_id, spec))
}

fn non_negative(field: &str, value: i32, rule: &str) -> Result<u32, DomainError> {
    u32::try_from(value)
        .map_err(|_| DomainError::invalid_field(field, format!("{rule}, got {value}")))
}

/// DescribeReplicationJobs' filters: at most 200 job ids and 200 source
/// ids, each well-formed; statuses and business statuses must be values
/// (UNSPECIFIED is rejected: a job without business status cannot be
/// asked for).
pub fn replication_job_filter(
    req: &pb::DescribeReplicationJobsRequest,
) -> Result<ReplicationJobFilter, DomainError> {
    at_most("job_ids", req.job_ids.len(), MAX_FILTER_JOB_IDS)?;
    at_most("source_ids", req.source_ids.len(), MAX_FILTER_JOB_IDS)?;
    Ok(ReplicationJobFilter {
        ids: req
            .job_ids
            .iter()
            .map(|id| ReplicationJobId::parse("job_ids", id))
            .collect::<Result<_, _>>()?,
        source_ids: req
            .source_ids
            .iter()
            .map(|id| SourceServerId::parse("source_ids", id))
            .collect::<Result<_, _>>()?,
        statuses: decode_all("statuses", &req.statuses)?,
        business_statuses: decode_all("business_statuses", &req.business_statuses)?,
    })
}
