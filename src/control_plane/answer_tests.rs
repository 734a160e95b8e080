//! A mutation's answer: SMC's state of a source server as its commit's
//! event records it, read once; a client token's replay, which commits
//! nothing, answers the state the server has now.

use super::{
    harness::{create_job, Harness},
    requests::{ChangeServerLifeCycleState, JobSpecInput, ScheduleInput},
    ClientToken,
};
use crate::domain::{
    LifeCycleState, LifecycleEvent, Millis, Resource, SourceServerId, SourceState,
};

/// Every event in the log.
async fn log(h: &Harness) -> Vec<LifecycleEvent> {
    h.plane
        .store
        .events_from(1, usize::MAX)
        .await
        .expect("the log")
}

/// SMC's state the last event of `server` records.
async fn recorded_state(h: &Harness, server: &SourceServerId) -> Option<SourceState> {
    log(h)
        .await
        .into_iter()
        .rfind(|event| matches!(&event.resource, Resource::SourceServer(s) if &s.id == server))
        .and_then(|event| event.event.source_state)
}

fn ready_for_cutover(id: &SourceServerId) -> ChangeServerLifeCycleState {
    ChangeServerLifeCycleState::new("state", id.clone(), LifeCycleState::ReadyForCutover)
        .expect("a target")
}

#[tokio::test]
async fn a_change_answers_the_state_its_event_records() {
    let h = Harness::start().await;
    let id = h.replicating_server().await;
    let spec = JobSpecInput {
        name: "wave-1",
        description: "",
        schedule: ScheduleInput::RunOnce,
    };
    let job = h
        .plane
        .create_replication_job(&h.tenant, &create_job(&id, spec), None)
        .await
        .expect("CreateReplicationJob");
    h.plane
        .start_replication_job(&h.tenant, &job, None)
        .await
        .expect("StartReplicationJob");

    let answer = h
        .plane
        .change_life_cycle_state(&h.tenant, &ready_for_cutover(&id), None)
        .await
        .expect("READY_FOR_CUTOVER");

    // The server's job is Running: InUse, not the Available its agent's
    // report alone would give.
    assert_eq!(answer.source_state, SourceState::InUse);
    assert_eq!(recorded_state(&h, &id).await, Some(SourceState::InUse));
}

#[tokio::test]
async fn a_replayed_change_answers_the_state_now_and_records_nothing() {
    let h = Harness::start().await;
    let id = h.replicating_server().await;
    let token = ClientToken::new("retry-me", "ready-for-cutover".into())
        .expect("a valid token")
        .expect("a token");
    let first = h
        .plane
        .change_life_cycle_state(&h.tenant, &ready_for_cutover(&id), Some(&token))
        .await
        .expect("READY_FOR_CUTOVER");
    assert_eq!(first.source_state, SourceState::Available);
    let head = log(&h).await.len();

    // The agent falls silent past the heartbeat window (5 minutes).
    h.clock.advance(Millis::minutes(6));
    let replay = h
        .plane
        .change_life_cycle_state(&h.tenant, &ready_for_cutover(&id), Some(&token))
        .await
        .expect("the replay");

    assert_eq!(replay.server, first.server);
    assert_eq!(replay.source_state, SourceState::Unavailable);
    assert_eq!(log(&h).await.len(), head, "a replay commits nothing");
    assert_eq!(recorded_state(&h, &id).await, Some(SourceState::Available));
}
