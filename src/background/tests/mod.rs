//! The control plane's time-driven behaviour as the background work drives it on a [`ManualClock`] and a real
//! SQLite store: stalls, overdue follow-up tasks and scheduled runs are
//! decided by one `schedule_once` pass at a chosen instant, and delivery
//! back-off runs on tokio's paused clock. None of these tests waits on the
//! wall clock.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::schedule_once;

use crate::{
    control_plane::{
        harness::{create_job, Harness, ONE_MS, START},
        requests::{CreateReplicationJob, JobSpecInput, ScheduleInput},
        Listener,
    },
    domain::{
        agent_command::{Acknowledgement, CommandKind, CommandOutcome},
        DataReplicationState, FollowUpTaskKind, Millis, ReplicationJobStatus, RunType,
        SourceServer, SourceServerId, SourceState,
    },
};

/// Moves the clock `span` on and runs one scheduler pass.
async fn advance(h: &Harness, span: Millis) {
    h.clock.advance(span);
    schedule_once(&h.plane, None).await;
}

/// An hourly job on `source`, keeping two images.
fn hourly(source: &SourceServerId) -> CreateReplicationJob {
    create_job(
        source,
        JobSpecInput {
            name: "hourly",
            description: "",
            schedule: ScheduleInput::Incremental {
                frequency_hours: 1,
                images_to_keep: 2,
            },
        },
    )
}

fn overdue_kinds(server: &SourceServer) -> Vec<FollowUpTaskKind> {
    server
        .follow_up_tasks
        .iter()
        .filter(|t| t.overdue)
        .map(|t| t.kind)
        .collect()
}

#[tokio::test]
async fn a_source_is_available_while_its_agent_reported_within_the_heartbeat_window() {
    let h = Harness::start().await;
    let id = h.replicating_server().await;
    let state = async || {
        let view = h.plane.get_source_server(&h.tenant, &id).await;
        view.expect("GetSourceServer").source_state
    };
    assert_eq!(state().await, SourceState::Available);

    h.clock.advance(h.plane.heartbeat_window());
    assert_eq!(
        state().await,
        SourceState::Available,
        "the window is inclusive"
    );

    h.clock.advance(ONE_MS);
    assert_eq!(state().await, SourceState::Unavailable);
    let job = hourly(&id);
    let refused = h.plane.create_replication_job(&h.tenant, &job, None);
    assert!(
        refused.await.is_err(),
        "no job is created for an unreachable source"
    );

    h.report(&id).await;
    assert_eq!(
        state().await,
        SourceState::Available,
        "a report is a heartbeat"
    );
    let created = h.plane.create_replication_job(&h.tenant, &job, None);
    created.await.expect("CreateReplicationJob");
}

#[tokio::test]
async fn replication_stalls_once_the_agent_was_silent_for_longer_than_allowed() {
    let h = Harness::start().await;
    let id = h.replicating_server().await;
    let silence = h.plane.agent_silence();

    advance(&h, silence).await;
    let server = h.server(&id).await;
    assert_eq!(
        server.data_replication_info.state,
        DataReplicationState::Continuous,
        "silent for exactly the allowed time is not yet stalled"
    );

    advance(&h, ONE_MS).await;
    let server = h.server(&id).await;
    assert_eq!(
        server.data_replication_info.state,
        DataReplicationState::Stalled
    );
    let error = server.data_replication_info.error.as_ref();
    assert_eq!(error.map(|e| e.error.as_str()), Some("AGENT_NOT_SEEN"));

    h.report(&id).await;
    let server = h.server(&id).await;
    assert_eq!(
        server.data_replication_info.state,
        DataReplicationState::Continuous,
        "the next report ends the stall"
    );
}

#[tokio::test]
async fn follow_up_tasks_turn_overdue_at_their_deadlines_and_not_before() {
    let h = Harness::start().await;
    let id = h.finalized_server().await.server.id.clone();

    advance(&h, Millis(Millis::minutes(10).0 - 1)).await;
    assert!(overdue_kinds(&*h.server(&id).await).is_empty());

    advance(&h, ONE_MS).await;
    assert_eq!(
        overdue_kinds(&*h.server(&id).await),
        [FollowUpTaskKind::AgentUninstall],
        "the uninstall is due 10 minutes after FinalizeCutover"
    );

    advance(&h, Millis(Millis::minutes(80).0 - 1)).await;
    assert_eq!(overdue_kinds(&*h.server(&id).await).len(), 1);

    advance(&h, ONE_MS).await;
    let server = h.server(&id).await;
    assert_eq!(
        overdue_kinds(&server),
        [
            FollowUpTaskKind::AgentUninstall,
            FollowUpTaskKind::ReplicationResourcesTeardown
        ],
        "the teardown is due 90 minutes after FinalizeCutover"
    );
    assert!(
        server.follow_up_tasks.iter().all(|t| t.is_pending()),
        "overdue tasks stay pending: they are still delivered"
    );
}

#[tokio::test]
async fn an_incremental_job_runs_again_once_its_frequency_has_passed() {
    let h = Harness::start().await;
    let source = h.replicating_server().await;
    let (plane, tenant) = (&h.plane, &h.tenant);
    let job = plane
        .create_replication_job(tenant, &hourly(&source), None)
        .await
        .expect("CreateReplicationJob");
    plane
        .start_replication_job(tenant, &job, None)
        .await
        .expect("StartReplicationJob");
    let commands = plane
        .pending_commands(tenant, &Listener::Agent(source.clone()))
        .await
        .expect("the agent's commands");
    let sync = commands
        .iter()
        .find(|c| c.kind == CommandKind::RunIncrementalSync)
        .expect("the first run's sync is pending");
    let done = Acknowledgement {
        progress: 100.0,
        outcome: Some(CommandOutcome::Succeeded),
    };
    plane
        .acknowledge_command(tenant, &sync.id, done, None)
        .await
        .expect("the sync's acknowledgement");
    let waiting = plane.get_replication_job(tenant, &job).await.expect("job");
    assert_eq!(waiting.status, ReplicationJobStatus::Waiting);
    assert_eq!(waiting.next_run, Some(START.plus(Millis::hours(1))));

    advance(&h, Millis(Millis::hours(1).0 - 1)).await;
    let job_now = plane.get_replication_job(tenant, &job).await.expect("job");
    assert_eq!(job_now.status, ReplicationJobStatus::Waiting);

    advance(&h, ONE_MS).await;
    let job_now = plane.get_replication_job(tenant, &job).await.expect("job");
    assert_eq!(job_now.status, ReplicationJobStatus::Running);
    let run = job_now.current_run.as_ref().expect("a run in progress");
    assert_eq!(run.run_type, RunType::Schedule);
    assert_eq!(run.start, START.plus(Millis::hours(1)));
    assert_eq!(job_now.next_run, None);
}

/// Tokio's paused clock jumps straight to the next timer whenever the
/// runtime is idle, so the 5 s and 10 s waits take no wall time and their
/// lengths are exact.
#[tokio::test(start_paused = true)]
async fn an_unacknowledged_command_is_delivered_again_with_doubling_waits() {
    let h = Harness::start().await;
    let view = h.finalized_server().await;
    let id = view.server.id.clone();
    let stream = h
        .plane
        .command_stream(
            h.tenant.clone(),
            Listener::Agent(id.clone()),
            CancellationToken::new(),
        )
        .await
        .expect("the agent's command stream");
    let mut stream = Box::pin(stream);
    let mut next = async || {
        let delivery = stream.next().await.expect("a delivery");
        delivery.expect("not an error")
    };

    let first = next().await;
    assert_eq!(first.command.kind, CommandKind::UninstallAgent);
    assert_eq!(first.attempt, 1);
    let delivered = tokio::time::Instant::now();

    let second = next().await;
    assert_eq!(
        (second.command.id.clone(), second.attempt),
        (first.command.id.clone(), 2)
    );
    let waited = delivered.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_millis(5_100)).contains(&waited),
        "first redelivery after 5 s, was {waited:?}"
    );

    let redelivered = tokio::time::Instant::now();
    let third = next().await;
    assert_eq!(third.attempt, 3);
    let waited = redelivered.elapsed();
    assert!(
        (Duration::from_secs(10)..Duration::from_millis(10_100)).contains(&waited),
        "second redelivery after 10 s, was {waited:?}"
    );

    let server = h.server(&id).await;
    let uninstall = server
        .follow_up_tasks
        .iter()
        .find(|t| t.kind == FollowUpTaskKind::AgentUninstall)
        .expect("the uninstall task");
    assert_eq!(uninstall.attempts, 3, "every delivery is recorded durably");

    let done = Acknowledgement {
        progress: 100.0,
        outcome: Some(CommandOutcome::Succeeded),
    };
    h.plane
        .acknowledge_command(&h.tenant, &first.command.id, done, None)
        .await
        .expect("the uninstall's acknowledgement");
    let after = tokio::time::timeout(Duration::from_secs(3600), next()).await;
    assert!(
        after.is_err(),
        "an acknowledged command is never delivered again, got {after:?}"
    );
}
