//! Command delivery at its edges: a task completed between the listing of
//! pending commands and the recording of their deliveries, and a stream
//! drained by a graceful shutdown.

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{harness::Harness, Failure, Listener};
use crate::domain::{
    agent_command::{Acknowledgement, CommandKind, CommandOutcome},
    FollowUpTaskKind,
};

const DONE: Acknowledgement = Acknowledgement {
    progress: 100.0,
    outcome: Some(CommandOutcome::Succeeded),
};

/// The race the soak run found: the infrastructure listed two teardowns,
/// then one completed (acknowledged on another connection) before its
/// delivery was recorded. Recording it failed as "not a pending task", and
/// the whole command stream ended with INVALID_ARGUMENT, the other
/// teardown undelivered. Now the completed one is left out and the other
/// goes out.
#[tokio::test]
async fn a_task_completed_after_it_was_listed_is_left_out_and_the_others_go_out() {
    let h = Harness::start().await;
    let first = h.finalized_server().await.server.id.clone();
    let second = h.finalized_server().await.server.id.clone();
    let listed = h
        .plane
        .pending_commands(&h.tenant, &Listener::Infrastructure)
        .await
        .expect("the pending teardowns");
    assert_eq!(listed.len(), 2, "{listed:?}");
    let completed = listed
        .iter()
        .find(|c| c.source_server_id == first)
        .expect("the first server's teardown")
        .clone();
    h.plane
        .acknowledge_command(&h.tenant, &completed.id, DONE, None)
        .await
        .expect("the teardown's acknowledgement");

    let due = listed
        .into_iter()
        .map(|command| {
            let attempt = command.attempts + 1;
            (command, attempt)
        })
        .collect();
    let delivered = h
        .plane
        .record_deliveries(&h.tenant, due)
        .await
        .expect("a task completed meanwhile is not an error");
    let delivered: Vec<_> = delivered
        .iter()
        .map(|d| (d.command.source_server_id.clone(), d.attempt))
        .collect();
    assert_eq!(delivered, vec![(second.clone(), 1)]);

    let attempts = |server: &crate::domain::SourceServer| {
        server
            .follow_up_tasks
            .iter()
            .find(|t| t.kind == FollowUpTaskKind::ReplicationResourcesTeardown)
            .map(|t| (t.attempts, t.is_pending()))
    };
    assert_eq!(
        attempts(&*h.server(&first).await),
        Some((1, false)),
        "completed, and no delivery recorded after it"
    );
    assert_eq!(attempts(&*h.server(&second).await), Some((1, true)));
}

/// At a graceful shutdown a command stream ends as UNAVAILABLE with
/// ServiceShuttingDown: not as an internal error, which the transport logs
/// at ERROR, once per connected agent, on every restart.
#[tokio::test]
async fn a_drained_command_stream_ends_as_shutting_down_not_as_an_internal_error() {
    let h = Harness::start().await;
    let id = h.finalized_server().await.server.id.clone();
    let drain = CancellationToken::new();
    let stream = h
        .plane
        .command_stream(h.tenant.clone(), Listener::Agent(id), drain.clone())
        .await
        .expect("the agent's command stream");
    let mut stream = Box::pin(stream);
    let first = stream
        .next()
        .await
        .expect("a delivery")
        .expect("not an error");
    assert_eq!(first.command.kind, CommandKind::UninstallAgent);

    drain.cancel();
    let end = stream.next().await.expect("the stream's last item");
    let err = end.expect_err("the stream ends with an error");
    assert!(matches!(err, Failure::ShuttingDown), "{err:?}");
    assert!(stream.next().await.is_none(), "nothing after the end");
}
