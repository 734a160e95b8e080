//! Lifecycle events and the state summaries they move between.

use crate::{
    domain::{LifecycleEvent, Resource, SourceServer, StateSummary},
    pb::v1::{self as pb, lifecycle_event, resource_state},
};

use super::{
    encode, encode_optional, follow_up_task, replication_job, saturating_i32, source_server,
    timestamp,
};

/// A committed event as the watch stream sends it.
///
/// `arn` names the source servers events carry. Their source state is the
/// one the change left (recorded with the event); events recorded before
/// it was have none (UNSPECIFIED).
pub fn lifecycle_event(
    event: &LifecycleEvent,
    arn: impl Fn(&SourceServer) -> String,
) -> pb::LifecycleEvent {
    let resource = &event.resource;
    pb::LifecycleEvent {
        revision: event.revision,
        time: Some(timestamp(event.event.time)),
        account_id: resource.account_id().to_string(),
        resource_type: encode(resource.kind()),
        resource_id: resource.id().to_owned(),
        event_type: encode(event.event.event_type),
        previous_state: event.event.previous.as_ref().map(resource_state),
        new_state: Some(resource_state(&event.event.new)),
        resource: Some(match resource {
            Resource::SourceServer(server) => lifecycle_event::Resource::SourceServer(
                source_server(server, arn(server), event.event.source_state),
            ),
            Resource::ReplicationJob(job) => {
                lifecycle_event::Resource::ReplicationJob(replication_job(job))
            }
        }),
        changes: event
            .event
            .aspects()
            .iter()
            .map(|&aspect| encode(aspect))
            .collect(),
        follow_up_task: match (resource, &event.event.task) {
            (Resource::SourceServer(server), Some(id)) => server
                .follow_up_tasks
                .iter()
                .find(|task| &task.id == id)
                .map(follow_up_task),
            _ => None,
        },
    }
}

/// The state-bearing fields an event moves between.
pub fn resource_state(summary: &StateSummary) -> pb::ResourceState {
    let state = match *summary {
        StateSummary::SourceServer {
            life_cycle_state,
            data_replication_state,
            is_archived,
            pending_follow_up_tasks,
        } => resource_state::State::SourceServer(pb::SourceServerStateSummary {
            life_cycle_state: encode(life_cycle_state),
            data_replication_state: encode(data_replication_state),
            is_archived,
            pending_follow_up_tasks: saturating_i32(pending_follow_up_tasks),
        }),
        StateSummary::ReplicationJob {
            status,
            business_status,
            progress,
        } => resource_state::State::ReplicationJob(pb::ReplicationJobStateSummary {
            status: encode(status),
            business_status: encode_optional(business_status),
            progress,
        }),
    };
    pb::ResourceState { state: Some(state) }
}
