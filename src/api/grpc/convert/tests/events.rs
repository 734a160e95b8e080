//! Domain → proto: lifecycle events and their state summaries.

use super::{arn, full_server, job_with_runs, ts, ACCOUNT, JOB, SERVER};
use crate::{
    api::grpc::convert::{lifecycle_event, replication_job, source_server},
    domain::{EventType, LifecycleEvent, PendingEvent, Resource, StateSummary, Timestamp},
    pb::v1::{self as pb, lifecycle_event, resource_state},
};

#[test]
fn a_source_server_event_carries_states_and_the_viewed_resource() {
    let server = full_server();
    let event = LifecycleEvent {
        revision: 77,
        event: PendingEvent {
            time: Timestamp(1_700_000_004_000),
            event_type: EventType::LifeCycleStateChanged,
            previous: Some(StateSummary::SourceServer {
                life_cycle_state: crate::domain::LifeCycleState::CuttingOver,
                data_replication_state: crate::domain::DataReplicationState::Continuous,
                is_archived: false,
                pending_follow_up_tasks: 0,
            }),
            new: StateSummary::of_server(&server),
            changes: vec![
                EventType::LifeCycleStateChanged,
                EventType::DataReplicationStateChanged,
            ],
            task: None,
            source_state: Some(crate::domain::SourceState::Unavailable),
        },
        resource: Resource::SourceServer(server.clone()),
    };
    let m = lifecycle_event(&event, |_| arn());
    assert_eq!(m.revision, 77);
    assert_eq!(
        m.changes,
        [
            pb::LifecycleEventType::LifeCycleStateChanged as i32,
            pb::LifecycleEventType::DataReplicationStateChanged as i32
        ]
    );
    let Some(pb::lifecycle_event::Resource::SourceServer(viewed)) = &m.resource else {
        panic!("a server event carries its server")
    };
    assert_eq!(viewed.source_state, pb::SourceState::Unavailable as i32);
    assert_eq!(m.time, ts(1_700_000_004_000));
    assert_eq!(m.account_id, ACCOUNT);
    assert_eq!(m.resource_type, pb::ResourceType::SourceServer as i32);
    assert_eq!(m.resource_id, SERVER);
    assert_eq!(
        m.event_type,
        pb::LifecycleEventType::LifeCycleStateChanged as i32
    );
    let summary = |life: pb::LifeCycleState, archived, pending| pb::ResourceState {
        state: Some(resource_state::State::SourceServer(
            pb::SourceServerStateSummary {
                life_cycle_state: life as i32,
                data_replication_state: pb::DataReplicationState::Continuous as i32,
                is_archived: archived,
                pending_follow_up_tasks: pending,
            },
        )),
    };
    assert_eq!(
        m.previous_state,
        Some(summary(pb::LifeCycleState::CuttingOver, false, 0))
    );
    assert_eq!(
        m.new_state,
        Some(summary(pb::LifeCycleState::Cutover, true, 1))
    );
    assert_eq!(
        m.resource,
        Some(lifecycle_event::Resource::SourceServer(source_server(
            &server,
            arn(),
            Some(crate::domain::SourceState::Unavailable)
        )))
    );

    let Some(lifecycle_event::Resource::SourceServer(s)) = m.resource else {
        panic!("expected a source server");
    };
    assert_eq!(
        (s.arn, s.source_state),
        (arn(), pb::SourceState::Unavailable as i32),
        "the source state the change left"
    );
}

#[test]
fn a_job_creation_event_has_no_previous_state() {
    let job = job_with_runs();
    let event = LifecycleEvent {
        revision: 1,
        event: PendingEvent {
            time: Timestamp(5),
            event_type: EventType::ReplicationJobCreated,
            previous: None,
            new: StateSummary::of_job(&job),
            changes: Vec::new(),
            task: None,
            source_state: None,
        },
        resource: Resource::ReplicationJob(job.clone()),
    };
    let m = lifecycle_event(&event, |_| String::new());
    assert_eq!(m.resource_type, pb::ResourceType::ReplicationJob as i32);
    assert_eq!(m.resource_id, JOB);
    assert_eq!(
        m.event_type,
        pb::LifecycleEventType::ReplicationJobCreated as i32
    );
    assert_eq!(m.previous_state, None);
    assert_eq!(
        m.changes,
        [pb::LifecycleEventType::ReplicationJobCreated as i32],
        "an event recorded without its aspects changed its type only"
    );
    assert_eq!(
        m.new_state,
        Some(pb::ResourceState {
            state: Some(resource_state::State::ReplicationJob(
                pb::ReplicationJobStateSummary {
                    status: pb::ReplicationJobStatus::Running as i32,
                    business_status: pb::ReplicationJobBusinessStatus::Cleaning as i32,
                    progress: 42.5,
                }
            )),
        })
    );
    assert_eq!(
        m.resource,
        Some(lifecycle_event::Resource::ReplicationJob(replication_job(
            &job
        )))
    );
}
