//! Replication jobs as `StoredReplicationJob`, and back.

use crate::domain::{
    CurrentRun, CutOver, JobRun, JobSchedule, ReplicationJob, ReplicationJobId, SourceServerId,
    Timestamp,
};
use crate::pb::storage::v1 as pb;
use crate::pb::storage::v1::stored_replication_job::Schedule;
use crate::store::StoreError;

use super::enums::{enum_value, optional_enum_value, StoredEnum};
use super::{account_id, corrupt, id, within};

/// The storage message of `job`.
pub(super) fn to_message(job: &ReplicationJob) -> pb::StoredReplicationJob {
    pb::StoredReplicationJob {
        account_id: job.account_id.as_str().to_owned(),
        id: job.id.as_str().to_owned(),
        source_id: job.source_id.as_str().to_owned(),
        name: job.name.clone(),
        status: job.status.to_stored(),
        business_status: job.business_status.map(StoredEnum::to_stored),
        progress: job.progress,
        schedule: Some(match job.schedule {
            JobSchedule::RunOnce => Schedule::RunOnce(pb::RunOnce {}),
            JobSchedule::Incremental {
                frequency_hours,
                max_images,
            } => Schedule::Incremental(pb::IncrementalSchedule {
                frequency_hours,
                max_images,
            }),
        }),
        created_ms: job.created.0,
        started_ms: job.started.map(|t| t.0),
        current_run: job.current_run.map(|run| pb::CurrentRun {
            start_ms: run.start.0,
            run_type: run.run_type.to_stored(),
            purpose: run.purpose.to_stored(),
        }),
        runs: job
            .runs
            .iter()
            .map(|run| pb::JobRun {
                start_ms: run.start.0,
                end_ms: run.end.0,
                image_id: run.image_id.clone(),
                run_type: run.run_type.to_stored(),
            })
            .collect(),
        image_ids: job.image_ids.clone(),
        cycles: job.cycles,
        next_run_ms: job.next_run.map(|t| t.0),
        description: job.description.clone(),
        error_code: job.error_code.clone(),
        status_info: job.status_info.clone(),
        ended_ms: job.ended.map(|t| t.0),
        cut_over: job.cut_over.map(|cut_over| pb::CutOver {
            requested_ms: cut_over.requested.0,
            sync_data: cut_over.sync_data,
        }),
    }
}

/// The replication job stored as `message`.
pub(super) fn from_message(
    message: pb::StoredReplicationJob,
) -> Result<ReplicationJob, StoreError> {
    Ok(ReplicationJob {
        account_id: account_id(&message.account_id)?,
        id: id(ReplicationJobId::parse, &message.id, "id")?,
        source_id: id(SourceServerId::parse, &message.source_id, "source_id")?,
        name: message.name,
        description: message.description,
        status: enum_value(message.status, "status")?,
        business_status: optional_enum_value(message.business_status, "business_status")?,
        progress: message.progress,
        error_code: message.error_code,
        status_info: message.status_info,
        schedule: match message.schedule {
            Some(Schedule::RunOnce(pb::RunOnce {})) => JobSchedule::RunOnce,
            Some(Schedule::Incremental(incremental)) => JobSchedule::Incremental {
                frequency_hours: incremental.frequency_hours,
                max_images: incremental.max_images,
            },
            // Also what a schedule kind added by a later release reads as.
            None => return Err(corrupt("schedule", "missing")),
        },
        created: Timestamp(message.created_ms),
        started: message.started_ms.map(Timestamp),
        ended: message.ended_ms.map(Timestamp),
        current_run: message
            .current_run
            .map(current_run)
            .transpose()
            .map_err(|err| within("current_run", err))?,
        runs: message
            .runs
            .into_iter()
            .enumerate()
            .map(|(i, run)| job_run(run).map_err(|err| within(&format!("runs[{i}]"), err)))
            .collect::<Result<_, _>>()?,
        image_ids: message.image_ids,
        cycles: message.cycles,
        next_run: message.next_run_ms.map(Timestamp),
        cut_over: message.cut_over.map(|cut_over| CutOver {
            requested: Timestamp(cut_over.requested_ms),
            sync_data: cut_over.sync_data,
        }),
    })
}

fn current_run(message: pb::CurrentRun) -> Result<CurrentRun, StoreError> {
    Ok(CurrentRun {
        start: Timestamp(message.start_ms),
        run_type: enum_value(message.run_type, "run_type")?,
        purpose: enum_value(message.purpose, "purpose")?,
    })
}

fn job_run(message: pb::JobRun) -> Result<JobRun, StoreError> {
    Ok(JobRun {
        start: Timestamp(message.start_ms),
        end: Timestamp(message.end_ms),
        image_id: message.image_id,
        run_type: enum_value(message.run_type, "run_type")?,
    })
}
