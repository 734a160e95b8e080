//! MGN source servers over real gRPC: the full flow to CUTOVER, every
//! FinalizeCutover effect, idempotency, races, and durability.

use std::collections::HashSet;

use cutover::pb::v1::{
    DataReplicationState, FinalizeCutoverRequest, FollowUpTaskKind, FollowUpTaskState,
    LifeCycleState, SourceState,
};
use cutover_testkit::*;
use tonic::Code;

const FAST: &[&str] = &["--sim-speed", "100"];

/// Registers a server and takes it all the way to CUTTING_OVER.
async fn to_cutting_over(server: &TestServer) -> String {
    let mut client = server.servers().await;
    let id = register(&mut client).await;
    take_to_cutting_over(&mut client, &id).await;
    id
}

#[tokio::test]
async fn full_flow_to_cutover_applies_every_finalize_effect() {
    let server = TestServer::in_process(FAST);
    let mut client = server.servers().await;
    let id = register(&mut client).await;
    assert!(id.starts_with("s-") && id.len() == 19, "{id}");

    let ready = wait_for_state(&mut client, &id, LifeCycleState::ReadyForTest).await;
    let info = ready
        .data_replication_info
        .clone()
        .expect("replication info");
    assert_eq!(
        info.data_replication_state,
        DataReplicationState::Continuous as i32
    );
    assert!(info.lag_duration.is_some(), "lag is set once continuous");
    assert!(!info.replicated_disks.is_empty());
    assert!(info
        .replicated_disks
        .iter()
        .all(
            |d| Some(d.replicated_storage_bytes) == d.total_storage_bytes
                && d.total_storage_bytes > Some(0)
        ));
    assert_eq!(ready.source_state, SourceState::Available as i32);

    let CuttingOver { test, cutover } = take_to_cutting_over(&mut client, &id).await;
    let test_job = test.job.expect("launch job");
    assert!(test_job.job_id.starts_with("mgnjob-") && test_job.job_id.len() == 24);
    let tested = test.source_server.expect("server");
    assert_eq!(state_of(&tested), Some(LifeCycleState::Testing));

    let cutover_job = cutover.job.expect("cutover job");
    let before = cutover.source_server.expect("server");
    assert_eq!(state_of(&before), Some(LifeCycleState::CuttingOver));

    let response = client
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("FinalizeCutover");
    let header = request_id_header(response.metadata());
    let after = response.into_inner();
    assert_eq!(after.request_id, header);
    assert_eq!(after.source_server_id, id);

    let life = after.life_cycle.clone().expect("life cycle");
    assert_eq!(life.state, LifeCycleState::Cutover as i32);
    let last_cutover = life.last_cutover.expect("last cutover");
    assert_eq!(
        last_cutover.initiated.expect("initiated").job_id,
        cutover_job.job_id
    );
    let finalized = last_cutover
        .finalized
        .expect("finalized")
        .api_call_date_time
        .expect("time");
    assert!(finalized.seconds > 0);

    let info = after
        .data_replication_info
        .clone()
        .expect("replication info");
    assert_eq!(
        info.data_replication_state,
        DataReplicationState::Disconnected as i32
    );
    assert!(info.lag_duration.is_none(), "lag is nulled");
    assert!(info.eta_date_time.is_none(), "eta is nulled");
    let disks_before = before.data_replication_info.expect("info").replicated_disks;
    assert_eq!(info.replicated_disks.len(), disks_before.len());
    for (disk, old) in info.replicated_disks.iter().zip(&disks_before) {
        assert_eq!(disk.total_storage_bytes, Some(0), "{disk:?}");
        assert_eq!(disk.device_name, old.device_name);
        assert_eq!(
            disk.replicated_storage_bytes, old.replicated_storage_bytes,
            "replicated bytes are kept"
        );
    }
    assert_eq!(
        after.launched_instance, before.launched_instance,
        "the cutover instance is untouched"
    );
    assert_eq!(
        after.launched_instance.as_ref().expect("instance").job_id,
        cutover_job.job_id
    );

    let tasks = &after.follow_up_tasks;
    assert_eq!(tasks.len(), 2);
    let kinds: HashSet<i32> = tasks.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        HashSet::from([
            FollowUpTaskKind::AgentUninstall as i32,
            FollowUpTaskKind::ReplicationResourcesTeardown as i32
        ])
    );
    for task in tasks {
        assert_eq!(task.state, FollowUpTaskState::Pending as i32);
        let created = task.created_date_time.expect("created").seconds;
        let deadline = task.deadline_date_time.expect("deadline");
        let minutes = if task.kind == FollowUpTaskKind::AgentUninstall as i32 {
            10
        } else {
            90
        };
        // Deadlines are compressed by the sim speed (100x).
        let expected_ms = minutes * 60_000 / 100;
        let actual_ms = (deadline.seconds - created) * 1000 + i64::from(deadline.nanos) / 1_000_000
            - i64::from(task.created_date_time.expect("created").nanos) / 1_000_000;
        assert!(
            (actual_ms - expected_ms).abs() <= 1,
            "{actual_ms} vs {expected_ms}"
        );
    }

    let done = wait_for_follow_ups(&client, &id).await;
    let uninstall = done
        .follow_up_tasks
        .iter()
        .find(|t| t.kind == FollowUpTaskKind::AgentUninstall as i32)
        .expect("task");
    let teardown = done
        .follow_up_tasks
        .iter()
        .find(|t| t.kind == FollowUpTaskKind::ReplicationResourcesTeardown as i32)
        .expect("task");
    let millis = |t: &Option<prost_types::Timestamp>| {
        t.map(|t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
    };
    // The teardown does not wait for the agent (docs/contract.md), so the
    // two complete in either order; each within its own window.
    for task in [uninstall, teardown] {
        let completed = millis(&task.completed_date_time);
        assert!(
            millis(&task.created_date_time) <= completed
                && completed <= millis(&task.deadline_date_time),
            "{task:?} completed within its window"
        );
        assert!(!task.overdue, "{task:?}");
    }
    assert_eq!(
        done.life_cycle.expect("life").state,
        LifeCycleState::Cutover as i32
    );

    let again = client
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("second finalize");
    expect_conflict(again, &id, "CUTOVER");
}

#[tokio::test]
async fn client_token_replays_the_first_response() {
    let server = TestServer::in_process(FAST);
    let mut client = server.servers().await;
    let id = to_cutting_over(&server).await;
    let request = FinalizeCutoverRequest {
        source_server_id: id.clone(),
        client_token: "finalize-1".into(),
    };
    let first = client
        .finalize_cutover(request.clone())
        .await
        .expect("first")
        .into_inner();
    let second = client
        .finalize_cutover(request)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        first.life_cycle, second.life_cycle,
        "the retry returns the first outcome"
    );
    assert_eq!(
        first.follow_up_tasks, second.follow_up_tasks,
        "no second pair of tasks"
    );

    let other = client
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: "s-00000000000000000".into(),
            client_token: "finalize-1".into(),
        })
        .await
        .expect_err("token reused for another request");
    expect_error(other, Code::InvalidArgument, "ValidationException");
    let stored = get_server(&mut client, &id).await;
    assert_eq!(stored.follow_up_tasks.len(), 2);
}

#[tokio::test]
async fn fifty_concurrent_finalizes_have_exactly_one_winner() {
    let server = TestServer::in_process(FAST);
    let id = to_cutting_over(&server).await;
    let client = server.servers().await;
    let calls = (0..50).map(|_| {
        let mut client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            client
                .finalize_cutover(FinalizeCutoverRequest {
                    source_server_id: id,
                    ..Default::default()
                })
                .await
        })
    });
    let mut wins = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => wins += 1,
            Err(status) => {
                expect_error(status, Code::FailedPrecondition, "ConflictException");
            }
        }
    }
    assert_eq!(wins, 1);
    let mut client = client.clone();
    assert_eq!(get_server(&mut client, &id).await.follow_up_tasks.len(), 2);
}

#[tokio::test]
async fn acknowledged_state_survives_restart_and_kill() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::start_in(dir.path(), &["--no-simulator"]);
    let mut client = server.servers().await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(register(&mut client).await);
    }
    let archived = ids[0].clone();
    disconnect(&mut client, &archived).await;
    archive(&mut client, &archived).await;
    server.stop();

    let mut server = TestServer::start_in(dir.path(), &["--no-simulator"]);
    let mut client = server.servers().await;
    for id in &ids {
        get_server(&mut client, id).await;
    }
    assert!(get_server(&mut client, &archived).await.is_archived);
    for _ in 0..20 {
        ids.push(register(&mut client).await);
    }
    server.kill();

    let server = TestServer::start_in(dir.path(), &["--no-simulator"]);
    let mut client = server.servers().await;
    for id in &ids {
        assert_eq!(&get_server(&mut client, id).await.source_server_id, id);
    }
    let listed = client
        .describe_source_servers(cutover::pb::v1::DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(listed.items.len(), ids.len());
}
