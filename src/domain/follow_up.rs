//! Follow-up tasks: effects an operation promises to carry out later, on
//! the data plane, by a deadline.

use serde::{Deserialize, Serialize};

use super::{
    source_server::{cloud_enum, ReplicationType},
    FollowUpTaskId, Millis, Timestamp,
};

cloud_enum!(
    /// What a follow-up task does.
    FollowUpTaskKind {
        /// Tell the replication agent to uninstall itself.
        AgentUninstall => "AGENT_UNINSTALL",
        /// Delete replication servers, staging disks and snapshots.
        ReplicationResourcesTeardown => "REPLICATION_RESOURCES_TEARDOWN",
    }
);

cloud_enum!(
    /// Who carries a command out. The agent runs on the source machine,
    /// which is often switched off right after its cutover; the
    /// replication infrastructure is the target side's (replication
    /// servers, staging disks, snapshots), so what it does never waits for
    /// the agent.
    Executor {
        /// The source server's replication agent.
        SourceAgent => "SOURCE_AGENT",
        /// The target side's replication infrastructure.
        ReplicationInfrastructure => "REPLICATION_INFRASTRUCTURE",
    }
);

impl FollowUpTaskKind {
    /// Who carries the task out: the agent uninstalls itself; the
    /// infrastructure deletes the target-side resources.
    pub fn executor(self) -> Executor {
        match self {
            FollowUpTaskKind::AgentUninstall => Executor::SourceAgent,
            FollowUpTaskKind::ReplicationResourcesTeardown => Executor::ReplicationInfrastructure,
        }
    }

    /// Whether a server replicated as `replication` has this task: an
    /// agentless (snapshot-shipping) server has no agent to uninstall, and
    /// the task could only go overdue.
    pub fn applies_to(self, replication: ReplicationType) -> bool {
        !(self == FollowUpTaskKind::AgentUninstall
            && replication == ReplicationType::SnapshotShipping)
    }

    /// Time allowed from recording to completion (MGN: 10 and 90 minutes).
    pub fn deadline(self) -> Millis {
        match self {
            FollowUpTaskKind::AgentUninstall => Millis::minutes(10),
            FollowUpTaskKind::ReplicationResourcesTeardown => Millis::minutes(90),
        }
    }
}

/// A durable follow-up task, embedded in the resource it belongs to so that
/// it is recorded in the same transaction as the operation that caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpTask {
    /// Unique id.
    pub id: FollowUpTaskId,
    /// What it does.
    pub kind: FollowUpTaskKind,
    /// When it was recorded.
    pub created: Timestamp,
    /// When it must be done by.
    pub deadline: Timestamp,
    /// When it was done.
    pub completed: Option<Timestamp>,
    /// Deliveries to the data plane so far.
    pub attempts: u32,
    /// Set once the deadline passed before completion.
    pub overdue: bool,
    /// Progress the data plane acknowledged, 0-100: a redelivery resumes
    /// from it instead of starting over.
    #[serde(default)]
    pub progress: f64,
}

impl FollowUpTask {
    /// A pending task recorded at `now`, due after `deadline` (the kind's
    /// deadline, possibly compressed by the deployment's time scale).
    pub fn record(
        id: FollowUpTaskId,
        kind: FollowUpTaskKind,
        now: Timestamp,
        deadline: Millis,
    ) -> Self {
        FollowUpTask {
            id,
            kind,
            created: now,
            deadline: now.plus(deadline),
            completed: None,
            attempts: 0,
            overdue: false,
            progress: 0.0,
        }
    }

    /// True while not completed.
    pub fn is_pending(&self) -> bool {
        self.completed.is_none()
    }
}
