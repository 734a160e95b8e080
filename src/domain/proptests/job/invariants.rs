//! What contract §3 allows a replication job to be, step to step and at
//! any time.

use super::*;

/// Step-to-step invariants of a job.
pub(super) fn check_job_history(before: &ReplicationJob, after: &ReplicationJob) {
    let fixed = |j: &ReplicationJob| {
        (
            j.account_id.clone(),
            j.id.clone(),
            j.source_id.clone(),
            j.name.clone(),
            j.description.clone(),
            j.schedule,
            j.created,
        )
    };
    assert_eq!(fixed(after), fixed(before));
    assert!(
        before.started.is_none() || after.started == before.started,
        "the start time is set once"
    );
    assert!(
        before.cut_over.is_none() || after.cut_over == before.cut_over,
        "a cutover is requested once"
    );
    assert!(after.cycles >= before.cycles);
    assert!(after.runs.starts_with(&before.runs), "runs only grow");
    assert!(
        after.runs.len() <= before.runs.len() + 1,
        "at most one run per step"
    );
    assert!(before.status != S::Finished, "Finished is final");
    match (before.status == S::Running, after.status == S::Running) {
        (true, true) => {
            assert_eq!(after.current_run, before.current_run, "same run");
            assert!(
                after.progress >= before.progress,
                "progress never decreases within a run"
            );
        }
        (false, true) => assert_eq!(after.progress, 0.0, "a new run starts from 0"),
        _ => {}
    }
}

/// Everything contract §3 allows a job to be, and nothing else.
pub(super) fn assert_job_invariants(j: &ReplicationJob) {
    let ensure = |ok: bool, what: &str| assert!(ok, "{what}: {j:#?}");
    let status = j.status;
    ensure(
        !matches!(status, S::Expired | S::Deleting),
        "unreachable status",
    );
    for (set, when, what) in [
        (
            j.business_status.is_some(),
            status == S::Running,
            "businessStatus",
        ),
        (
            j.current_run.is_some(),
            status == S::Running,
            "a run in progress",
        ),
        (j.ended.is_some(), status == S::Finished, "endTime"),
        (j.next_run.is_some(), status == S::Waiting, "a next run"),
        (j.error_code.is_some(), status == S::InError, "errorCode"),
        (j.started.is_some(), status != S::Ready, "startTime"),
    ] {
        ensure(set == when, what);
    }
    let incremental = matches!(j.schedule, JobSchedule::Incremental { .. });
    if status == S::Waiting {
        ensure(
            incremental && j.cut_over.is_none(),
            "Waiting between incremental runs",
        );
    }
    if let Some(cut_over) = j.cut_over {
        ensure(
            !matches!(status, S::Waiting | S::Ready),
            "a cutover starts at once",
        );
        assert!(cut_over.requested >= j.created);
    }
    let progress = j.progress;
    ensure(
        progress.is_finite() && (0.0..=100.0).contains(&progress),
        "progress",
    );
    let sync_data = j.cut_over.map(|c| c.sync_data);
    let business_ok = match j.business_status {
        Some(B::Cleaning) => sync_data.is_some(),
        Some(B::Preparing | B::Processing) => sync_data.is_none(),
        Some(B::Syncing) => sync_data != Some(false),
        None => true,
    };
    ensure(
        business_ok,
        "Cleaning is the cutover's, Syncing not without sync",
    );
    // A run's purpose follows the cutover: the final sync runs while it is
    // not recorded (it is recorded on entering Cleaning), the release after.
    if let (Some(run), Some(business)) = (j.current_run, j.business_status) {
        let recorded = final_sync_recorded(j);
        let cleaning = business == B::Cleaning;
        let consistent = match run.purpose {
            RunPurpose::Replication => sync_data.is_none(),
            RunPurpose::FinalSync => sync_data == Some(true) && recorded == cleaning,
            RunPurpose::Release => cleaning && sync_data == Some(recorded),
        };
        ensure(consistent, "the run's purpose");
        assert!(run.start >= j.created);
    }

    // Runs and images.
    let finals = finals(j);
    let cycles = j.runs.iter().filter(|r| r.image_id.starts_with("CYCLE_"));
    let cycle_names: Vec<_> = cycles.map(|r| r.image_id.clone()).collect();
    let names = |range: std::ops::RangeInclusive<usize>| range.map(|n| format!("CYCLE_{n}"));
    let done = j.cycles as usize;
    ensure(names(1..=done).eq(cycle_names), "CYCLE_1 to N");
    match j.schedule {
        JobSchedule::RunOnce => {
            ensure(done == 0 && j.image_ids.len() <= 1, "no cycles");
            ensure(j.runs.len() - finals <= 1, "a run-once job runs once");
        }
        JobSchedule::Incremental { max_images, .. } => {
            // Every cycle's image, then the final sync's, the newest kept.
            let mut images: Vec<String> = names(1..=done).collect();
            images.extend((finals > 0).then(|| FINAL.to_owned()));
            let newest = &images[images.len().saturating_sub(max_images as usize)..];
            ensure(j.image_ids == newest, "the newest images are kept");
            ensure(
                j.runs.len() == done + finals,
                "runs are cycles or the final sync",
            );
        }
    }
    let last_is_final = j.runs.last().is_some_and(|r| r.image_id == FINAL);
    match sync_data {
        Some(true) => ensure(
            status != S::Finished || last_is_final,
            "the final sync is the last run",
        ),
        _ => ensure(finals == 0, "a final sync only after CutOver(sync_data)"),
    }
    for pair in j.runs.windows(2) {
        ensure(pair[0].end <= pair[1].start, "runs in order");
    }
    for run in &j.runs {
        ensure(run.start <= run.end && run.start >= j.created, "run times");
    }
}

/// CreateReplicationJob's result: Ready, as asked, nothing run.
pub(super) fn check_job_creation(t: &Transition<ReplicationJob>, spec: &JobSpec, now: Timestamp) {
    let j = &t.resource;
    assert_eq!(t.event.event_type, EventType::ReplicationJobCreated);
    assert_eq!(t.event.previous, None);
    assert_eq!(t.event.new, StateSummary::of_job(j));
    assert_eq!(t.event.time, now);
    assert_eq!(
        (j.status, j.business_status, j.progress),
        (S::Ready, None, 0.0)
    );
    assert_eq!(
        (&j.name, &j.description, j.schedule),
        (&spec.name, &spec.description, spec.schedule)
    );
    assert_eq!(
        (j.created, j.started, j.ended, j.next_run),
        (now, None, None, None)
    );
    assert!(
        j.runs.is_empty()
            && j.image_ids.is_empty()
            && j.cut_over.is_none()
            && j.current_run.is_none()
    );
    assert_job_invariants(j);
}
