//! SMC response bodies, member names as SMC's API reference spells them
//! (`ReplicationJobs.ReplicationJob[]`, `ReplicationJobRuns.ReplicationJobRun[]`).

use serde_json::{json, Map, Value};

use crate::api::native::wire_time::instant;
use crate::domain::{JobSchedule, ReplicationJob};

/// One `ReplicationJob` of DescribeReplicationJobs. The job keeps no
/// region: `region_id` is the one the caller asked in **(decision)**.
pub(super) fn replication_job(job: &ReplicationJob, region_id: &str) -> Value {
    let (run_once, frequency, max_images) = match job.schedule {
        JobSchedule::RunOnce => (true, 0, 0),
        JobSchedule::Incremental {
            frequency_hours,
            max_images,
        } => (false, frequency_hours, max_images),
    };
    let runs: Vec<Value> = job
        .runs
        .iter()
        .map(|run| {
            json!({
                "ImageId": run.image_id,
                "StartTime": instant(run.start),
                "EndTime": instant(run.end),
                "Type": run.run_type.as_str(),
            })
        })
        .collect();
    let mut members = Map::new();
    let mut put = |name: &str, value: Value| {
        members.insert(name.to_owned(), value);
    };
    put("JobId", job.id.as_str().into());
    put("SourceId", job.source_id.as_str().into());
    put("Name", job.name.as_str().into());
    put("Description", job.description.as_str().into());
    put("Status", job.status.as_str().into());
    put(
        "BusinessStatus",
        job.business_status.map_or("", |b| b.as_str()).into(),
    );
    put("StatusInfo", job.status_info.as_str().into());
    put(
        "ErrorCode",
        job.error_code.as_deref().unwrap_or_default().into(),
    );
    put("Progress", job.progress.into());
    put("RegionId", region_id.into());
    put("CreationTime", instant(job.created).into());
    if let Some(started) = job.started {
        put("StartTime", instant(started).into());
    }
    if let Some(ended) = job.ended {
        put("EndTime", instant(ended).into());
    }
    put("RunOnce", run_once.into());
    put("Frequency", frequency.into());
    put("MaxNumberOfImageToKeep", max_images.into());
    put(
        "ImageId",
        job.image_ids.last().map_or("", String::as_str).into(),
    );
    put("ReplicationJobRuns", json!({ "ReplicationJobRun": runs }));
    put("Tags", json!({ "Tag": [] }));
    Value::Object(members)
}
