//! Lifecycle events: every change of a resource is exactly one event, typed
//! by the most significant thing it changed, and listing every aspect it
//! changed (FinalizeCutover changes the lifecycle and the replication
//! state: a watcher of either sees it).

use serde::{Deserialize, Serialize};

use super::{
    source_server::cloud_enum, AccountId, BusinessStatus, DataReplicationState, FollowUpTask,
    FollowUpTaskId, LifeCycleState, ReplicationJob, ReplicationJobStatus, ResourceKind,
    SourceServer, SourceState, Timestamp,
};

cloud_enum!(
    /// What an event records.
    EventType {
        /// A source server was registered.
        SourceServerRegistered => "SOURCE_SERVER_REGISTERED",
        /// Lifecycle state changed.
        LifeCycleStateChanged => "LIFE_CYCLE_STATE_CHANGED",
        /// Replication state changed, lifecycle unchanged.
        DataReplicationStateChanged => "DATA_REPLICATION_STATE_CHANGED",
        /// Progress, lag or facts changed, no state changed.
        ReplicationProgress => "REPLICATION_PROGRESS",
        /// Archived.
        SourceServerArchived => "SOURCE_SERVER_ARCHIVED",
        /// A follow-up task completed.
        FollowUpTaskCompleted => "FOLLOW_UP_TASK_COMPLETED",
        /// A follow-up task missed its deadline.
        FollowUpTaskOverdue => "FOLLOW_UP_TASK_OVERDUE",
        /// A job was created.
        ReplicationJobCreated => "REPLICATION_JOB_CREATED",
        /// A job's status or business status changed.
        ReplicationJobStatusChanged => "REPLICATION_JOB_STATUS_CHANGED",
        /// A job's progress changed, status unchanged.
        ReplicationJobProgress => "REPLICATION_JOB_PROGRESS",
        /// A follow-up task was delivered to the data plane (again).
        FollowUpTaskDelivered => "FOLLOW_UP_TASK_DELIVERED",
        /// A pending follow-up task's acknowledged progress advanced.
        FollowUpTaskProgress => "FOLLOW_UP_TASK_PROGRESS",
    }
);

/// A resource of either kind.
// Values are moved whole between the store and the handlers, one at a time,
// never held in bulk; boxing the larger variant would only add an
// allocation per write.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Resource {
    /// A source server.
    SourceServer(SourceServer),
    /// A replication job.
    ReplicationJob(ReplicationJob),
}

impl Resource {
    /// Kind of resource.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::SourceServer(_) => ResourceKind::SourceServer,
            Resource::ReplicationJob(_) => ResourceKind::ReplicationJob,
        }
    }

    /// The resource's id.
    pub fn id(&self) -> &str {
        match self {
            Resource::SourceServer(s) => s.id.as_str(),
            Resource::ReplicationJob(j) => j.id.as_str(),
        }
    }

    /// Owning account.
    pub fn account_id(&self) -> &AccountId {
        match self {
            Resource::SourceServer(s) => &s.account_id,
            Resource::ReplicationJob(j) => &j.account_id,
        }
    }

    /// The state-bearing fields.
    pub fn summary(&self) -> StateSummary {
        match self {
            Resource::SourceServer(s) => StateSummary::of_server(s),
            Resource::ReplicationJob(j) => StateSummary::of_job(j),
        }
    }
}

/// The state-bearing fields an event moves between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StateSummary {
    /// A source server's.
    SourceServer {
        /// Lifecycle state.
        life_cycle_state: LifeCycleState,
        /// Replication state.
        data_replication_state: DataReplicationState,
        /// Archived.
        is_archived: bool,
        /// Pending follow-up tasks.
        pending_follow_up_tasks: u32,
    },
    /// A replication job's.
    ReplicationJob {
        /// Status.
        status: ReplicationJobStatus,
        /// Business status.
        business_status: Option<BusinessStatus>,
        /// Progress.
        progress: f64,
    },
}

impl StateSummary {
    /// Summary of a source server.
    pub fn of_server(s: &SourceServer) -> Self {
        StateSummary::SourceServer {
            life_cycle_state: s.life_cycle.state,
            data_replication_state: s.data_replication_info.state,
            is_archived: s.is_archived,
            pending_follow_up_tasks: s.follow_up_tasks.iter().filter(|t| t.is_pending()).count()
                as u32,
        }
    }

    /// Summary of a replication job.
    pub fn of_job(j: &ReplicationJob) -> Self {
        StateSummary::ReplicationJob {
            status: j.status,
            business_status: j.business_status,
            progress: j.progress,
        }
    }
}

/// An event as a command produces it, before the store gives it a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    /// When the change happened (the command's `now`).
    pub time: Timestamp,
    /// What it records: the most significant aspect it changed.
    pub event_type: EventType,
    /// State before; `None` for a creation.
    pub previous: Option<StateSummary>,
    /// State after.
    pub new: StateSummary,
    /// Every aspect the change touched, `event_type` first. Empty in events
    /// recorded before aspects were: they changed `event_type` only.
    #[serde(default)]
    pub changes: Vec<EventType>,
    /// The follow-up task a task event (completed, overdue, delivered) is
    /// about.
    #[serde(default)]
    pub task: Option<FollowUpTaskId>,
    /// SMC's state of the source server as the change left it; set by the
    /// control plane, which knows the server's jobs.
    #[serde(default)]
    pub source_state: Option<SourceState>,
}

impl PendingEvent {
    /// Every aspect the change touched, `event_type` first.
    pub fn aspects(&self) -> &[EventType] {
        match self.changes.is_empty() {
            true => std::slice::from_ref(&self.event_type),
            false => &self.changes,
        }
    }
}

/// A committed event: a pending one with its revision and the resource as
/// it was after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    /// Gap-free position in the deployment's log.
    pub revision: u64,
    /// The change.
    pub event: PendingEvent,
    /// The resource after the change.
    pub resource: Resource,
}

/// The outcome of a successful command: the resource after it, and the one
/// event that records the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition<R> {
    /// The resource after the change.
    pub resource: R,
    /// The event recording it.
    pub event: PendingEvent,
}

impl Transition<SourceServer> {
    /// The transition from `before` (`None` for a creation) to `after`,
    /// listing every aspect that changed, the most significant first.
    pub fn of_server(before: Option<&SourceServer>, after: SourceServer, now: Timestamp) -> Self {
        let changes: Vec<EventType> = match before {
            None => vec![EventType::SourceServerRegistered],
            Some(b) => {
                let touched = [
                    (
                        b.life_cycle.state != after.life_cycle.state,
                        EventType::LifeCycleStateChanged,
                    ),
                    (
                        b.is_archived != after.is_archived,
                        EventType::SourceServerArchived,
                    ),
                    (
                        b.data_replication_info.state != after.data_replication_info.state,
                        EventType::DataReplicationStateChanged,
                    ),
                    (
                        completed(b) != completed(&after),
                        EventType::FollowUpTaskCompleted,
                    ),
                    (
                        overdue(b) != overdue(&after),
                        EventType::FollowUpTaskOverdue,
                    ),
                    (
                        task_progress(b) != task_progress(&after),
                        EventType::FollowUpTaskProgress,
                    ),
                    (
                        deliveries(b) != deliveries(&after),
                        EventType::FollowUpTaskDelivered,
                    ),
                ];
                let changed: Vec<EventType> = touched
                    .into_iter()
                    .filter_map(|(changed, aspect)| changed.then_some(aspect))
                    .collect();
                match changed.is_empty() {
                    true => vec![EventType::ReplicationProgress],
                    false => changed,
                }
            }
        };
        let task_event = changes.iter().any(|aspect| {
            matches!(
                aspect,
                EventType::FollowUpTaskCompleted
                    | EventType::FollowUpTaskOverdue
                    | EventType::FollowUpTaskDelivered
                    | EventType::FollowUpTaskProgress
            )
        });
        let task = before
            .filter(|_| task_event)
            .and_then(|b| changed_task(b, &after))
            .map(|t| t.id.clone());
        Transition {
            event: PendingEvent {
                time: now,
                event_type: changes[0],
                previous: before.map(StateSummary::of_server),
                new: StateSummary::of_server(&after),
                changes,
                task,
                source_state: None,
            },
            resource: after,
        }
    }
}

impl Transition<ReplicationJob> {
    /// The transition from `before` (`None` for a creation) to `after`.
    pub fn of_job(before: Option<&ReplicationJob>, after: ReplicationJob, now: Timestamp) -> Self {
        let event_type = match before {
            None => EventType::ReplicationJobCreated,
            Some(b) if b.status != after.status || b.business_status != after.business_status => {
                EventType::ReplicationJobStatusChanged
            }
            Some(_) => EventType::ReplicationJobProgress,
        };
        Transition {
            event: PendingEvent {
                time: now,
                event_type,
                previous: before.map(StateSummary::of_job),
                new: StateSummary::of_job(&after),
                changes: vec![event_type],
                task: None,
                source_state: None,
            },
            resource: after,
        }
    }
}

/// The recorded follow-up task whose state (completion, overdue mark,
/// deliveries, acknowledged progress) the change moved, if one did.
fn changed_task<'a>(before: &SourceServer, after: &'a SourceServer) -> Option<&'a FollowUpTask> {
    after.follow_up_tasks.iter().find(|task| {
        before
            .follow_up_tasks
            .iter()
            .find(|old| old.id == task.id)
            .is_some_and(|old| {
                (old.completed, old.overdue, old.attempts, old.progress)
                    != (task.completed, task.overdue, task.attempts, task.progress)
            })
    })
}

fn completed(s: &SourceServer) -> usize {
    s.follow_up_tasks.iter().filter(|t| !t.is_pending()).count()
}

fn deliveries(s: &SourceServer) -> u64 {
    s.follow_up_tasks
        .iter()
        .map(|t| u64::from(t.attempts))
        .sum()
}

/// Acknowledged progress over all tasks: it grows exactly when a task's
/// progress does (a new task starts at 0 and adds nothing).
fn task_progress(s: &SourceServer) -> f64 {
    s.follow_up_tasks.iter().map(|t| t.progress).sum()
}

fn overdue(s: &SourceServer) -> usize {
    s.follow_up_tasks.iter().filter(|t| t.overdue).count()
}
