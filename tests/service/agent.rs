//! The agent protocol across processes: a `cutover-agent` drives a server
//! to CUTOVER, commands survive `kill -9` of the service, the teardown goes
//! ahead without the agent while the uninstall waits for it, an agent that
//! never acknowledges makes its task overdue, and a vanished agent makes
//! its server unreachable. The replication infrastructure (the target
//! side, which tears down) is the service's simulated one; agents are real
//! processes.

use std::collections::BTreeSet;

use cutover::pb::v1::{
    resource_state::State, DataReplicationState, FollowUpTaskKind, FollowUpTaskState,
    LifecycleEvent, LifecycleEventType, ReplicationJobBusinessStatus as Business,
    ReplicationJobStateSummary, ReplicationJobStatus as Status, SourceState,
};
use cutover_testkit::*;

/// Event types of every event about `id` so far.
async fn server_events(server: &TestServer, id: &str) -> BTreeSet<i32> {
    let head = snapshot_head(server).await;
    log_until(server, head)
        .await
        .into_iter()
        .filter(|e| e.resource_id == id)
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn a_cross_process_agent_drives_a_server_to_cutover_and_uninstalls() {
    let server = TestServer::in_process(&["--simulator", "infrastructure", "--sim-speed", "60"]);
    let agent = AgentProcess::start(&server, &["--speed", "60"]);
    let id = agent.server_id.clone();
    assert!(
        id.starts_with("s-"),
        "the first report registered a server: {id}"
    );
    let mut client = server.servers().await;
    take_to_cutover(&mut client, &id).await;

    let done = wait_for_follow_ups(&client, &id).await;
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

    let first = log_until(&server, 1).await;
    assert_eq!(
        first[0].event_type,
        LifecycleEventType::SourceServerRegistered as i32
    );
    let all = server_events(&server, &id).await;
    for wanted in [
        LifecycleEventType::FollowUpTaskDelivered,
        LifecycleEventType::FollowUpTaskCompleted,
    ] {
        assert!(all.contains(&(wanted as i32)), "{wanted:?} recorded");
    }
}

/// The job state an event recorded (`new_state`, or `previous_state` when
/// `previous`), if it is about a job.
fn job_state(event: &LifecycleEvent, previous: bool) -> Option<&ReplicationJobStateSummary> {
    let state = if previous {
        &event.previous_state
    } else {
        &event.new_state
    };
    match state.as_ref()?.state.as_ref()? {
        State::ReplicationJob(job) => Some(job),
        _ => None,
    }
}

#[tokio::test]
async fn a_final_sync_interrupted_by_kill_9_finishes_once_after_restart() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::start_in(dir.path(), &["--sim-speed", "10"]);
    let (_, job_id) = waiting_job(&server, 24, 2).await;
    let mut jobs = server.jobs().await;
    cut_over_job(&mut jobs, &job_id, true)
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
    let done = wait_for_job_status(&mut jobs, &job_id, Status::Finished).await;
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

    let head = snapshot_head(&server).await;
    let events = log_until(&server, head).await;
    let revisions: Vec<u64> = events.iter().map(|e| e.revision).collect();
    assert_eq!(
        revisions,
        (1..=head).collect::<Vec<_>>(),
        "no revision missing or repeated across the kill"
    );
    // The final sync never went back: progress rose monotonically from
    // where it was when the service died, through Cleaning, to Finished.
    let job_events: Vec<&LifecycleEvent> =
        events.iter().filter(|e| e.resource_id == job_id).collect();
    let cut_over_at = job_events
        .iter()
        .find(|e| job_state(e, true).is_some_and(|j| j.status == Status::Waiting as i32))
        .map_or(0, |e| e.revision);
    let progress: Vec<f64> = job_events
        .iter()
        .filter(|e| e.revision > cut_over_at)
        .filter_map(|e| job_state(e, false))
        .filter(|job| job.business_status == Business::Syncing as i32)
        .map(|job| job.progress)
        .collect();
    assert!(progress.contains(&midway.progress), "{progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "the sync restarted: {progress:?}"
    );
    let cleanings = job_events
        .iter()
        .filter(|e| e.event_type == LifecycleEventType::ReplicationJobStatusChanged as i32)
        .filter_map(|e| job_state(e, false))
        .filter(|j| j.business_status == Business::Cleaning as i32 && j.progress >= 100.0)
        .count();
    assert_eq!(cleanings, 1, "the sync completed exactly once");
}

#[tokio::test]
async fn an_agent_that_never_acknowledges_uninstall_makes_the_task_overdue() {
    // At 600x, the 10-minute uninstall deadline passes in one second.
    let server = TestServer::in_process(&["--simulator", "infrastructure", "--sim-speed", "600"]);
    let agent = AgentProcess::start(&server, &["--speed", "600", "--ignore-uninstall"]);
    let id = agent.server_id.clone();
    let mut client = server.servers().await;
    take_to_cutover(&mut client, &id).await;
    let (server_state, task) = poll_server(&client, &id, "the uninstall task to go overdue", |s| {
        let task = s
            .follow_up_tasks
            .iter()
            .find(|t| t.kind == FollowUpTaskKind::AgentUninstall as i32)?
            .clone();
        task.overdue.then_some((s, task))
    })
    .await;
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
    assert!(teardown.attempts >= 1, "the teardown does not wait for it");
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
async fn the_teardown_goes_ahead_without_the_agent_and_the_uninstall_waits_for_it() {
    // At 600x the uninstall's 10 minutes are one second, the teardown's 90
    // minutes nine.
    let server = TestServer::in_process(&["--simulator", "infrastructure", "--sim-speed", "600"]);
    // The agent never gets to uninstall before it is killed.
    let mut agent = AgentProcess::start(&server, &["--speed", "600", "--ignore-uninstall"]);
    let id = agent.server_id.clone();
    let mut client = server.servers().await;
    take_to_cutover(&mut client, &id).await;
    agent.kill();

    let task = |server: &cutover::pb::v1::SourceServer, kind: FollowUpTaskKind| {
        server
            .follow_up_tasks
            .iter()
            .find(|t| t.kind == kind as i32)
            .cloned()
            .expect("task")
    };
    let after = poll_server(
        &client,
        &id,
        "the teardown and the overdue uninstall",
        |s| {
            let teardown = task(&s, FollowUpTaskKind::ReplicationResourcesTeardown);
            let uninstall = task(&s, FollowUpTaskKind::AgentUninstall);
            (teardown.state == FollowUpTaskState::Completed as i32 && uninstall.overdue)
                .then_some(s)
        },
    )
    .await;
    let teardown = task(&after, FollowUpTaskKind::ReplicationResourcesTeardown);
    assert!(!teardown.overdue, "done within its 90 (scaled) minutes");
    let uninstall = task(&after, FollowUpTaskKind::AgentUninstall);
    assert_eq!(uninstall.state, FollowUpTaskState::Pending as i32);
    let events = server_events(&server, &id).await;
    for wanted in [
        LifecycleEventType::FollowUpTaskCompleted,
        LifecycleEventType::FollowUpTaskOverdue,
    ] {
        assert!(events.contains(&(wanted as i32)), "{wanted:?} recorded");
    }

    // The agent comes back: the uninstall is delivered, and done.
    let _back = AgentProcess::start(&server, &["--speed", "600", "--source-server-id", &id]);
    let done = wait_for_follow_ups(&client, &id).await;
    let uninstall = task(&done, FollowUpTaskKind::AgentUninstall);
    assert_eq!(uninstall.state, FollowUpTaskState::Completed as i32);
    assert!(uninstall.overdue, "it stays recorded as late");
}

#[tokio::test]
async fn a_vanished_agent_stalls_replication_and_blocks_a_synced_cutover() {
    // At 300x the five-minute heartbeat window and silence are one second.
    let server = TestServer::in_process(&["--no-simulator", "--sim-speed", "300"]);
    let mut agent = AgentProcess::start(&server, &["--speed", "300"]);
    let source = agent.server_id.clone();
    let job_id = waiting_job_for(&server, &source, 24, 2).await;
    agent.kill();

    let client = server.servers().await;
    let stalled = poll_server(&client, &source, "replication to stall", |s| {
        let info = s.data_replication_info.clone()?;
        (info.data_replication_state == DataReplicationState::Stalled as i32).then_some(s)
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
    let refused = cut_over_job(&mut jobs, &job_id, true)
        .await
        .expect_err("the source is unreachable");
    let status = expect_smc(
        refused,
        "SourceServerState.Invalid",
        "SourceServer",
        &source,
        "Unavailable",
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

#[tokio::test]
async fn a_retried_first_report_registers_one_server() {
    use cutover::pb::v1::{
        agent_service_client::AgentServiceClient, DescribeSourceServersRequest,
        ReportReplicationRequest,
    };
    let server = TestServer::in_process(&["--no-simulator"]);
    let agents = AgentServiceClient::new(server.channel().await);
    let first_report = |instance: &str| ReportReplicationRequest {
        agent_instance_id: instance.to_owned(),
        data_replication_state: DataReplicationState::Initiating as i32,
        ..Default::default()
    };
    // Eight copies of one instance's first report at once (their responses
    // lost, say), then one more after: a single server.
    for instance in ["machine-42", "machine-43"] {
        let reports: Vec<_> = (0..8)
            .map(|_| {
                let mut agents = agents.clone();
                let report = first_report(instance);
                tokio::spawn(async move {
                    agents
                        .report_replication(report)
                        .await
                        .expect("report")
                        .into_inner()
                        .source_server_id
                })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for report in reports {
            ids.insert(report.await.expect("task"));
        }
        assert_eq!(ids.len(), 1, "{instance}: {ids:?}");
        let again = agents
            .clone()
            .report_replication(first_report(instance))
            .await
            .expect("retry")
            .into_inner()
            .source_server_id;
        assert!(ids.contains(&again));
    }
    let listed = server
        .servers()
        .await
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner()
        .items;
    assert_eq!(listed.len(), 2, "one server per agent instance");

    let refused = agents
        .clone()
        .report_replication(first_report("not a valid id!"))
        .await
        .expect_err("a malformed instance id");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
}
