//! Events say everything they changed: each lists every aspect it touched
//! (an event-type filter matches any of them), carries the source server's
//! SMC state as the change left it, and a follow-up task event names its
//! task.

use std::collections::BTreeSet;

use cutover::pb::v1::{
    lifecycle_event::Resource, DataReplicationState, FollowUpTaskState, LifecycleEventType as Type,
    SourceState, WatchLifecycleEventsRequest,
};
use cutover_testkit::*;

#[tokio::test]
async fn a_replication_state_watch_sees_finalize_cutover_and_task_events_name_their_task() {
    let server = TestServer::in_process(&["--sim-speed", "60"]);
    let mut client = server.servers().await;
    let id = register(&mut client).await;
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(
        &mut lifecycle,
        WatchLifecycleEventsRequest {
            resource_ids: vec![id.clone()],
            event_types: vec![
                Type::DataReplicationStateChanged as i32,
                Type::FollowUpTaskCompleted as i32,
            ],
            ..Default::default()
        },
    )
    .await;
    take_to_cutover(&mut client, &id).await;

    let mut saw_available = false;
    let mut completed_kinds = BTreeSet::new();
    let mut finalized = None;
    while completed_kinds.len() < 2 {
        let event = match next_message(&mut watch).await {
            cutover::pb::v1::watch_lifecycle_events_response::Kind::Event(event) => event,
            _ => continue,
        };
        let Some(Resource::SourceServer(server)) = &event.resource else {
            panic!("only the server is watched")
        };
        assert_ne!(
            server.source_state,
            SourceState::Unspecified as i32,
            "{event:?}"
        );
        let state = server
            .data_replication_info
            .as_ref()
            .map_or(0, |info| info.data_replication_state);
        if state == DataReplicationState::Continuous as i32 {
            saw_available |= server.source_state == SourceState::Available as i32;
        }
        if event
            .changes
            .contains(&(Type::LifeCycleStateChanged as i32))
        {
            finalized = Some(event.clone());
        }
        if event
            .changes
            .contains(&(Type::FollowUpTaskCompleted as i32))
        {
            let task = event.follow_up_task.as_ref().expect("the task is named");
            assert_eq!(task.state, FollowUpTaskState::Completed as i32);
            assert!(server
                .follow_up_tasks
                .iter()
                .any(|t| t.task_id == task.task_id));
            completed_kinds.insert(task.kind);
        }
    }
    assert!(
        saw_available,
        "a CONTINUOUS report leaves its source Available"
    );
    let finalized = finalized.expect("FinalizeCutover passes the replication-state filter");
    assert_eq!(finalized.event_type, Type::LifeCycleStateChanged as i32);
    assert_eq!(
        finalized.changes,
        [
            Type::LifeCycleStateChanged as i32,
            Type::DataReplicationStateChanged as i32
        ]
    );
    let Some(Resource::SourceServer(cut_over)) = finalized.resource else {
        panic!("a server event")
    };
    assert_eq!(
        cut_over
            .data_replication_info
            .map(|i| i.data_replication_state),
        Some(DataReplicationState::Disconnected as i32)
    );
    assert_eq!(cut_over.source_state, SourceState::Unavailable as i32);
}
