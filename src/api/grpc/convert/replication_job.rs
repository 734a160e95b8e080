//! Replication jobs (SMC): the resource outbound.

use crate::{
    domain::{JobRun, JobSchedule, ReplicationJob},
    pb::v1 as pb,
};

use super::{encode, encode_optional, optional_timestamp, saturating_i32, timestamp};

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
