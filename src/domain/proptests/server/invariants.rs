//! What SPEC section 2 allows a source server to be, step to step and at
//! any time.

use std::collections::BTreeMap;

use super::model::disk_is_valid;
use super::FOLLOW_UPS;
use crate::domain::{
    DataReplicationState, EventType, LifeCycleState, SourceServer, SourceServerId, StateSummary,
    TimeScale, Timestamp, Transition,
};

use DataReplicationState as R;
use LifeCycleState as L;

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

/// Everything SPEC section 2 allows a server to be, and nothing else.
pub(super) fn assert_server_invariants(s: &SourceServer, scale: TimeScale) {
    let life = &s.life_cycle;
    let info = &s.data_replication_info;
    let state = life.state;
    let show = || format!("{s:#?}");
    assert!(
        !matches!(state, L::Discovered | L::Stopped),
        "unreachable state: {}",
        show()
    );

    // Replication is DISCONNECTED exactly in CUTOVER and DISCONNECTED.
    let disconnected = matches!(state, L::Cutover | L::Disconnected);
    assert_eq!(info.state == R::Disconnected, disconnected, "{}", show());
    assert_eq!(s.is_replicating(), !disconnected && !s.is_archived);
    assert!(
        !s.is_archived || disconnected,
        "only CUTOVER or DISCONNECTED servers are archived: {}",
        show()
    );
    if disconnected {
        assert!(
            info.replicated_disks
                .iter()
                .all(|d| d.total_storage_bytes == 0),
            "{}",
            show()
        );
        assert_eq!((info.lag, info.eta), (None, None), "{}", show());
    } else {
        assert!(
            info.replicated_disks.iter().all(disk_is_valid),
            "{}",
            show()
        );
    }
    assert!(info.replicated_disks.len() <= 60);
    assert!(
        info.eta.is_none() || info.state == R::InitialSync,
        "an ETA only while syncing: {}",
        show()
    );

    // CUTOVER ⇔ lastCutover.finalized; its two follow-up tasks.
    let finalized = life.last_cutover.as_ref().and_then(|c| c.finalized);
    assert_eq!(state == L::Cutover, finalized.is_some(), "{}", show());
    if let Some(at) = finalized {
        assert_eq!(s.follow_up_tasks.len(), 2, "{}", show());
        for (kind, deadline) in FOLLOW_UPS {
            let tasks: Vec<_> = s
                .follow_up_tasks
                .iter()
                .filter(|t| t.kind == kind)
                .collect();
            assert_eq!(tasks.len(), 1, "exactly one {kind:?}: {}", show());
            assert_eq!(tasks[0].created, at);
            assert_eq!(tasks[0].deadline, at.plus(scale.compress(deadline)));
        }
        for task in &s.follow_up_tasks {
            if let Some(done) = task.completed {
                assert!(done >= task.created && task.attempts >= 1, "{task:?}");
            }
        }
    } else {
        assert!(
            s.follow_up_tasks.is_empty(),
            "tasks only come from FinalizeCutover: {}",
            show()
        );
    }

    // The action in progress, and what a state implies.
    let in_progress = match state {
        L::Testing => Some(life.last_test.as_ref().expect("TESTING has a last test")),
        L::CuttingOver => Some(
            life.last_cutover
                .as_ref()
                .expect("CUTTING_OVER has a last cutover"),
        ),
        _ => None,
    };
    if let Some(action) = in_progress {
        assert_eq!((action.reverted, action.finalized), (None, None));
        assert_eq!(
            s.launched_instance.as_ref().map(|i| &i.job_id),
            Some(&action.job_id)
        );
    }
    if state == L::PendingInstallation {
        assert_eq!(life.last_seen_by_service, None, "{}", show());
        assert_eq!(life.first_byte, None);
        assert_eq!(info.state, R::Stopped);
        assert!(info.replicated_disks.is_empty());
    }
    if !matches!(state, L::PendingInstallation | L::Disconnected) {
        assert!(
            life.last_seen_by_service.is_some(),
            "an agent has reported: {}",
            show()
        );
    }
    if matches!(
        state,
        L::ReadyForTest | L::Testing | L::ReadyForCutover | L::CuttingOver
    ) {
        assert!(
            info.lag.is_some(),
            "lag is set from READY_FOR_TEST on: {}",
            show()
        );
    }
    assert_eq!(
        life.first_byte.is_some(),
        life.elapsed_replication.is_some()
    );
    if let Some(first) = life.first_byte {
        assert!(first >= life.added_to_service);
        assert!(life.last_seen_by_service.is_some_and(|seen| seen >= first));
    }
    assert_eq!(
        s.launched_instance.is_some(),
        life.last_test.is_some() || life.last_cutover.is_some(),
        "an instance is launched by a test or a cutover: {}",
        show()
    );
    for action in [&life.last_test, &life.last_cutover].into_iter().flatten() {
        assert!(action.reverted.is_none_or(|t| t >= action.initiated));
        assert!(action.finalized.is_none_or(|t| t >= action.initiated));
    }
    assert!(
        life.last_test
            .as_ref()
            .is_none_or(|t| t.finalized.is_none()),
        "tests are never finalised"
    );
}

/// RegisterSourceServer's result: PENDING_INSTALLATION, nothing reported.
pub(super) fn check_registration(
    t: &Transition<SourceServer>,
    id: &SourceServerId,
    tags: &BTreeMap<String, String>,
    now: Timestamp,
) {
    let s = &t.resource;
    assert_eq!(t.event.event_type, EventType::SourceServerRegistered);
    assert_eq!(t.event.previous, None);
    assert_eq!(t.event.new, StateSummary::of_server(s));
    assert_eq!(t.event.time, now);
    assert_eq!((&s.id, &s.tags), (id, tags));
    assert!(!s.is_archived);
    assert_eq!(s.life_cycle.state, L::PendingInstallation);
    assert_eq!(s.life_cycle.added_to_service, now);
    assert_eq!(s.life_cycle.last_seen_by_service, None);
    assert_eq!(
        (&s.life_cycle.last_test, &s.life_cycle.last_cutover),
        (&None, &None)
    );
    assert_eq!(s.data_replication_info.state, R::Stopped);
    assert_eq!(
        (s.data_replication_info.lag, s.data_replication_info.eta),
        (None, None)
    );
    assert!(s.data_replication_info.replicated_disks.is_empty());
    assert!(s.launched_instance.is_none());
    assert!(s.follow_up_tasks.is_empty());
    assert_server_invariants(s, TimeScale::REAL);
}
