//! What agents report and are asked to do: registration, reports, SMC's
//! view of a source server, and FinalizeCutover's follow-up tasks.

use super::*;

#[test]
fn reports_are_validated() {
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::NotReady);
    let mut refused = |op: ServerOp| invalid_field(mgn.err(&s, op));
    assert_eq!(
        refused(report_op(R::Disconnected, vec![], None)),
        "data_replication_state"
    );
    assert_eq!(
        refused(report_op(R::Continuous, vec![], Some(-1))),
        "lag_duration"
    );
    let bad = report_op(R::InitialSync, vec![disk("/dev/xvda", 10, 11)], None);
    assert_eq!(refused(bad), "replicated_disks");
    for field in 0..4 {
        let mut d = disk("/dev/xvda", 10, 5);
        match field {
            0 => d.total_storage_bytes = -1,
            1 => d.replicated_storage_bytes = -1,
            2 => d.rescanned_storage_bytes = -1,
            _ => d.backlogged_storage_bytes = -1,
        }
        let bad = report_op(R::InitialSync, vec![d], None);
        assert_eq!(refused(bad), "replicated_disks");
    }
    let many = |n: usize| {
        (0..n)
            .map(|i| disk(&format!("/dev/xvd{i}"), 10, 10))
            .collect::<Vec<_>>()
    };
    let bad = report_op(R::InitialSync, many(61), None);
    assert_eq!(refused(bad), "replicated_disks");
    let (s, _) = mgn.ok(&s, report_op(R::InitialSync, many(60), None));
    assert_eq!(s.data_replication_info.replicated_disks.len(), 60);
    // replicated == total and zero-sized disks are fine.
    let edge = vec![disk("/dev/xvda", 0, 0), disk("/dev/xvdb", 7, 7)];
    mgn.ok(&s, report_op(R::Backlog, edge, Some(0)));
}

#[test]
fn reports_after_cutover_disconnection_or_archiving_are_conflicts() {
    for state in [L::Cutover, L::Disconnected] {
        let mut mgn = Mgn::new();
        let s = mgn.server_in(state);
        let r = || report_op(R::Continuous, vec![disk("/dev/xvda", 10, 10)], Some(1));
        assert_eq!(mgn.conflict(&s, r()), state.as_str());
        let (s, _) = mgn.ok(&s, ServerOp::Archive);
        assert!(s.is_archived);
        assert_eq!(mgn.conflict(&s, r()), state.as_str());
        assert_eq!(
            mgn.conflict(&s, ServerOp::Archive),
            state.as_str(),
            "archived once"
        );
        assert_eq!(mgn.conflict(&s, ServerOp::Disconnect), state.as_str());
    }
}

#[test]
fn register_validates_tags() {
    let register_with = |tags: BTreeMap<String, String>| {
        register_server(&mut StdRng::seed_from_u64(1), &tags, Timestamp(T0))
    };
    let refused = |tags| invalid_field(register_with(tags).expect_err("refused"));
    assert!(register_with(tags_of(50, false)).is_ok());
    assert_eq!(refused(tags_of(51, false)), "tags");
    assert_eq!(refused(tags_of(0, true)), "tags");
    let one = |key: String, value: String| BTreeMap::from([(key, value)]);
    // 256 characters (not bytes) are allowed, 257 are not.
    assert!(register_with(one("ü".repeat(256), "ü".repeat(256))).is_ok());
    assert_eq!(refused(one("k".repeat(257), "v".into())), "tags");
    assert_eq!(refused(one("k".into(), "v".repeat(257))), "tags");
    assert!(register_with(one("k".into(), String::new())).is_ok());
}

#[test]
fn source_state_is_available_in_use_or_unavailable() {
    use SourceState::{Available, InUse, Unavailable};
    let window = Millis(60_000);
    let mut mgn = Mgn::new();
    let registered = mgn.register();
    for in_use in [false, true] {
        assert_eq!(
            registered.source_state(mgn.now, window, in_use),
            Unavailable,
            "never seen"
        );
    }

    let s = mgn.server_in(L::ReadyForTest);
    let seen = s.life_cycle.last_seen_by_service.expect("seen");
    // The window is inclusive.
    for at in [seen, seen.plus(window)] {
        assert_eq!(s.source_state(at, window, false), Available);
        assert_eq!(s.source_state(at, window, true), InUse);
    }
    for in_use in [false, true] {
        let late = seen.plus(Millis(60_001));
        assert_eq!(s.source_state(late, window, in_use), Unavailable);
    }

    // Replication STOPPED: not available though seen; PAUSED is.
    let (stopped, _) = mgn.ok(&s, report_op(R::Stopped, vec![], None));
    assert_eq!(stopped.source_state(mgn.now, window, false), Unavailable);
    let (paused, _) = mgn.ok(&s, report_op(R::Paused, vec![], None));
    assert_eq!(paused.source_state(mgn.now, window, false), Available);

    // Archived: never available.
    let mut archived = paused.clone();
    archived.is_archived = true;
    assert_eq!(archived.source_state(mgn.now, window, true), Unavailable);

    // DISCONNECTED and CUTOVER: unavailable even right after a report.
    let (disconnected, _) = mgn.ok(&paused, ServerOp::Disconnect);
    assert_eq!(
        disconnected.source_state(mgn.now, window, false),
        Unavailable
    );
    let cutover = mgn.server_in(L::Cutover);
    let seen = cutover.life_cycle.last_seen_by_service.expect("seen");
    assert_eq!(cutover.source_state(seen, window, true), Unavailable);
}

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

#[test]
fn an_agentless_server_is_owed_no_agent_uninstall() {
    let mut mgn = Mgn::new();
    let registration = Registration {
        replication_type: Some(ReplicationType::SnapshotShipping),
        ..Registration::default()
    };
    let id = SourceServerId::generate(&mut mgn.rng);
    let mut s = register(account(), id, registration, mgn.now)
        .expect("registration")
        .resource;
    while s.life_cycle.state != L::Cutover {
        let op = forward(&s, &mut mgn.rng);
        s = mgn.ok(&s, op).0;
    }
    let kinds: Vec<_> = s.follow_up_tasks.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [FollowUpTaskKind::ReplicationResourcesTeardown],
        "only the target side has something to clean up"
    );
}
