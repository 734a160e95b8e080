//! Lifecycle events as `StoredEvent`, and back.

use crate::domain::{
    FollowUpTaskId, LifecycleEvent, PendingEvent, Resource, StateSummary, Timestamp,
};
use crate::pb::storage::v1 as pb;
use crate::pb::storage::v1::state_summary::Summary;
use crate::pb::storage::v1::stored_event::Resource as StoredResource;
use crate::store::StoreError;

use super::enums::{enum_value, optional_enum_value, StoredEnum};
use super::{corrupt, job, required, server, within};

/// The storage message of `event`.
pub(super) fn to_message(event: &LifecycleEvent) -> pb::StoredEvent {
    pb::StoredEvent {
        revision: event.revision,
        time_ms: event.event.time.0,
        event_type: event.event.event_type.to_stored(),
        previous: event.event.previous.as_ref().map(summary_message),
        new: Some(summary_message(&event.event.new)),
        resource: Some(match &event.resource {
            Resource::SourceServer(server) => {
                StoredResource::SourceServer(server::to_message(server))
            }
            Resource::ReplicationJob(job) => StoredResource::ReplicationJob(job::to_message(job)),
        }),
        changes: event
            .event
            .changes
            .iter()
            .map(|aspect| aspect.to_stored())
            .collect(),
        task_id: event.event.task.as_ref().map(|id| id.as_str().to_owned()),
        source_state: event.event.source_state.map(StoredEnum::to_stored),
    }
}

/// The lifecycle event stored as `message`.
pub(super) fn from_message(message: pb::StoredEvent) -> Result<LifecycleEvent, StoreError> {
    let event = PendingEvent {
        time: Timestamp(message.time_ms),
        event_type: enum_value(message.event_type, "event_type")?,
        previous: message
            .previous
            .map(summary)
            .transpose()
            .map_err(|err| within("previous", err))?,
        new: summary(required(message.new, "new")?).map_err(|err| within("new", err))?,
        changes: message
            .changes
            .iter()
            .map(|&aspect| enum_value(aspect, "changes"))
            .collect::<Result<_, _>>()?,
        task: message
            .task_id
            .map(|id| FollowUpTaskId::parse("task_id", &id))
            .transpose()
            .map_err(|err| corrupt("task_id", err))?,
        source_state: optional_enum_value(message.source_state, "source_state")?,
    };
    let resource = match message.resource {
        Some(StoredResource::SourceServer(stored)) => Resource::SourceServer(
            server::from_message(stored).map_err(|err| within("source_server", err))?,
        ),
        Some(StoredResource::ReplicationJob(stored)) => Resource::ReplicationJob(
            job::from_message(stored).map_err(|err| within("replication_job", err))?,
        ),
        None => return Err(corrupt("resource", "missing")),
    };
    Ok(LifecycleEvent {
        revision: message.revision,
        event,
        resource,
    })
}

fn summary_message(summary: &StateSummary) -> pb::StateSummary {
    let summary = match *summary {
        StateSummary::SourceServer {
            life_cycle_state,
            data_replication_state,
            is_archived,
            pending_follow_up_tasks,
        } => Summary::SourceServer(pb::SourceServerSummary {
            life_cycle_state: life_cycle_state.to_stored(),
            data_replication_state: data_replication_state.to_stored(),
            is_archived,
            pending_follow_up_tasks,
        }),
        StateSummary::ReplicationJob {
            status,
            business_status,
            progress,
        } => Summary::ReplicationJob(pb::ReplicationJobSummary {
            status: status.to_stored(),
            business_status: business_status.map(StoredEnum::to_stored),
            progress,
        }),
    };
    pb::StateSummary {
        summary: Some(summary),
    }
}

fn summary(message: pb::StateSummary) -> Result<StateSummary, StoreError> {
    match message.summary {
        Some(Summary::SourceServer(server)) => Ok(StateSummary::SourceServer {
            life_cycle_state: enum_value(server.life_cycle_state, "life_cycle_state")?,
            data_replication_state: enum_value(
                server.data_replication_state,
                "data_replication_state",
            )?,
            is_archived: server.is_archived,
            pending_follow_up_tasks: server.pending_follow_up_tasks,
        }),
        Some(Summary::ReplicationJob(job)) => Ok(StateSummary::ReplicationJob {
            status: enum_value(job.status, "status")?,
            business_status: optional_enum_value(job.business_status, "business_status")?,
            progress: job.progress,
        }),
        None => Err(corrupt("summary", "missing")),
    }
}
