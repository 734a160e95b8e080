//! FinalizeCutover's follow-up tasks: completion, deadlines, overdue.

use super::*;

/// The event summary of a CUTOVER server.
fn cutover_summary(is_archived: bool, pending_follow_up_tasks: u32) -> StateSummary {
    StateSummary::SourceServer {
        life_cycle_state: L::Cutover,
        data_replication_state: R::Disconnected,
        is_archived,
        pending_follow_up_tasks,
    }
}

#[test]
fn follow_up_tasks_complete_once_and_go_overdue_after_their_deadline() {
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::Cutover);
    let uninstall = s.follow_up_tasks[0].id.clone();
    let teardown = s.follow_up_tasks[1].id.clone();
    let deadline = s.follow_up_tasks[0].deadline;
    assert_eq!(s.follow_up_tasks[0].kind, FollowUpTaskKind::AgentUninstall);
    let scale = mgn.scale;
    let overdue = ServerOp::Overdue(uninstall.clone());
    let complete = ServerOp::Complete(uninstall.clone());

    // Not overdue before the deadline (10 min / 60 = 10 s).
    for early in [mgn.tick(1), deadline.plus(Millis(-1))] {
        assert_eq!(
            conflict_state(step_err(&s, &overdue, scale, early)),
            "CUTOVER"
        );
    }
    // Overdue exactly at the deadline, and only once.
    let t = step_ok(&s, &overdue, scale, deadline);
    assert_eq!(t.event.event_type, EventType::FollowUpTaskOverdue);
    let s = t.resource;
    assert!(s.follow_up_tasks[0].overdue && s.follow_up_tasks[0].is_pending());
    let now = deadline.plus(Millis(5));
    assert_eq!(
        conflict_state(step_err(&s, &overdue, scale, now)),
        "CUTOVER"
    );

    // An overdue task can still be completed; then never again.
    let now = now.plus(Millis(5));
    let t = step_ok(&s, &complete, scale, now);
    assert_eq!(t.event.event_type, EventType::FollowUpTaskCompleted);
    assert_eq!(t.event.new, cutover_summary(false, 1));
    let s = t.resource;
    assert_eq!(s.follow_up_tasks[0].completed, Some(now));
    assert!(s.follow_up_tasks[0].attempts >= 1);
    let later = now.plus(Millis(1));
    let unknown = ServerOp::Complete(FollowUpTaskId::generate(&mut mgn.rng));
    for (op, at) in [
        (&complete, later),
        (&overdue, later.plus(Millis(1_000_000))),
        (&unknown, later),
    ] {
        assert_eq!(
            step_err(&s, op, scale, at).code(),
            "ValidationException",
            "{op:?}"
        );
    }

    // Tasks are done on archived servers too.
    let t = step_ok(&s, &ServerOp::Archive, scale, later);
    let t = step_ok(
        &t.resource,
        &ServerOp::Complete(teardown),
        scale,
        later.plus(Millis(1)),
    );
    assert!(t.resource.follow_up_tasks.iter().all(|t| !t.is_pending()));
    assert_eq!(t.event.new, cutover_summary(true, 0));
}

#[test]
fn follow_up_deadlines_are_compressed_by_the_time_scale() {
    for (factor, uninstall, teardown) in [
        (1.0, 600_000, 5_400_000),
        (0.25, 600_000, 5_400_000),
        (f64::NAN, 600_000, 5_400_000),
        (60.0, 10_000, 90_000),
        (3_600.0, 167, 1_500),
        (1e12, 1, 1),
    ] {
        let mut mgn = Mgn::new();
        mgn.scale = TimeScale::new(factor);
        let s = mgn.server_in(L::Cutover);
        for (task, expected) in s.follow_up_tasks.iter().zip([uninstall, teardown]) {
            assert_eq!(
                task.deadline.since(task.created),
                Millis(expected),
                "scale {factor}"
            );
        }
        assert_eq!(s.follow_up_tasks.len(), 2);
    }
}
