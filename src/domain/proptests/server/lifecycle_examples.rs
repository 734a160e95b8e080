//! contract §2's lifecycle rows, one by one, from the right and the
//! wrong states.

use super::*;

#[test]
fn finalize_cutover_is_a_conflict_outside_cutting_over() {
    for state in [
        L::PendingInstallation,
        L::NotReady,
        L::ReadyForTest,
        L::Testing,
        L::ReadyForCutover,
        L::Cutover,
        L::Disconnected,
    ] {
        let mut mgn = Mgn::new();
        let s = mgn.server_in(state);
        let ids = mgn.task_ids();
        let err = mgn.err(&s, ServerOp::Finalize(ids));
        assert_eq!(err.code(), "ConflictException");
        assert_eq!(conflict_state(err), state.as_str());
    }
    // An archived CUTOVER server too.
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::Cutover);
    let (s, event) = mgn.ok(&s, ServerOp::Archive);
    assert_eq!(event, EventType::SourceServerArchived);
    let ids = mgn.task_ids();
    assert_eq!(mgn.conflict(&s, ServerOp::Finalize(ids)), "CUTOVER");
}

#[test]
fn reverting_a_cutover_sets_last_cutover_reverted() {
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::CuttingOver);
    let launched = s.launched_instance.clone();
    let first = s.life_cycle.last_cutover.clone().expect("a cutover");
    let (s, event) = mgn.ok(&s, ServerOp::Change(L::ReadyForCutover));
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(s.life_cycle.state, L::ReadyForCutover);
    assert_eq!(
        s.life_cycle.last_cutover,
        Some(LastAction {
            reverted: Some(mgn.now),
            ..first
        })
    );
    assert_eq!(s.launched_instance, launched);
    assert_eq!(
        s.data_replication_info.state,
        R::Continuous,
        "replication goes on"
    );

    // A new cutover replaces the reverted one, and can be finalised.
    let second = mgn.launch();
    let (s, _) = mgn.ok(&s, ServerOp::StartCutover(second.clone()));
    let last = s.life_cycle.last_cutover.clone().expect("a cutover");
    assert_eq!(
        (last.job_id, last.reverted, last.finalized),
        (second.job_id, None, None)
    );
    let ids = mgn.task_ids();
    let (s, _) = mgn.ok(&s, ServerOp::Finalize(ids));
    assert_eq!(s.life_cycle.state, L::Cutover);
}

#[test]
fn reverting_a_test_sets_last_test_reverted() {
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::Testing);
    let test = s.life_cycle.last_test.clone().expect("a test");
    let (s, event) = mgn.ok(&s, ServerOp::Change(L::ReadyForTest));
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(s.life_cycle.state, L::ReadyForTest);
    assert_eq!(
        s.life_cycle.last_test,
        Some(LastAction {
            reverted: Some(mgn.now),
            ..test
        })
    );

    // READY_FOR_CUTOVER → READY_FOR_TEST reverts (the new) test as well.
    let s = mgn.server_in(L::Testing);
    let (s, _) = mgn.ok(&s, ServerOp::Change(L::ReadyForCutover));
    let (s, _) = mgn.ok(&s, ServerOp::Change(L::ReadyForTest));
    assert_eq!(
        s.life_cycle.last_test.and_then(|t| t.reverted),
        Some(mgn.now)
    );

    // READY_FOR_TEST → READY_FOR_CUTOVER needs no test.
    let s = mgn.server_in(L::ReadyForTest);
    let (s, _) = mgn.ok(&s, ServerOp::Change(L::ReadyForCutover));
    assert_eq!(
        (s.life_cycle.state, &s.life_cycle.last_test),
        (L::ReadyForCutover, &None)
    );
}

#[test]
fn change_life_cycle_state_follows_the_table() {
    let mut mgn = Mgn::new();
    // Only READY_FOR_TEST and READY_FOR_CUTOVER are targets.
    for target in L::ALL
        .iter()
        .copied()
        .filter(|t| !matches!(t, L::ReadyForTest | L::ReadyForCutover))
    {
        let s = mgn.server_in(L::Testing);
        assert_eq!(
            invalid_field(mgn.err(&s, ServerOp::Change(target))),
            "state"
        );
    }
    // From the wrong states: conflicts naming them.
    for (from, target) in [
        (L::PendingInstallation, L::ReadyForCutover),
        (L::NotReady, L::ReadyForCutover),
        (L::ReadyForCutover, L::ReadyForCutover),
        (L::Cutover, L::ReadyForCutover),
        (L::Disconnected, L::ReadyForCutover),
        (L::PendingInstallation, L::ReadyForTest),
        (L::NotReady, L::ReadyForTest),
        (L::ReadyForTest, L::ReadyForTest),
        (L::CuttingOver, L::ReadyForTest),
        (L::Cutover, L::ReadyForTest),
    ] {
        let s = mgn.server_in(from);
        assert_eq!(mgn.conflict(&s, ServerOp::Change(target)), from.as_str());
    }
}

#[test]
fn ready_for_cutover_requires_known_lag() {
    let mut mgn = Mgn::new();
    for state in [L::ReadyForTest, L::Testing, L::CuttingOver] {
        let mut s = mgn.server_in(state);
        s.data_replication_info.lag = None;
        let err = s
            .change_life_cycle_state(L::ReadyForCutover, mgn.tick(1))
            .expect_err("lag unknown");
        assert_eq!(conflict_state(err), state.as_str());
        s.data_replication_info.lag = Some(Millis(0));
        let t = s
            .change_life_cycle_state(L::ReadyForCutover, mgn.tick(1))
            .expect("lag known");
        assert_eq!(t.resource.life_cycle.state, L::ReadyForCutover);
    }
}

#[test]
fn start_test_and_start_cutover_need_their_states() {
    let mut mgn = Mgn::new();
    for state in [
        L::PendingInstallation,
        L::NotReady,
        L::Testing,
        L::ReadyForCutover,
        L::Cutover,
        L::Disconnected,
    ] {
        let s = mgn.server_in(state);
        let launch = mgn.launch();
        assert_eq!(
            mgn.conflict(&s, ServerOp::StartTest(launch)),
            state.as_str()
        );
    }
    for state in [
        L::PendingInstallation,
        L::NotReady,
        L::ReadyForTest,
        L::Testing,
        L::CuttingOver,
        L::Cutover,
    ] {
        let s = mgn.server_in(state);
        let launch = mgn.launch();
        assert_eq!(
            mgn.conflict(&s, ServerOp::StartCutover(launch)),
            state.as_str()
        );
    }
}

#[test]
fn first_report_continuous_goes_straight_to_ready_for_test() {
    // Two rows of contract §2 in one command: PENDING_INSTALLATION → NOT_READY
    // (first report) and NOT_READY → READY_FOR_TEST (CONTINUOUS). One event
    // records it, from PENDING_INSTALLATION to READY_FOR_TEST.
    let mut mgn = Mgn::new();
    let s = mgn.register();
    let first = report_op(R::Continuous, vec![disk("/dev/xvda", 10, 10)], None);
    let (s, event) = mgn.ok(&s, first);
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(s.life_cycle.state, L::ReadyForTest);
    assert_eq!(
        s.data_replication_info.lag,
        Some(Millis(0)),
        "CONTINUOUS sets lag"
    );
}

#[test]
fn disconnect_from_any_state_but_cutover() {
    for state in CONNECTED {
        let mut mgn = Mgn::new();
        let s = mgn.server_in(state);
        let (s, event) = mgn.ok(&s, ServerOp::Disconnect);
        assert_eq!(event, EventType::LifeCycleStateChanged);
        assert_eq!(
            (s.life_cycle.state, s.data_replication_info.state),
            (L::Disconnected, R::Disconnected)
        );
        assert!(s.follow_up_tasks.is_empty());
        assert_eq!(mgn.conflict(&s, ServerOp::Disconnect), "DISCONNECTED");
    }
    let mut mgn = Mgn::new();
    let s = mgn.server_in(L::Cutover);
    assert_eq!(mgn.conflict(&s, ServerOp::Disconnect), "CUTOVER");
}

#[test]
fn mark_as_archived_only_after_cutover_or_disconnection() {
    for state in CONNECTED {
        let mut mgn = Mgn::new();
        let s = mgn.server_in(state);
        assert_eq!(mgn.conflict(&s, ServerOp::Archive), state.as_str());
    }
}
