//! Arbitrary replication jobs.

use proptest::collection::vec;

use super::*;

fn schedule() -> impl Strategy<Value = JobSchedule> {
    prop_oneof![
        Just(JobSchedule::RunOnce),
        (small(), small()).prop_map(|(frequency_hours, max_images)| JobSchedule::Incremental {
            frequency_hours,
            max_images,
        }),
    ]
}

fn run_purpose() -> impl Strategy<Value = RunPurpose> {
    select(
        &[
            RunPurpose::Replication,
            RunPurpose::FinalSync,
            RunPurpose::Release,
        ][..],
    )
}

fn current_run() -> BoxedStrategy<CurrentRun> {
    (timestamp(), select(RunType::ALL), run_purpose())
        .prop_map(|(start, run_type, purpose)| CurrentRun {
            start,
            run_type,
            purpose,
        })
        .boxed()
}

fn job_run() -> BoxedStrategy<JobRun> {
    (timestamp(), timestamp(), text(), select(RunType::ALL))
        .prop_map(|(start, end, image_id, run_type)| JobRun {
            start,
            end,
            image_id,
            run_type,
        })
        .boxed()
}

fn cut_over() -> impl Strategy<Value = CutOver> {
    (timestamp(), any::<bool>()).prop_map(|(requested, sync_data)| CutOver {
        requested,
        sync_data,
    })
}

/// Any replication job.
pub(in crate::store::codec::tests) fn replication_job() -> BoxedStrategy<ReplicationJob> {
    let identity = (account(), job_id(), server_id(), text(), text());
    let state = (
        select(ReplicationJobStatus::ALL),
        option::of(select(BusinessStatus::ALL)),
        progress(),
        option::of(text()),
        text(),
        schedule(),
    );
    let history = (
        timestamp(),
        option::of(timestamp()),
        option::of(timestamp()),
        option::of(current_run()),
        vec(job_run(), 0..3),
        vec(text(), 0..3),
        small(),
        option::of(timestamp()),
        option::of(cut_over()),
    );
    (identity, state, history)
        .prop_map(
            |(
                (account_id, id, source_id, name, description),
                (status, business_status, progress, error_code, status_info, schedule),
                (created, started, ended, current_run, runs, image_ids, cycles, next_run, cut_over),
            )| ReplicationJob {
                account_id,
                id,
                source_id,
                name,
                description,
                status,
                business_status,
                progress,
                error_code,
                status_info,
                schedule,
                created,
                started,
                ended,
                current_run,
                runs,
                image_ids,
                cycles,
                next_run,
                cut_over,
            },
        )
        .boxed()
}
