//! Lifecycle events and the state summaries they move between.

use crate::{
    domain::{LifecycleEvent, Resource, SourceServer, SourceState, StateSummary},
    pb::v1::{self as pb, lifecycle_event, resource_state},
};

use super::{
    encode, encode_optional, replication_job, saturating_i32, source_server, timestamp, ServerView,
};

/// A committed event as the watch stream sends it.
///
/// `view` is the ARN and derived source state of the source server the
/// event carries; the caller computes it (the source state needs the store)
/// and passes `None` for a replication job's event. A source server's event
/// without a view shows an empty ARN and `SOURCE_STATE_UNSPECIFIED`.
pub fn lifecycle_event(event: &LifecycleEvent, view: Option<&ServerView>) -> pb::LifecycleEvent {
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
            Resource::SourceServer(server) => lifecycle_event::Resource::SourceServer(match view {
                Some(view) => source_server(server, view),
                None => unviewed_server(server),
            }),
            Resource::ReplicationJob(job) => {
                lifecycle_event::Resource::ReplicationJob(replication_job(job))
            }
        }),
    }
}

/// A source server without its view: an empty ARN and
/// `SOURCE_STATE_UNSPECIFIED`.
fn unviewed_server(server: &SourceServer) -> pb::SourceServer {
    let placeholder = ServerView {
        arn: String::new(),
        source_state: SourceState::Unavailable,
    };
    pb::SourceServer {
        source_state: pb::SourceState::Unspecified.into(),
        ..source_server(server, &placeholder)
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
