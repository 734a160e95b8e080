//! The domain: pure state machines of source servers (MGN) and replication
//! jobs (SMC). Commands take the current state and `now`, and return the new
//! state with exactly one event, or a [`DomainError`]. No I/O, no clock.

pub mod agent_command;
mod error;
mod event;
mod follow_up;
mod ids;
pub mod replication_job;
pub mod source_server;
mod time;

pub use error::{DomainError, FieldViolation, ResourceKind};
pub use event::{EventType, LifecycleEvent, PendingEvent, Resource, StateSummary, Transition};
pub use follow_up::{Executor, FollowUpTask, FollowUpTaskKind};
pub use ids::{
    AccountId, AgentInstanceId, Ec2InstanceId, FollowUpTaskId, LaunchJobId, ReplicationJobId,
    SourceServerId,
};
pub use replication_job::{
    BusinessStatus, CurrentRun, CutOver, JobRun, JobSchedule, ReplicationJob, ReplicationJobStatus,
    RunPurpose, RunType,
};
pub use source_server::{
    CloudEnum, Cpu, DataReplicationError, DataReplicationInfo, DataReplicationInitiation,
    DataReplicationState, FirstBoot, InitiationStepName, InitiationStepStatus, LastAction,
    LaunchedInstance, LifeCycle, LifeCycleState, NetworkInterface, ReplicatedDisk, ReplicationType,
    SourceDisk, SourceProperties, SourceServer, SourceState,
};
pub use time::{Millis, TimeScale, Timestamp};

#[cfg(test)]
mod proptests;
