//! contract §2's main path, from registration to a finalised cutover,
//! field by field.

use super::*;

#[test]
fn mgn_full_path_from_registration_to_finalized_cutover() {
    let mut mgn = Mgn::new();
    let s = mgn.register();
    assert_eq!(s.life_cycle.state, L::PendingInstallation);

    // The agent's first report: INITIATING; PENDING_INSTALLATION → NOT_READY.
    let steps = vec![
        (InitiationStepName::Wait, InitiationStepStatus::Succeeded),
        (
            InitiationStepName::CreateSecurityGroup,
            InitiationStepStatus::InProgress,
        ),
    ];
    let initiating = ReplicationReport {
        initiation_steps: Some(steps.clone()),
        ..report(
            R::Initiating,
            vec![disk("/dev/xvda", 8_000, 0), disk("/dev/xvdb", 2_000, 0)],
            None,
        )
    };
    let (s, event) = mgn.ok(&s, ServerOp::Report(Box::new(initiating)));
    let t_initiating = mgn.now;
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(
        (s.life_cycle.state, s.data_replication_info.state),
        (L::NotReady, R::Initiating)
    );
    assert_eq!(s.life_cycle.last_seen_by_service, Some(t_initiating));
    assert_eq!(s.life_cycle.first_byte, None);
    let initiation = s
        .data_replication_info
        .initiation
        .clone()
        .expect("initiation");
    assert_eq!((initiation.start, initiation.steps), (t_initiating, steps));

    // INITIAL_SYNC with bytes: first byte, ETA.
    let eta = Timestamp(T0 + 3_600_000);
    let syncing = ReplicationReport {
        eta: Some(eta),
        ..report(
            R::InitialSync,
            vec![
                disk("/dev/xvda", 8_000, 3_000),
                disk("/dev/xvdb", 2_000, 500),
            ],
            None,
        )
    };
    let (s, event) = mgn.ok(&s, ServerOp::Report(Box::new(syncing)));
    let t_first_byte = mgn.now;
    assert_eq!(event, EventType::DataReplicationStateChanged);
    assert_eq!(
        (s.life_cycle.state, s.data_replication_info.state),
        (L::NotReady, R::InitialSync)
    );
    assert_eq!(s.life_cycle.first_byte, Some(t_first_byte));
    assert_eq!(
        (s.data_replication_info.eta, s.data_replication_info.lag),
        (Some(eta), None)
    );

    // More bytes, same state: a progress event.
    let both = |replicated: [i64; 2]| {
        vec![
            disk("/dev/xvda", 8_000, replicated[0]),
            disk("/dev/xvdb", 2_000, replicated[1]),
        ]
    };
    let (s, event) = mgn.ok(&s, report_op(R::InitialSync, both([7_000, 2_000]), None));
    assert_eq!(event, EventType::ReplicationProgress);
    assert_eq!(s.life_cycle.first_byte, Some(t_first_byte));
    assert_eq!(
        s.life_cycle.elapsed_replication,
        Some(mgn.now.since(t_first_byte))
    );

    // CONTINUOUS: NOT_READY → READY_FOR_TEST, lag now set, no ETA.
    let continuous = report_op(R::Continuous, both([8_000, 2_000]), Some(1_500));
    let (s, event) = mgn.ok(&s, continuous);
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(
        (s.life_cycle.state, s.data_replication_info.state),
        (L::ReadyForTest, R::Continuous)
    );
    assert_eq!(
        (s.data_replication_info.lag, s.data_replication_info.eta),
        (Some(Millis(1_500)), None)
    );
    assert_eq!(s.data_replication_info.last_snapshot, Some(mgn.now));

    // StartTest: READY_FOR_TEST → TESTING.
    let test = mgn.launch();
    let (s, event) = mgn.ok(&s, ServerOp::StartTest(test.clone()));
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(s.life_cycle.state, L::Testing);
    assert_eq!(
        s.life_cycle.last_test,
        Some(LastAction {
            initiated: mgn.now,
            job_id: test.job_id.clone(),
            reverted: None,
            finalized: None
        })
    );
    let instance = s.launched_instance.clone().expect("a test instance");
    assert_eq!(
        (&instance.ec2_instance_id, &instance.job_id),
        (&test.ec2_instance_id, &test.job_id)
    );

    // TESTING → READY_FOR_CUTOVER (the test is accepted, not reverted).
    let (s, event) = mgn.ok(&s, ServerOp::Change(L::ReadyForCutover));
    assert_eq!(event, EventType::LifeCycleStateChanged);
    assert_eq!(s.life_cycle.state, L::ReadyForCutover);
    assert_eq!(
        s.life_cycle.last_test.as_ref().and_then(|t| t.reverted),
        None
    );
    assert_eq!(
        s.life_cycle.last_test.as_ref().and_then(|t| t.finalized),
        Some(mgn.now),
        "accepting the test finalises it"
    );

    // StartCutover: READY_FOR_CUTOVER → CUTTING_OVER.
    let cutover = mgn.launch();
    let (s, _) = mgn.ok(&s, ServerOp::StartCutover(cutover.clone()));
    let t_cutover = mgn.now;
    assert_eq!(s.life_cycle.state, L::CuttingOver);
    assert_eq!(
        s.life_cycle.last_cutover,
        Some(LastAction {
            initiated: t_cutover,
            job_id: cutover.job_id.clone(),
            reverted: None,
            finalized: None
        })
    );
    assert_eq!(
        s.launched_instance.as_ref().map(|i| &i.ec2_instance_id),
        Some(&cutover.ec2_instance_id)
    );

    // FinalizeCutover: every effect of contract §2, field by field.
    let before = s.clone();
    let ids = mgn.task_ids();
    let now = mgn.tick(1_000);
    let t = step_ok(&before, &ServerOp::Finalize(ids.clone()), mgn.scale, now);
    let s = t.resource;
    assert_eq!(t.event.event_type, EventType::LifeCycleStateChanged);
    assert_eq!(
        t.event.new,
        StateSummary::SourceServer {
            life_cycle_state: L::Cutover,
            data_replication_state: R::Disconnected,
            is_archived: false,
            pending_follow_up_tasks: 2,
        }
    );
    assert_eq!(s.life_cycle.state, L::Cutover);
    let last_cutover = s.life_cycle.last_cutover.clone().expect("last cutover");
    assert_eq!(last_cutover.finalized, Some(now));
    assert_eq!(
        (last_cutover.initiated, &last_cutover.job_id),
        (t_cutover, &cutover.job_id)
    );
    assert_eq!(s.data_replication_info.state, R::Disconnected);
    let disks = &s.data_replication_info.replicated_disks;
    assert_eq!(disks.len(), 2);
    for (after, before) in disks
        .iter()
        .zip(&before.data_replication_info.replicated_disks)
    {
        assert_eq!(after.device_name, before.device_name);
        assert_eq!(after.total_storage_bytes, 0);
        assert_eq!(
            after.replicated_storage_bytes, before.replicated_storage_bytes,
            "replicated bytes are kept"
        );
    }
    assert_eq!(disks[0].replicated_storage_bytes, 8_000);
    assert_eq!(
        (s.data_replication_info.lag, s.data_replication_info.eta),
        (None, None)
    );
    assert_eq!(
        s.launched_instance, before.launched_instance,
        "the cutover instance is not terminated"
    );
    assert_eq!(s.life_cycle.last_test, before.life_cycle.last_test);
    // The two follow-up tasks, in order, with the contract's deadlines at 60x.
    let expected = [
        (FollowUpTaskKind::AgentUninstall, 10 * 60_000 / 60),
        (
            FollowUpTaskKind::ReplicationResourcesTeardown,
            90 * 60_000 / 60,
        ),
    ];
    assert_eq!(s.follow_up_tasks.len(), 2);
    for ((task, id), (kind, deadline)) in s.follow_up_tasks.iter().zip(&ids).zip(expected) {
        assert_eq!((&task.id, task.kind), (id, kind));
        assert_eq!(
            (task.created, task.deadline),
            (now, now.plus(Millis(deadline)))
        );
        assert_eq!(
            (task.completed, task.attempts, task.overdue),
            (None, 0, false)
        );
    }

    // A second FinalizeCutover without a token: ConflictException naming CUTOVER.
    let ids = mgn.task_ids();
    let err = mgn.err(&s, ServerOp::Finalize(ids));
    assert!(
        err.to_string().contains(s.id.as_str()) && err.to_string().contains("CUTOVER"),
        "{err}"
    );
    assert_eq!(err.code(), "ConflictException");
    assert_eq!(conflict_state(err), "CUTOVER");
}
