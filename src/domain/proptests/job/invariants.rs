//! What SPEC section 3 allows a replication job to be, step to step and at
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

/// Everything SPEC section 3 allows a job to be, and nothing else.
pub(super) fn assert_job_invariants(j: &ReplicationJob) {
    let show = || format!("{j:#?}");
    let running = j.status == S::Running;
    assert_eq!(j.business_status.is_some(), running, "{}", show());
    assert_eq!(j.current_run.is_some(), running, "{}", show());
    assert!(!matches!(j.status, S::Expired | S::Deleting), "{}", show());
    assert_eq!(j.ended.is_some(), j.status == S::Finished, "{}", show());
    assert_eq!(j.next_run.is_some(), j.status == S::Waiting, "{}", show());
    assert_eq!(j.error_code.is_some(), j.status == S::InError, "{}", show());
    assert_eq!(j.started.is_some(), j.status != S::Ready, "{}", show());
    if j.status == S::Waiting {
        assert!(
            matches!(j.schedule, JobSchedule::Incremental { .. }),
            "{}",
            show()
        );
        assert_eq!(j.cut_over, None, "{}", show());
    }
    if let Some(cut_over) = j.cut_over {
        assert_eq!(j.next_run, None, "{}", show());
        assert!(!matches!(j.status, S::Waiting | S::Ready), "{}", show());
        assert!(cut_over.requested >= j.created);
    }
    assert!(
        j.progress.is_finite() && (0.0..=100.0).contains(&j.progress),
        "{}",
        show()
    );
    match j.business_status {
        Some(B::Cleaning) => assert!(
            j.cut_over.is_some(),
            "Cleaning is the cutover's: {}",
            show()
        ),
        Some(B::Preparing | B::Processing) => assert!(j.cut_over.is_none(), "{}", show()),
        Some(B::Syncing) => assert!(j.cut_over.is_none_or(|c| c.sync_data), "{}", show()),
        None => {}
    }
    // A run's purpose follows the cutover: the final sync runs while it is
    // not recorded (it is recorded on entering Cleaning), the release after.
    if let (Some(run), Some(business)) = (j.current_run, j.business_status) {
        let recorded = final_sync_recorded(j);
        let sync_data = j.cut_over.map(|c| c.sync_data);
        let consistent = match run.purpose {
            RunPurpose::Replication => sync_data.is_none(),
            RunPurpose::FinalSync => {
                sync_data == Some(true) && recorded == (business == B::Cleaning)
            }
            RunPurpose::Release => business == B::Cleaning && sync_data == Some(recorded),
        };
        assert!(consistent, "{:?} run: {}", run.purpose, show());
        assert!(run.start >= j.created);
    }

    // Runs and images.
    let finals = finals(j);
    let cycles: Vec<_> = j
        .runs
        .iter()
        .filter(|r| r.image_id.starts_with("CYCLE_"))
        .collect();
    assert_eq!(cycles.len(), j.cycles as usize, "{}", show());
    for (i, run) in cycles.iter().enumerate() {
        assert_eq!(run.image_id, format!("CYCLE_{}", i + 1));
    }
    match j.schedule {
        JobSchedule::RunOnce => {
            assert!(cycles.is_empty() && j.image_ids.len() <= 1, "{}", show());
            assert!(
                j.runs.len() - finals <= 1,
                "a run-once job runs once: {}",
                show()
            );
        }
        JobSchedule::Incremental { max_images, .. } => {
            assert_eq!(
                j.image_ids.len(),
                (j.cycles as usize).min(max_images as usize),
                "{}",
                show()
            );
            let first = j.cycles as usize - j.image_ids.len() + 1;
            let newest: Vec<_> = (first..=j.cycles as usize)
                .map(|n| format!("CYCLE_{n}"))
                .collect();
            assert_eq!(
                j.image_ids,
                newest,
                "the newest images are kept: {}",
                show()
            );
            assert_eq!(j.runs.len(), cycles.len() + finals, "{}", show());
        }
    }
    match j.cut_over {
        Some(CutOver {
            sync_data: true, ..
        }) if j.status == S::Finished => {
            assert_eq!(
                j.runs.last().map(|r| r.image_id.as_str()),
                Some(FINAL),
                "{}",
                show()
            );
        }
        Some(CutOver {
            sync_data: true, ..
        }) => {}
        _ => assert_eq!(
            finals,
            0,
            "a final sync only after CutOver(sync_data): {}",
            show()
        ),
    }
    for pair in j.runs.windows(2) {
        assert!(pair[0].end <= pair[1].start, "{}", show());
    }
    for run in &j.runs {
        assert!(run.start <= run.end && run.start >= j.created, "{}", show());
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
