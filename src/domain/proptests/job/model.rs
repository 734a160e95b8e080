//! Replication job commands: the oracle of contract §3, the reference
//! model of each command's effect, and the checks of its error or event.

use super::*;

/// A replication job command with its arguments resolved.
#[derive(Debug, Clone)]
pub(super) enum JobOp {
    Start,
    Stop,
    StartScheduled,
    CutOver(bool),
    Step(RunStep),
}

impl JobOp {
    pub(super) fn name(&self) -> &'static str {
        match self {
            JobOp::Start => "start",
            JobOp::Stop => "stop",
            JobOp::StartScheduled => "start_scheduled",
            JobOp::CutOver(_) => "cut_over",
            JobOp::Step(RunStep::Syncing) => "syncing",
            JobOp::Step(RunStep::Progress(_)) => "progress",
            JobOp::Step(RunStep::Processing) => "processing",
            JobOp::Step(RunStep::Succeeded) => "succeeded",
            JobOp::Step(RunStep::Failed(_)) => "failed",
            JobOp::Step(RunStep::Cleaning) => "cleaning",
            JobOp::Step(RunStep::Released) => "released",
        }
    }
}

impl Command for JobOp {
    type Resource = ReplicationJob;

    fn apply(
        &self,
        j: &ReplicationJob,
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Transition<ReplicationJob>, DomainError> {
        match self {
            JobOp::Start => j.start(now),
            JobOp::Stop => j.stop(now),
            JobOp::StartScheduled => j.start_scheduled_run(now),
            JobOp::CutOver(sync_data) => j.cut_over(*sync_data, now),
            JobOp::Step(step) => j.advance(step.clone(), scale, now),
        }
    }

    fn predict(&self, j: &ReplicationJob, now: Timestamp) -> Expect {
        predict_job(j, self, now)
    }

    /// SMC's errors name the job, its (business) status and the allowed
    /// ones, in SMC's own words.
    fn check_error(&self, j: &ReplicationJob, err: &DomainError, expect: Expect) {
        let (template, current, allowed) = match err {
            DomainError::JobInvalidStatus {
                job_id,
                current,
                allowed,
            } => {
                assert_eq!((job_id.as_str(), *current), (j.id.as_str(), j.status));
                let allowed: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
                (INVALID_STATUS_MESSAGE, j.status.as_str(), allowed)
            }
            DomainError::JobInvalidBusinessStatus {
                job_id,
                current,
                allowed,
            } => {
                let business = j.business_status;
                assert_eq!((job_id.as_str(), *current), (j.id.as_str(), business));
                if let Expect::JobBusiness(expected) = expect {
                    assert_eq!(*allowed, [expected], "{self:?}: {err}");
                }
                let allowed: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
                let current = business.map_or("None", |b| b.as_str());
                (INVALID_BUSINESS_STATUS_MESSAGE, current, allowed)
            }
            _ => return,
        };
        assert!(!allowed.is_empty(), "SMC's template needs a status: {err}");
        assert_eq!(err.to_string(), smc_message(template, current, &allowed));
    }

    fn check_event(&self, before: &ReplicationJob, t: &Transition<ReplicationJob>, now: Timestamp) {
        let after = &t.resource;
        assert_eq!(t.event.time, now);
        assert_eq!(t.event.previous, Some(StateSummary::of_job(before)));
        assert_eq!(t.event.new, StateSummary::of_job(after));
        let expected = match self {
            JobOp::Step(RunStep::Progress(_)) => EventType::ReplicationJobProgress,
            _ => EventType::ReplicationJobStatusChanged,
        };
        assert_eq!(t.event.event_type, expected, "{self:?}");
        let changed =
            before.status != after.status || before.business_status != after.business_status;
        let status_event = expected == EventType::ReplicationJobStatusChanged;
        assert_eq!(changed, status_event, "{self:?}");
    }

    fn expected(
        &self,
        before: &ReplicationJob,
        scale: TimeScale,
        now: Timestamp,
        actual: &ReplicationJob,
    ) -> ReplicationJob {
        expected_job_after(before, self, scale, now, actual)
    }

    fn check_after(before: &ReplicationJob, after: &ReplicationJob, _: TimeScale) {
        check_job_history(before, after);
        assert_job_invariants(after);
    }
}

/// Which field an invalid spec names, if any (SMC's limits, in order).
pub(super) fn predict_spec(spec: &JobSpec) -> Option<&'static str> {
    if spec.name.chars().count() > 128 {
        return Some("name");
    }
    if spec.description.chars().count() > 256 {
        return Some("description");
    }
    match spec.schedule {
        JobSchedule::Incremental {
            frequency_hours, ..
        } if !(1..=168).contains(&frequency_hours) => Some("frequency"),
        JobSchedule::Incremental { max_images, .. } if !(1..=10).contains(&max_images) => {
            Some("max_number_of_image_to_keep")
        }
        _ => None,
    }
}

/// Whether the cutover's final sync was recorded: a `FINAL` run started
/// since the cutover was requested.
pub(super) fn final_sync_recorded(j: &ReplicationJob) -> bool {
    j.cut_over.is_some_and(|c| {
        j.runs
            .iter()
            .any(|r| r.image_id == FINAL && r.start >= c.requested)
    })
}

/// What a run the job starts now is for: an ordinary run before any
/// cutover; then the cutover's final sync (if it syncs data) until that is
/// recorded, since none runs twice (contract §3); then the release.
fn next_purpose(j: &ReplicationJob) -> RunPurpose {
    match j.cut_over {
        None => RunPurpose::Replication,
        Some(c) if c.sync_data && !final_sync_recorded(j) => RunPurpose::FinalSync,
        Some(_) => RunPurpose::Release,
    }
}

fn entry_business(purpose: RunPurpose) -> BusinessStatus {
    match purpose {
        RunPurpose::Replication => B::Preparing,
        RunPurpose::FinalSync => B::Syncing,
        RunPurpose::Release => B::Cleaning,
    }
}

/// The oracle of contract §3's table. A business status check comes
/// first; a step that passes it but belongs to another kind of run (an
/// image build during the final sync, the final sync's end during an
/// ordinary run) is a request error on `step`.
fn predict_job(j: &ReplicationJob, op: &JobOp, now: Timestamp) -> Expect {
    let in_business = |allowed: BusinessStatus| {
        if j.status != S::Running {
            Expect::JobStatus
        } else if j.business_status == Some(allowed) {
            Expect::Ok
        } else {
            Expect::JobBusiness(allowed)
        }
    };
    // The two steps out of Syncing each end only one kind of run.
    let for_run = |applies: bool| match in_business(B::Syncing) {
        Expect::Ok if !applies => Expect::Invalid("step"),
        other => other,
    };
    match op {
        JobOp::Start if matches!(j.status, S::Ready | S::Stopped | S::InError) => Expect::Ok,
        JobOp::Start => Expect::JobStatus,
        JobOp::Stop => in_business(B::Syncing),
        JobOp::StartScheduled
            if j.status == S::Waiting && j.next_run.is_some_and(|due| now >= due) =>
        {
            Expect::Ok
        }
        JobOp::StartScheduled => Expect::JobStatus,
        JobOp::CutOver(_) if j.status == S::Waiting => Expect::Ok,
        JobOp::CutOver(_) => Expect::JobStatus,
        JobOp::Step(RunStep::Syncing) => in_business(B::Preparing),
        JobOp::Step(RunStep::Progress(p)) => match in_business(B::Syncing) {
            Expect::Ok if !(p.is_finite() && *p >= j.progress && *p <= 100.0) => {
                Expect::Invalid("progress")
            }
            other => other,
        },
        JobOp::Step(RunStep::Processing) => for_run(j.cut_over.is_none()),
        JobOp::Step(RunStep::Succeeded) => in_business(B::Processing),
        JobOp::Step(RunStep::Failed(_)) if j.status == S::Running => Expect::Ok,
        JobOp::Step(RunStep::Failed(_)) => Expect::JobStatus,
        JobOp::Step(RunStep::Cleaning) => for_run(j.cut_over.is_some_and(|c| c.sync_data)),
        JobOp::Step(RunStep::Released) => in_business(B::Cleaning),
    }
}

/// The reference model: the job `op` must produce from `before`. The free
/// text of `statusInfo` and the image name of a run-once job are the contract's
/// silence: they are taken from `actual` and checked loosely.
fn expected_job_after(
    before: &ReplicationJob,
    op: &JobOp,
    scale: TimeScale,
    now: Timestamp,
    actual: &ReplicationJob,
) -> ReplicationJob {
    let mut next = before.clone();
    next.status_info = actual.status_info.clone();
    let begin_run = |job: &mut ReplicationJob, run_type: RunType| {
        let purpose = next_purpose(job);
        job.status = S::Running;
        job.business_status = Some(entry_business(purpose));
        job.current_run = Some(CurrentRun {
            start: now,
            run_type,
            purpose,
        });
        job.progress = 0.0;
        job.error_code = None;
    };
    let idle = |job: &mut ReplicationJob, status: ReplicationJobStatus| {
        job.status = status;
        job.business_status = None;
        job.current_run = None;
        if status == S::Finished {
            job.ended = Some(now);
        }
    };
    let run = before.current_run;
    let record = |job: &mut ReplicationJob, image_id: String| {
        let run = run.expect("a Running job has a run");
        job.runs.push(JobRun {
            start: run.start,
            end: now,
            image_id,
            run_type: run.run_type,
        });
    };
    match op {
        JobOp::Start => {
            next.started = before.started.or(Some(now));
            begin_run(&mut next, RunType::Manual);
        }
        JobOp::Stop => idle(&mut next, S::Stopped),
        JobOp::StartScheduled => {
            next.next_run = None;
            begin_run(&mut next, RunType::Schedule);
        }
        JobOp::CutOver(sync_data) => {
            next.next_run = None;
            next.cut_over = Some(CutOver {
                requested: now,
                sync_data: *sync_data,
            });
            begin_run(&mut next, RunType::Manual);
        }
        JobOp::Step(RunStep::Syncing) => next.business_status = Some(B::Syncing),
        JobOp::Step(RunStep::Progress(p)) => next.progress = *p,
        JobOp::Step(RunStep::Processing) => {
            next.business_status = Some(B::Processing);
            next.progress = 100.0;
        }
        JobOp::Step(RunStep::Succeeded) => match before.schedule {
            JobSchedule::RunOnce => {
                let image_id = actual
                    .runs
                    .last()
                    .map(|r| r.image_id.clone())
                    .unwrap_or_default();
                assert!(
                    !image_id.is_empty() && image_id != FINAL && !image_id.starts_with("CYCLE_")
                );
                record(&mut next, image_id);
                idle(&mut next, S::Finished);
            }
            JobSchedule::Incremental {
                frequency_hours,
                max_images,
            } => {
                next.cycles += 1;
                let image_id = format!("CYCLE_{}", next.cycles);
                record(&mut next, image_id.clone());
                next.image_ids.push(image_id);
                while next.image_ids.len() > max_images as usize {
                    next.image_ids.remove(0);
                }
                idle(&mut next, S::Waiting);
                next.next_run =
                    Some(now.plus(scale.compress(Millis::hours(i64::from(frequency_hours)))));
            }
        },
        JobOp::Step(RunStep::Failed(code)) => {
            idle(&mut next, S::InError);
            next.error_code = Some(code.clone());
            assert!(actual.status_info.contains(code.as_str()), "{actual:?}");
        }
        JobOp::Step(RunStep::Cleaning) => {
            record(&mut next, FINAL.into());
            next.image_ids.push(FINAL.into());
            if let JobSchedule::Incremental { max_images, .. } = before.schedule {
                while next.image_ids.len() > max_images as usize {
                    next.image_ids.remove(0);
                }
            }
            next.progress = 100.0;
            next.business_status = Some(B::Cleaning);
        }
        JobOp::Step(RunStep::Released) => {
            idle(&mut next, S::Finished);
            // Finished is 100%, with or without a last sync.
            next.progress = 100.0;
        }
    }
    next
}
