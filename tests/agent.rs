//! The agent protocol across processes: a `cutover-agent` drives a server
//! to CUTOVER, commands survive `kill -9` of the service, an agent that
//! never acknowledges makes its task overdue, and a vanished agent makes
//! its server unreachable.

mod support;

use std::collections::BTreeSet;

use cutover::pb::v1::{
    watch_lifecycle_events_response::Kind, ChangeServerLifeCycleStateRequest,
    CutOverReplicationJobRequest, DataReplicationState, FinalizeCutoverRequest, FollowUpTaskKind,
    FollowUpTaskState, LifeCycleState, LifecycleEventType,
    ReplicationJobBusinessStatus as Business, ReplicationJobStatus as Status, SourceState,
    StartCutoverRequest, StartTestRequest, WatchLifecycleEventsRequest,
};
use support::*;
use tonic::Code;

/// Takes a replicating server through test and cutover to CUTOVER.
async fn cut_over(server: &TestServer, id: &str) {
    let mut client = server.servers().await;
    wait_for_state(&mut client, id, LifeCycleState::ReadyForTest).await;
    client
        .start_test(StartTestRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("StartTest");
    client
        .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
            source_server_id: id.into(),
            state: LifeCycleState::ReadyForCutover as i32,
            ..Default::default()
        })
        .await
        .expect("ReadyForCutover");
    client
        .start_cutover(StartCutoverRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("StartCutover");
    client
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("FinalizeCutover");
}

/// Every event of the log, from revision 1 to `head`, in order.
async fn log_until(server: &TestServer, head: u64) -> Vec<cutover::pb::v1::LifecycleEvent> {
    let mut lifecycle = server.lifecycle().await;
    let mut watch = lifecycle
        .watch_lifecycle_events(WatchLifecycleEventsRequest {
            start_revision: 1,
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let mut events = Vec::new();
    while events
        .last()
        .map_or(0, |e: &cutover::pb::v1::LifecycleEvent| e.revision)
        < head
    {
        let message = tokio::time::timeout(DEADLINE, watch.message())
            .await
            .expect("in time")
            .expect("ok")
            .expect("open");
        if let Some(Kind::Event(event)) = message.kind {
            events.push(event);
        }
    }
    events
}

#[tokio::test]
async fn a_cross_process_agent_drives_a_server_to_cutover_and_uninstalls() {
    let server = TestServer::start(&["--no-simulator", "--sim-speed", "60"]);
    let agent = AgentProcess::start(&server, &["--speed", "60"]);
    let id = agent.server_id.clone();
    assert!(
        id.starts_with("s-"),
        "the first report registered a server: {id}"
    );
    cut_over(&server, &id).await;

    let client = server.servers().await;
    let done = eventually(DEADLINE, "the agent to uninstall and tear down", || {
        let mut client = client.clone();
        let id = id.clone();
        async move {
            let s = get_server(&mut client, &id).await;
            s.follow_up_tasks
                .iter()
                .all(|t| t.state == FollowUpTaskState::Completed as i32)
                .then_some(s)
        }
    })
    .await;
    assert!(
        done.follow_up_tasks
            .iter()
            .all(|t| t.attempts >= 1 && !t.overdue),
        "{:?}",
        done.follow_up_tasks
    );
    let info = done.data_replication_info.expect("info");
    assert_eq!(
        info.data_replication_state,
        DataReplicationState::Disconnected as i32
    );

    let types: Vec<i32> = log_until(&server, 1)
        .await
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types[0], LifecycleEventType::SourceServerRegistered as i32);
    let all = server_events(&server, &id).await;
    for wanted in [
        LifecycleEventType::FollowUpTaskDelivered,
        LifecycleEventType::FollowUpTaskCompleted,
    ] {
        assert!(all.contains(&(wanted as i32)), "{wanted:?} recorded");
    }
}

/// Event types of every event about `id` so far.
async fn server_events(server: &TestServer, id: &str) -> BTreeSet<i32> {
    let mut lifecycle = server.lifecycle().await;
    let mut snapshot = lifecycle
        .watch_lifecycle_events(WatchLifecycleEventsRequest {
            send_initial_snapshot: true,
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let head = loop {
        match snapshot.message().await.expect("ok").expect("open").kind {
            Some(Kind::SnapshotEnd(end)) => break end.revision,
            _ => continue,
        }
    };
    log_until(server, head)
        .await
        .into_iter()
        .filter(|e| e.resource_id == id)
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn a_final_sync_interrupted_by_kill_9_finishes_once_after_restart() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::start_in(dir.path(), &["--sim-speed", "10"]);
    let (_, job_id) = waiting_job(&server, 24, 2).await;
    let mut jobs = server.jobs().await;
    jobs.cut_over_replication_job(CutOverReplicationJobRequest {
        job_id: job_id.clone(),
        sync_data: true,
        ..Default::default()
    })
    .await
    .expect("CutOverReplicationJob");
    let midway = wait_for_job(&mut jobs, &job_id, |job| {
        job.business_status == Business::Syncing as i32
            && job.progress > 0.0
            && job.progress < 100.0
    })
    .await;
    server.kill();

    let server = TestServer::start_in(dir.path(), &["--sim-speed", "10"]);
    let mut jobs = server.jobs().await;
    let done = wait_for_job(&mut jobs, &job_id, |job| {
        job.status == Status::Finished as i32
    })
    .await;
    let finals = done
        .replication_job_runs
        .iter()
        .filter(|run| run.image_id == "FINAL")
        .count();
    assert_eq!(
        finals, 1,
        "the final sync is recorded once: {:?}",
        done.replication_job_runs
    );

    let head = {
        let mut lifecycle = server.lifecycle().await;
        let mut snapshot = lifecycle
            .watch_lifecycle_events(WatchLifecycleEventsRequest {
                send_initial_snapshot: true,
                ..Default::default()
            })
            .await
            .expect("watch")
            .into_inner();
        loop {
            if let Some(Kind::SnapshotEnd(end)) =
                snapshot.message().await.expect("ok").expect("open").kind
            {
                break end.revision;
            }
        }
    };
    let events = log_until(&server, head).await;
    let revisions: Vec<u64> = events.iter().map(|e| e.revision).collect();
    assert_eq!(
        revisions,
        (1..=head).collect::<Vec<_>>(),
        "no revision missing or repeated across the kill"
    );
    // The final sync never went back: progress rose monotonically from
    // where it was when the service died, through Cleaning, to Finished.
    let progress: Vec<f64> = events
        .iter()
        .filter(|e| e.resource_id == job_id)
        .filter_map(|e| match e.new_state.as_ref()?.state.as_ref()? {
            cutover::pb::v1::resource_state::State::ReplicationJob(job)
                if job.business_status == Business::Syncing as i32
                    && e.revision > first_cut_over(&events, &job_id) =>
            {
                Some(job.progress)
            }
            _ => None,
        })
        .collect();
    assert!(progress.contains(&midway.progress), "{progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "the sync restarted: {progress:?}"
    );
    let cleanings = events
        .iter()
        .filter(|e| e.resource_id == job_id)
        .filter(|e| matches!(e.new_state.as_ref().and_then(|s| s.state.as_ref()),
            Some(cutover::pb::v1::resource_state::State::ReplicationJob(j)) if j.business_status == Business::Cleaning as i32 && j.progress >= 100.0))
        .filter(|e| e.event_type == LifecycleEventType::ReplicationJobStatusChanged as i32)
        .count();
    assert_eq!(cleanings, 1, "the sync completed exactly once");
}

/// The revision of the job's cutover (its first Syncing after Waiting).
fn first_cut_over(events: &[cutover::pb::v1::LifecycleEvent], job_id: &str) -> u64 {
    events
        .iter()
        .filter(|e| e.resource_id == job_id)
        .find(|e| {
            let was_waiting = matches!(e.previous_state.as_ref().and_then(|s| s.state.as_ref()),
                Some(cutover::pb::v1::resource_state::State::ReplicationJob(j)) if j.status == Status::Waiting as i32);
            was_waiting
        })
        .map_or(0, |e| e.revision)
}

#[tokio::test]
async fn an_agent_that_never_acknowledges_uninstall_makes_the_task_overdue() {
    // At 600x, the 10-minute uninstall deadline passes in one second.
    let server = TestServer::start(&["--no-simulator", "--sim-speed", "600"]);
    let agent = AgentProcess::start(&server, &["--speed", "600", "--ignore-uninstall"]);
    let id = agent.server_id.clone();
    cut_over(&server, &id).await;
    let client = server.servers().await;
    let overdue = eventually(DEADLINE, "the uninstall task to go overdue", || {
        let mut client = client.clone();
        let id = id.clone();
        async move {
            let s = get_server(&mut client, &id).await;
            let task = s
                .follow_up_tasks
                .iter()
                .find(|t| t.kind == FollowUpTaskKind::AgentUninstall as i32)?
                .clone();
            task.overdue.then_some((s, task))
        }
    })
    .await;
    let (server_state, task) = overdue;
    assert_eq!(
        task.state,
        FollowUpTaskState::Pending as i32,
        "never acknowledged"
    );
    assert!(
        task.attempts >= 2,
        "redelivered with back-off: {} attempts",
        task.attempts
    );
    let teardown = server_state
        .follow_up_tasks
        .iter()
        .find(|t| t.kind == FollowUpTaskKind::ReplicationResourcesTeardown as i32)
        .expect("teardown");
    assert_eq!(teardown.attempts, 0, "teardown waits for the uninstall");
    assert!(server_events(&server, &id)
        .await
        .contains(&(LifecycleEventType::FollowUpTaskOverdue as i32)));
    // The overdue mark came no earlier than the deadline.
    let deadline = task.deadline_date_time.expect("deadline");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(now >= deadline.seconds, "overdue before its deadline");
}

#[tokio::test]
async fn a_vanished_agent_stalls_replication_and_blocks_a_synced_cutover() {
    // At 300x the five-minute heartbeat window and silence are one second.
    let server = TestServer::start(&["--no-simulator", "--sim-speed", "300"]);
    let mut agent = AgentProcess::start(&server, &["--speed", "300"]);
    let source = agent.server_id.clone();
    let job_id = waiting_job_for(&server, &source, 24, 2).await;
    agent.kill();

    let client = server.servers().await;
    let stalled = eventually(DEADLINE, "replication to stall", || {
        let mut client = client.clone();
        let source = source.clone();
        async move {
            let s = get_server(&mut client, &source).await;
            let info = s.data_replication_info.clone()?;
            (info.data_replication_state == DataReplicationState::Stalled as i32).then_some(s)
        }
    })
    .await;
    assert_eq!(stalled.source_state, SourceState::Unavailable as i32);
    assert_eq!(
        stalled
            .data_replication_info
            .and_then(|i| i.data_replication_error)
            .map(|e| e.error)
            .as_deref(),
        Some("AGENT_NOT_SEEN")
    );

    let mut jobs = server.jobs().await;
    let refused = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            sync_data: true,
            ..Default::default()
        })
        .await
        .expect_err("the source is unreachable");
    let status = expect_error(
        refused,
        Code::FailedPrecondition,
        "SourceServerState.Invalid",
    );
    assert!(
        status
            .message()
            .starts_with("The specified source server status: Unavailable is invalid."),
        "{}",
        status.message()
    );
    assert_eq!(
        get_job(&mut jobs, &job_id).await.status,
        Status::Waiting as i32,
        "nothing changed"
    );
}
