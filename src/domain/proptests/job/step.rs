//! One replication job command, with every check: the oracle's verdict,
//! the error it names or the event and job the reference model expects, and
//! the invariants.

use super::invariants::{assert_job_invariants, check_job_history};
use super::model::{expected_job_after, predict_job, JobOp};
use super::{smc_message, INVALID_BUSINESS_STATUS_MESSAGE, INVALID_STATUS_MESSAGE};
use crate::domain::proptests::{check_error_code, Expect};
use crate::domain::replication_job::RunStep;
use crate::domain::{
    DomainError, EventType, ReplicationJob, StateSummary, TimeScale, Timestamp, Transition,
};

/// SMC's errors name the job, its (business) status and the allowed ones,
/// in SMC's own words.
fn check_job_error(j: &ReplicationJob, err: &DomainError, expect: Expect, op: &JobOp) {
    if expect == Expect::Ok {
        panic!("{op:?} failed with {err:?} on {j:#?}");
    }
    check_error_code(err, expect);
    match err {
        DomainError::JobInvalidStatus {
            job_id,
            current,
            allowed,
        } => {
            assert_eq!((job_id.as_str(), *current), (j.id.as_str(), j.status));
            assert!(!allowed.is_empty(), "SMC's template needs a status: {err}");
            let allowed: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            assert_eq!(
                err.to_string(),
                smc_message(INVALID_STATUS_MESSAGE, j.status.as_str(), &allowed)
            );
        }
        DomainError::JobInvalidBusinessStatus {
            job_id,
            current,
            allowed,
        } => {
            assert_eq!(
                (job_id.as_str(), *current),
                (j.id.as_str(), j.business_status)
            );
            if let Expect::JobBusiness(expected) = expect {
                assert_eq!(*allowed, [expected], "{op:?}: {err}");
            }
            let allowed: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            let current = j.business_status.map_or("None", |b| b.as_str());
            assert_eq!(
                err.to_string(),
                smc_message(INVALID_BUSINESS_STATUS_MESSAGE, current, &allowed)
            );
        }
        _ => {}
    }
}

fn check_job_event(
    before: &ReplicationJob,
    op: &JobOp,
    t: &Transition<ReplicationJob>,
    now: Timestamp,
) {
    let after = &t.resource;
    assert_eq!(t.event.time, now);
    assert_eq!(t.event.previous, Some(StateSummary::of_job(before)));
    assert_eq!(t.event.new, StateSummary::of_job(after));
    let expected = match op {
        JobOp::Step(RunStep::Progress(_)) => EventType::ReplicationJobProgress,
        _ => EventType::ReplicationJobStatusChanged,
    };
    assert_eq!(t.event.event_type, expected, "{op:?}");
    let changed = before.status != after.status || before.business_status != after.business_status;
    assert_eq!(
        changed,
        expected == EventType::ReplicationJobStatusChanged,
        "{op:?}"
    );
}

/// Applies `op` with every check; the result is returned for the caller.
pub(super) fn step_job(
    before: &ReplicationJob,
    op: &JobOp,
    scale: TimeScale,
    now: Timestamp,
) -> Result<Transition<ReplicationJob>, DomainError> {
    let expect = predict_job(before, op, now);
    let result = op.apply(before, scale, now);
    match &result {
        Err(err) => check_job_error(before, err, expect, op),
        Ok(t) => {
            assert_eq!(expect, Expect::Ok, "{op:?} succeeded on {before:#?}");
            check_job_event(before, op, t, now);
            let after = &t.resource;
            assert_eq!(
                *after,
                expected_job_after(before, op, scale, now, after),
                "{op:?} on {before:#?}"
            );
            check_job_history(before, after);
            assert_job_invariants(after);
        }
    }
    result
}

pub(super) fn job_ok(
    before: &ReplicationJob,
    op: JobOp,
    scale: TimeScale,
    now: Timestamp,
) -> ReplicationJob {
    match step_job(before, &op, scale, now) {
        Ok(t) => t.resource,
        Err(err) => panic!("{op:?} should succeed, got {err}"),
    }
}

pub(super) fn job_err(
    before: &ReplicationJob,
    op: JobOp,
    scale: TimeScale,
    now: Timestamp,
) -> DomainError {
    match step_job(before, &op, scale, now) {
        Ok(t) => panic!("{op:?} should fail, got {:#?}", t.resource),
        Err(err) => err,
    }
}
