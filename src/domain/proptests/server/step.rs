//! One source server command, with every check: the oracle's verdict, the
//! error it names or the event and resource the reference model expects,
//! and the invariants.

use super::invariants::{assert_server_invariants, check_server_history};
use super::model::{expected_server_after, predict_server, ServerOp};
use crate::domain::proptests::{check_error_code, Expect};
use crate::domain::{
    DomainError, EventType, ResourceKind, SourceServer, StateSummary, TimeScale, Timestamp,
    Transition,
};

fn check_server_error(s: &SourceServer, err: &DomainError, expect: Expect, op: &ServerOp) {
    if expect == Expect::Ok {
        panic!("{op:?} failed with {err:?} on {s:#?}");
    }
    check_error_code(err, expect);
    if let DomainError::Conflict {
        kind,
        id,
        current_state,
        ..
    } = err
    {
        assert_eq!(*kind, ResourceKind::SourceServer);
        assert_eq!(id, s.id.as_str());
        assert_eq!(
            current_state,
            s.life_cycle.state.as_str(),
            "a conflict names the current state"
        );
        assert!(
            err.to_string().contains(s.life_cycle.state.as_str()),
            "{err}"
        );
    }
}

fn check_server_event(
    before: &SourceServer,
    op: &ServerOp,
    t: &Transition<SourceServer>,
    now: Timestamp,
) {
    let after = &t.resource;
    assert_eq!(t.event.time, now);
    assert_eq!(t.event.previous, Some(StateSummary::of_server(before)));
    assert_eq!(t.event.new, StateSummary::of_server(after));
    let lifecycle_changed = before.life_cycle.state != after.life_cycle.state;
    let expected = match op {
        ServerOp::Report(_) if lifecycle_changed => EventType::LifeCycleStateChanged,
        ServerOp::Report(_)
            if before.data_replication_info.state != after.data_replication_info.state =>
        {
            EventType::DataReplicationStateChanged
        }
        ServerOp::Report(_) => EventType::ReplicationProgress,
        ServerOp::StartTest(_)
        | ServerOp::Change(_)
        | ServerOp::StartCutover(_)
        | ServerOp::Finalize(_)
        | ServerOp::Disconnect => EventType::LifeCycleStateChanged,
        ServerOp::Archive => EventType::SourceServerArchived,
        ServerOp::Complete(_) => EventType::FollowUpTaskCompleted,
        ServerOp::Overdue(_) => EventType::FollowUpTaskOverdue,
    };
    assert_eq!(t.event.event_type, expected, "{op:?}");
    assert_eq!(
        lifecycle_changed,
        t.event.event_type == EventType::LifeCycleStateChanged
    );
}

/// Applies `op` with every check; the result is returned for the caller.
pub(super) fn step_server(
    before: &SourceServer,
    op: &ServerOp,
    scale: TimeScale,
    now: Timestamp,
) -> Result<Transition<SourceServer>, DomainError> {
    let expect = predict_server(before, op, now);
    let result = op.apply(before, scale, now);
    match &result {
        Err(err) => check_server_error(before, err, expect, op),
        Ok(t) => {
            assert_eq!(expect, Expect::Ok, "{op:?} succeeded on {before:#?}");
            check_server_event(before, op, t, now);
            let after = &t.resource;
            assert_eq!(
                *after,
                expected_server_after(before, op, scale, now, after),
                "{op:?} on {before:#?}"
            );
            check_server_history(before, after);
            assert_server_invariants(after, scale);
        }
    }
    result
}

/// The (wrong-state or invalid) error `op` fails with.
pub(super) fn server_err(
    before: &SourceServer,
    op: &ServerOp,
    scale: TimeScale,
    now: Timestamp,
) -> DomainError {
    match step_server(before, op, scale, now) {
        Ok(t) => panic!("{op:?} should fail, got {:#?}", t.resource),
        Err(err) => err,
    }
}

pub(super) fn server_ok(
    before: &SourceServer,
    op: &ServerOp,
    scale: TimeScale,
    now: Timestamp,
) -> Transition<SourceServer> {
    step_server(before, op, scale, now)
        .unwrap_or_else(|err| panic!("{op:?} should succeed, got {err}"))
}
