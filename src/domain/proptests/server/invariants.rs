//! What contract §2 allows a source server to be, step to step and at
//! any time.

use super::*;

/// Step-to-step invariants of a server.
pub(super) fn check_server_history(before: &SourceServer, after: &SourceServer) {
    assert_eq!(after.account_id, before.account_id);
    assert_eq!(after.id, before.id);
    assert_eq!(after.tags, before.tags);
    assert_eq!(after.replication_type, before.replication_type);
    assert_eq!(
        after.life_cycle.added_to_service,
        before.life_cycle.added_to_service
    );
    assert!(
        !before.is_archived || after.is_archived,
        "archiving is final"
    );
    for last in [L::Cutover, L::Disconnected] {
        assert!(
            before.life_cycle.state != last || after.life_cycle.state == last,
            "{last:?} is final"
        );
    }
    if after.life_cycle.state == L::ReadyForCutover && before.life_cycle.state != L::ReadyForCutover
    {
        assert!(
            before.data_replication_info.lag.is_some() && after.data_replication_info.lag.is_some(),
            "READY_FOR_CUTOVER requires lag"
        );
    }
    assert!(after.life_cycle.last_seen_by_service >= before.life_cycle.last_seen_by_service);
    // Tasks are never dropped nor rewritten; completed ones stay completed
    // (never pending again, never completed a second time).
    assert!(after.follow_up_tasks.len() >= before.follow_up_tasks.len());
    for (old, new) in before.follow_up_tasks.iter().zip(&after.follow_up_tasks) {
        assert_eq!(
            (&new.id, new.kind, new.created, new.deadline),
            (&old.id, old.kind, old.created, old.deadline)
        );
        if old.completed.is_some() {
            assert_eq!(new, old, "a completed task never changes again");
        }
        assert!(!old.overdue || new.overdue, "overdue is never unset");
        assert!(new.attempts >= old.attempts);
    }
}

/// Everything contract §2 allows a server to be, and nothing else.
pub(super) fn assert_server_invariants(s: &SourceServer, scale: TimeScale) {
    let ensure = |ok: bool, what: &str| assert!(ok, "{what}: {s:#?}");
    let life = &s.life_cycle;
    let info = &s.data_replication_info;
    let state = life.state;
    ensure(
        !matches!(state, L::Discovered | L::Stopped),
        "unreachable state",
    );

    // Replication is DISCONNECTED exactly in CUTOVER and DISCONNECTED.
    let disconnected = matches!(state, L::Cutover | L::Disconnected);
    ensure(
        (info.state == R::Disconnected) == disconnected,
        "replication state",
    );
    ensure(
        s.is_replicating() == (!disconnected && !s.is_archived),
        "is_replicating",
    );
    ensure(
        !s.is_archived || disconnected,
        "only CUTOVER or DISCONNECTED servers are archived",
    );
    let disks = &info.replicated_disks;
    if disconnected {
        ensure(disks.iter().all(|d| d.total_storage_bytes == 0), "totals 0");
        ensure((info.lag, info.eta) == (None, None), "no lag nor ETA");
    } else {
        ensure(disks.iter().all(disk_is_valid), "valid disks");
    }
    ensure(disks.len() <= 60, "at most 60 disks");
    ensure(
        info.eta.is_none() || info.state == R::InitialSync,
        "an ETA only while syncing",
    );

    // CUTOVER ⇔ lastCutover.finalized; its two follow-up tasks.
    let finalized = life.last_cutover.as_ref().and_then(|c| c.finalized);
    ensure(
        (state == L::Cutover) == finalized.is_some(),
        "CUTOVER is finalized",
    );
    let tasks = &s.follow_up_tasks;
    match finalized {
        Some(at) => {
            let owed = FOLLOW_UPS
                .into_iter()
                .filter(|(kind, _)| kind.applies_to(s.replication_type));
            let owed: Vec<_> = owed.collect();
            ensure(
                tasks.len() == owed.len(),
                "one follow-up task of each kind the server owes",
            );
            for (kind, deadline) in owed {
                let mut of_kind = tasks.iter().filter(|t| t.kind == kind);
                let task = of_kind.next().expect("a task of each kind");
                ensure(of_kind.next().is_none(), "one task of each kind");
                assert_eq!(task.created, at);
                assert_eq!(task.deadline, at.plus(scale.compress(deadline)));
            }
            for task in tasks {
                if let Some(done) = task.completed {
                    assert!(done >= task.created && task.attempts >= 1, "{task:?}");
                }
            }
        }
        None => ensure(tasks.is_empty(), "tasks only come from FinalizeCutover"),
    }

    // The action in progress, and what a state implies.
    let in_progress = match state {
        L::Testing => Some(life.last_test.as_ref().expect("TESTING has a test")),
        L::CuttingOver => Some(
            life.last_cutover
                .as_ref()
                .expect("CUTTING_OVER has a cutover"),
        ),
        _ => None,
    };
    if let Some(action) = in_progress {
        assert_eq!((action.reverted, action.finalized), (None, None));
        let job_id = s.launched_instance.as_ref().map(|i| &i.job_id);
        assert_eq!(job_id, Some(&action.job_id));
    }
    if state == L::PendingInstallation {
        let nothing_reported = (life.last_seen_by_service, life.first_byte) == (None, None);
        ensure(
            nothing_reported && info.state == R::Stopped && disks.is_empty(),
            "registered",
        );
    } else if state != L::Disconnected {
        ensure(life.last_seen_by_service.is_some(), "an agent has reported");
    }
    if matches!(
        state,
        L::ReadyForTest | L::Testing | L::ReadyForCutover | L::CuttingOver
    ) {
        ensure(info.lag.is_some(), "lag is set from READY_FOR_TEST on");
    }
    let first_byte = life.first_byte;
    ensure(
        first_byte.is_some() == life.elapsed_replication.is_some(),
        "elapsed replication",
    );
    if let Some(first) = first_byte {
        assert!(first >= life.added_to_service);
        assert!(life.last_seen_by_service.is_some_and(|seen| seen >= first));
    }
    let launched = life.last_test.is_some() || life.last_cutover.is_some();
    ensure(
        s.launched_instance.is_some() == launched,
        "an instance is launched by a test or a cutover",
    );
    for action in [&life.last_test, &life.last_cutover].into_iter().flatten() {
        assert!(action.reverted.is_none_or(|t| t >= action.initiated));
        assert!(action.finalized.is_none_or(|t| t >= action.initiated));
    }
    // A test is finalised when it is accepted (TESTING → READY_FOR_CUTOVER),
    // so a finalised test's server has moved on from TESTING.
    let test_finalized = life
        .last_test
        .as_ref()
        .is_some_and(|t| t.finalized.is_some());
    ensure(
        !(test_finalized && state == L::Testing),
        "a finalised test is over",
    );
}

/// RegisterSourceServer's result: PENDING_INSTALLATION (so nothing
/// reported, launched nor recorded, by the invariants), as asked.
pub(super) fn check_registration(
    t: &Transition<SourceServer>,
    id: &SourceServerId,
    tags: &BTreeMap<String, String>,
    now: Timestamp,
) {
    let s = &t.resource;
    assert_eq!(t.event.event_type, EventType::SourceServerRegistered);
    assert_eq!((t.event.previous.as_ref(), t.event.time), (None, now));
    assert_eq!(t.event.new, StateSummary::of_server(s));
    assert_eq!((&s.id, &s.tags, s.is_archived), (id, tags, false));
    assert_eq!(s.life_cycle.state, L::PendingInstallation);
    assert_eq!(s.life_cycle.added_to_service, now);
    assert_eq!(
        (&s.life_cycle.last_test, &s.life_cycle.last_cutover),
        (&None, &None)
    );
    let info = &s.data_replication_info;
    assert_eq!((info.lag, info.eta), (None, None));
    assert_server_invariants(s, TimeScale::REAL);
}
