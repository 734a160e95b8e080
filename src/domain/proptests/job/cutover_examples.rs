//! CutOverReplicationJob, row by row: with and without a final sync, from
//! the wrong statuses, interrupted and resumed.

use super::*;

const INVALID_STATUS: &str = "ReplicationJob.InvalidStatus";
const INVALID_BUSINESS_STATUS: &str = "ReplicationJob.InvalidBusinessStatus";

#[test]
fn cut_over_with_sync_runs_a_final_sync_then_cleans_then_finishes() {
    let mut smc = Smc::new();
    let j = smc.waiting(3);
    let runs_before = j.runs.len();
    let j = smc.ok(&j, JobOp::CutOver(true));
    let requested = smc.now;
    assert_eq!(
        (j.status, j.business_status, j.progress),
        (S::Running, Some(B::Syncing), 0.0)
    );
    assert_eq!(
        j.cut_over,
        Some(CutOver {
            requested,
            sync_data: true
        })
    );
    assert_eq!(j.next_run, None, "the schedule is cancelled at once");
    let j = smc.step(&j, RunStep::Progress(40.0));
    let j = smc.step(&j, RunStep::Progress(100.0));
    // A final sync builds no incremental image: the step does not apply.
    assert_eq!(
        invalid_field(smc.err(&j, JobOp::Step(RunStep::Processing))),
        "step"
    );
    let j = smc.step(&j, RunStep::Cleaning);
    assert_eq!(
        (j.status, j.business_status, j.progress),
        (S::Running, Some(B::Cleaning), 100.0)
    );
    assert_eq!(j.runs.len(), runs_before + 1);
    let last = j.runs.last().expect("the final run");
    assert_eq!(
        (last.image_id.as_str(), last.start, last.end),
        (FINAL, requested, smc.now)
    );
    assert_eq!(
        smc.code(&j, JobOp::Stop),
        INVALID_BUSINESS_STATUS,
        "only Syncing stops"
    );
    let j = smc.step(&j, RunStep::Released);
    assert_eq!(
        (j.status, j.business_status, j.ended),
        (S::Finished, None, Some(smc.now))
    );
    // The image to launch from is the one with the final sync in it.
    assert_eq!(j.image_ids, ["CYCLE_1", FINAL]);
    assert_eq!(finals(&j), 1);
}

#[test]
fn cut_over_without_sync_cleans_then_finishes() {
    let mut smc = Smc::new();
    let j = smc.waiting(3);
    let runs = j.runs.clone();
    let j = smc.ok(&j, JobOp::CutOver(false));
    assert_eq!(
        (j.status, j.business_status),
        (S::Running, Some(B::Cleaning))
    );
    assert_eq!(j.cut_over.map(|c| c.sync_data), Some(false));
    for step in [
        RunStep::Syncing,
        RunStep::Progress(10.0),
        RunStep::Processing,
        RunStep::Cleaning,
        RunStep::Succeeded,
    ] {
        assert_eq!(smc.code(&j, JobOp::Step(step)), INVALID_BUSINESS_STATUS);
    }
    let j = smc.step(&j, RunStep::Released);
    assert_eq!((j.status, j.ended), (S::Finished, Some(smc.now)));
    assert_eq!(j.runs, runs, "no migration, no run");
}

#[test]
fn a_second_cut_over_is_invalid_status_with_the_smc_message() {
    let mut smc = Smc::new();
    let j = smc.waiting(1);
    let j = smc.ok(&j, JobOp::CutOver(true));
    for sync_data in [true, false] {
        let err = smc.err(&j, JobOp::CutOver(sync_data));
        assert_eq!(err.code(), INVALID_STATUS);
        assert_eq!(
            err.to_string(),
            "The specified replication job status: Running is invalid. This operation can only be performed in the following status: Waiting."
        );
    }
    let j = smc.step(&j, RunStep::Cleaning);
    let j = smc.step(&j, RunStep::Released);
    assert_eq!(
        smc.err(&j, JobOp::CutOver(false)).to_string(),
        invalid_status_message("Finished", &["Waiting"])
    );
}

#[test]
fn cut_over_only_from_waiting() {
    let mut smc = Smc::new();
    let ready = smc.create(JobSchedule::Incremental {
        frequency_hours: 1,
        max_images: 1,
    });
    assert_eq!(
        smc.err(&ready, JobOp::CutOver(true)).to_string(),
        invalid_status_message("Ready", &["Waiting"])
    );
    let running = smc.ok(&ready, JobOp::Start);
    let syncing = smc.step(&running, RunStep::Syncing);
    let stopped = smc.ok(&syncing, JobOp::Stop);
    assert_eq!(
        smc.err(&stopped, JobOp::CutOver(true)).to_string(),
        invalid_status_message("Stopped", &["Waiting"])
    );
    let failed = smc.step(&running, RunStep::Failed("SourceUnreachable".into()));
    assert_eq!(
        smc.err(&failed, JobOp::CutOver(false)).to_string(),
        invalid_status_message("InError", &["Waiting"])
    );
    let run_once = smc.create(JobSchedule::RunOnce);
    assert_eq!(smc.code(&run_once, JobOp::CutOver(false)), INVALID_STATUS);
}

#[test]
fn cut_over_cancels_a_due_schedule() {
    let mut smc = Smc::new();
    let j = smc.waiting(2);
    let due = j.next_run.expect("due");
    smc.now = due.plus(Millis(1_000));
    let j = smc.ok(&j, JobOp::CutOver(false));
    assert_eq!(j.next_run, None);
    assert_eq!(smc.code(&j, JobOp::StartScheduled), INVALID_STATUS);
    let j = smc.step(&j, RunStep::Released);
    smc.now = smc.now.plus(Millis(10_000_000));
    assert_eq!(smc.code(&j, JobOp::StartScheduled), INVALID_STATUS);
    assert_eq!(j.cycles, 1, "no incremental run after the cutover");
}

#[test]
fn an_interrupted_cutover_resumes_its_step() {
    // Without sync: a failure while Cleaning resumes Cleaning.
    let mut smc = Smc::new();
    let j = smc.waiting(2);
    let j = smc.ok(&j, JobOp::CutOver(false));
    let j = smc.step(&j, RunStep::Failed("ReleaseFailed".into()));
    assert_eq!(j.status, S::InError);
    let j = smc.ok(&j, JobOp::Start);
    assert_eq!(
        (j.business_status, j.current_run.map(|r| r.purpose)),
        (Some(B::Cleaning), Some(RunPurpose::Release))
    );
    let j = smc.step(&j, RunStep::Released);
    assert_eq!(j.status, S::Finished);

    // With sync: a stop during the final sync resumes the final sync.
    let j = smc.waiting(2);
    let j = smc.ok(&j, JobOp::CutOver(true));
    let j = smc.step(&j, RunStep::Progress(70.0));
    let j = smc.ok(&j, JobOp::Stop);
    let j = smc.ok(&j, JobOp::Start);
    assert_eq!(
        (
            j.business_status,
            j.progress,
            j.current_run.map(|r| r.purpose)
        ),
        (Some(B::Syncing), 0.0, Some(RunPurpose::FinalSync))
    );
    let j = smc.step(&j, RunStep::Cleaning);
    let j = smc.step(&j, RunStep::Released);
    assert_eq!(finals(&j), 1);
}

#[test]
fn a_failure_while_cleaning_does_not_repeat_the_final_sync() {
    let mut smc = Smc::new();
    let j = smc.waiting(2);
    let j = smc.ok(&j, JobOp::CutOver(true));
    let j = smc.step(&j, RunStep::Cleaning);
    let j = smc.step(&j, RunStep::Failed("ReleaseFailed".into()));
    let j = smc.ok(&j, JobOp::Start);
    // contract §3: the final sync is done; the restart resumes the release.
    assert_eq!(
        (j.business_status, j.current_run.map(|r| r.purpose)),
        (Some(B::Cleaning), Some(RunPurpose::Release)),
        "the final sync already ran"
    );
    assert_eq!(
        smc.code(&j, JobOp::Step(RunStep::Cleaning)),
        INVALID_BUSINESS_STATUS,
        "no second final sync to end"
    );
    let j = smc.step(&j, RunStep::Released);
    assert_eq!((j.status, finals(&j)), (S::Finished, 1));
    assert_eq!(j.runs.last().map(|r| r.image_id.as_str()), Some(FINAL));
    assert_eq!(
        j.image_ids.last().map(String::as_str),
        Some(FINAL),
        "the image to launch from has the final sync in it"
    );
}

#[test]
fn a_step_of_another_run_purpose_is_a_validation_error() {
    let mut smc = Smc::new();
    // The final sync has no image-building step; an ordinary run has no
    // final sync.
    let j = smc.waiting(2);
    let final_sync = smc.ok(&j, JobOp::CutOver(true));
    let err = smc.err(&final_sync, JobOp::Step(RunStep::Processing));
    assert_eq!(invalid_field(err), "step");
    let j = smc.create(JobSchedule::RunOnce);
    let preparing = smc.ok(&j, JobOp::Start);
    let syncing = smc.step(&preparing, RunStep::Syncing);
    let err = smc.err(&syncing, JobOp::Step(RunStep::Cleaning));
    assert_eq!(invalid_field(err), "step");

    // In the wrong business status the step stays InvalidBusinessStatus,
    // naming the status it needs in SMC's template.
    let j = smc.waiting(2);
    let release = smc.ok(&j, JobOp::CutOver(false));
    for (j, step) in [
        (&preparing, RunStep::Processing),
        (&preparing, RunStep::Cleaning),
        (&release, RunStep::Processing),
    ] {
        let err = smc.err(j, JobOp::Step(step));
        assert_eq!(err.code(), INVALID_BUSINESS_STATUS);
        assert!(
            err.to_string().ends_with("following status: Syncing."),
            "SMC's template needs a status: {err}"
        );
    }
}
