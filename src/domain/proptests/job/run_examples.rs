//! Ordinary runs, row by row: one-off and incremental jobs, stop, failure,
//! and the checks of a job's arguments.

use super::*;

const INVALID_STATUS: &str = "ReplicationJob.InvalidStatus";
const INVALID_BUSINESS_STATUS: &str = "ReplicationJob.InvalidBusinessStatus";

#[test]
fn run_once_job_runs_to_finished() {
    let mut smc = Smc::new();
    let j = smc.create(JobSchedule::RunOnce);
    let j = smc.ok(&j, JobOp::Start);
    assert_eq!(
        (j.status, j.business_status, j.progress),
        (S::Running, Some(B::Preparing), 0.0)
    );
    assert_eq!(j.started, Some(smc.now));
    let run_start = smc.now;
    let j = smc.step(&j, RunStep::Syncing);
    assert_eq!(j.business_status, Some(B::Syncing));
    let j = smc.step(&j, RunStep::Progress(12.5));
    assert_eq!(j.progress, 12.5);
    let j = smc.step(&j, RunStep::Progress(12.5));
    let j = smc.step(&j, RunStep::Progress(99.0));
    let j = smc.step(&j, RunStep::Processing);
    assert_eq!(
        (j.business_status, j.progress),
        (Some(B::Processing), 100.0)
    );
    let j = smc.step(&j, RunStep::Succeeded);
    assert_eq!(
        (j.status, j.business_status, j.ended, j.next_run),
        (S::Finished, None, Some(smc.now), None)
    );
    assert_eq!(j.runs.len(), 1);
    assert_eq!(
        (j.runs[0].start, j.runs[0].end, j.runs[0].run_type),
        (run_start, smc.now, RunType::Manual)
    );
    // Finished is final.
    for op in [
        JobOp::Start,
        JobOp::Stop,
        JobOp::CutOver(true),
        JobOp::StartScheduled,
    ] {
        assert_eq!(smc.code(&j, op), INVALID_STATUS);
    }
}

#[test]
fn incremental_job_waits_between_runs_and_keeps_the_newest_images() {
    let mut smc = Smc::new();
    let j = smc.waiting(2);
    assert_eq!(j.image_ids, ["CYCLE_1"]);
    assert_eq!(
        j.next_run,
        Some(smc.now.plus(Millis(2_000))),
        "2 hours at 3600x"
    );
    assert_eq!(j.runs[0].run_type, RunType::Manual);

    let mut j = j;
    for cycle in 2..=4u32 {
        let due = j.next_run.expect("due");
        let err = step_err(&j, &JobOp::StartScheduled, smc.scale, due.plus(Millis(-1)));
        assert_eq!(err.code(), INVALID_STATUS, "not yet due");
        smc.now = due;
        j = step_ok(&j, &JobOp::StartScheduled, smc.scale, due).resource;
        assert_eq!(
            (j.status, j.business_status, j.progress),
            (S::Running, Some(B::Preparing), 0.0)
        );
        assert_eq!(j.current_run.map(|r| r.run_type), Some(RunType::Schedule));
        assert_eq!(j.next_run, None);
        j = smc.complete_run(&j);
        assert_eq!((j.status, j.cycles), (S::Waiting, cycle));
        assert_eq!(
            j.runs.last().map(|r| (r.image_id.clone(), r.run_type)),
            Some((format!("CYCLE_{cycle}"), RunType::Schedule))
        );
    }
    assert_eq!(
        j.image_ids,
        ["CYCLE_3", "CYCLE_4"],
        "oldest images dropped beyond max"
    );
    assert_eq!(j.runs.len(), 4, "the run history keeps every run");

    // A run started late is still started; Waiting needs no StartReplicationJob.
    assert_eq!(smc.code(&j, JobOp::Start), INVALID_STATUS);
    let late = j.next_run.expect("due").plus(Millis(1_000_000));
    assert_eq!(
        step_ok(&j, &JobOp::StartScheduled, smc.scale, late)
            .resource
            .status,
        S::Running
    );
}

#[test]
fn stop_only_while_syncing() {
    let mut smc = Smc::new();
    let j = smc.create(JobSchedule::RunOnce);
    assert_eq!(
        smc.err(&j, JobOp::Stop).to_string(),
        invalid_status_message("Ready", &["Running"])
    );
    let preparing = smc.ok(&j, JobOp::Start);
    let err = smc.err(&preparing, JobOp::Stop);
    assert_eq!(err.code(), INVALID_BUSINESS_STATUS);
    assert_eq!(
        err.to_string(),
        "The specified business status: Preparing of the replication job is invalid. This operation can only be performed in the following status: Syncing."
    );
    let syncing = smc.step(&preparing, RunStep::Syncing);
    let syncing = smc.step(&syncing, RunStep::Progress(30.0));
    let processing = smc.step(&syncing, RunStep::Processing);
    assert_eq!(smc.code(&processing, JobOp::Stop), INVALID_BUSINESS_STATUS);
    let stopped = smc.ok(&syncing, JobOp::Stop);
    assert_eq!(
        (stopped.status, stopped.business_status, stopped.progress),
        (S::Stopped, None, 30.0)
    );
    assert_eq!(smc.code(&stopped, JobOp::Stop), INVALID_STATUS);
    // Restarting starts a new run from 0.
    let restarted = smc.ok(&stopped, JobOp::Start);
    assert_eq!(
        (restarted.business_status, restarted.progress),
        (Some(B::Preparing), 0.0)
    );
    assert_eq!(
        restarted.started, preparing.started,
        "startTime is the first start"
    );
    assert_eq!(
        smc.err(&restarted, JobOp::Start).to_string(),
        invalid_status_message("Running", &["Ready", "Stopped", "InError"])
    );
}

#[test]
fn a_failed_run_goes_in_error_until_restarted() {
    let mut smc = Smc::new();
    let j = smc.create(JobSchedule::Incremental {
        frequency_hours: 1,
        max_images: 2,
    });
    let fail = |code: &str| JobOp::Step(RunStep::Failed(code.into()));
    assert_eq!(smc.code(&j, fail("X")), INVALID_STATUS);
    let j = smc.ok(&j, JobOp::Start);
    let j = smc.step(&j, RunStep::Syncing);
    let j = smc.ok(&j, fail("SourceUnreachable"));
    assert_eq!((j.status, j.business_status), (S::InError, None));
    assert_eq!(j.error_code.as_deref(), Some("SourceUnreachable"));
    assert!(j.runs.is_empty() && j.next_run.is_none());
    let j = smc.ok(&j, JobOp::Start);
    assert_eq!(
        (j.status, j.business_status, j.error_code.as_deref()),
        (S::Running, Some(B::Preparing), None)
    );
    let j = smc.complete_run(&j);
    assert_eq!(
        (j.status, j.image_ids.as_slice()),
        (S::Waiting, ["CYCLE_1".to_owned()].as_slice())
    );
}

#[test]
fn progress_is_validated() {
    let mut smc = Smc::new();
    let j = smc.create(JobSchedule::RunOnce);
    let j = smc.ok(&j, JobOp::Start);
    let progress = |p: f64| JobOp::Step(RunStep::Progress(p));
    assert_eq!(
        smc.code(&j, progress(10.0)),
        INVALID_BUSINESS_STATUS,
        "no progress while Preparing"
    );
    let j = smc.step(&j, RunStep::Syncing);
    let j = smc.ok(&j, progress(60.0));
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        59.999,
        100.5,
        1e300,
    ] {
        assert_eq!(
            invalid_field(smc.err(&j, progress(bad))),
            "progress",
            "{bad}"
        );
    }
    let j = smc.ok(&j, progress(60.0));
    let j = smc.ok(&j, progress(100.0));
    assert_eq!(j.progress, 100.0);
}

#[test]
fn job_specs_are_validated() {
    let create = |name: String, description: String, schedule: JobSchedule| {
        let spec = JobSpec {
            name,
            description,
            schedule,
        };
        new_job(&mut StdRng::seed_from_u64(5), &spec, Timestamp(T0))
    };
    let refused = |name, description, schedule| {
        invalid_field(create(name, description, schedule).expect_err("refused"))
    };
    let incremental = |frequency_hours, max_images| JobSchedule::Incremental {
        frequency_hours,
        max_images,
    };
    for (frequency, images) in [(1, 1), (168, 10), (24, 5)] {
        assert!(create(String::new(), String::new(), incremental(frequency, images)).is_ok());
    }
    for frequency in [0, 169, u32::MAX] {
        let schedule = incremental(frequency, 5);
        assert_eq!(refused("j".into(), String::new(), schedule), "frequency");
    }
    for images in [0, 11, u32::MAX] {
        assert_eq!(
            refused("j".into(), String::new(), incremental(24, images)),
            "max_number_of_image_to_keep"
        );
    }
    let once = JobSchedule::RunOnce;
    assert!(create("j".into(), String::new(), once).is_ok());
    assert!(create("ж".repeat(128), "ж".repeat(256), once).is_ok());
    assert_eq!(refused("j".repeat(129), String::new(), once), "name");
    assert_eq!(refused("j".into(), "d".repeat(257), once), "description");
}
