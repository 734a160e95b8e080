//! Commands for a source server's agent, derived from durable state: a
//! pending follow-up task, or the step of a replication job's run that
//! needs the data plane. Nothing about a command is stored apart from the
//! state it is derived from, so commands survive restarts by construction,
//! and one that is done is never derived (so never delivered) again.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    source_server::cloud_enum, BusinessStatus, DomainError, Executor, FollowUpTaskId,
    FollowUpTaskKind, ReplicationJob, ReplicationJobId, ReplicationJobStatus, RunPurpose,
    SourceServer, SourceServerId, Timestamp,
};

cloud_enum!(
    /// What an agent is told to do.
    CommandKind {
        /// Run an incremental sync of a replication job.
        RunIncrementalSync => "RUN_INCREMENTAL_SYNC",
        /// Run a replication job's last full sync.
        RunFinalSync => "RUN_FINAL_SYNC",
        /// Release a job's intermediate resources.
        ReleaseResources => "RELEASE_RESOURCES",
        /// Uninstall the replication agent.
        UninstallAgent => "UNINSTALL_AGENT",
        /// Delete replication servers, staging disks and snapshots.
        TeardownReplicationResources => "TEARDOWN_REPLICATION_RESOURCES",
    }
);

/// What a command id refers to; its text form is the command id agents see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommandRef {
    /// A follow-up task of a source server.
    FollowUp {
        /// The server.
        server: SourceServerId,
        /// The task.
        task: FollowUpTaskId,
    },
    /// One step of one run of a replication job; the run is named by its
    /// start, so a later run's commands never match an earlier run's.
    JobStep {
        /// The job.
        job: ReplicationJobId,
        /// The kind of step.
        kind: CommandKind,
        /// When the run started (ms since the epoch).
        run_start: Timestamp,
    },
}

impl fmt::Display for CommandRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandRef::FollowUp { server, task } => write!(f, "{server}/{task}"),
            CommandRef::JobStep {
                job,
                kind,
                run_start,
            } => write!(f, "{job}/{}/{}", kind.as_str(), run_start.0),
        }
    }
}

impl CommandRef {
    /// Parses a command id as [`fmt::Display`] writes it.
    pub fn parse(field: &str, id: &str) -> Result<CommandRef, DomainError> {
        let invalid = || {
            DomainError::invalid_field(
                field,
                format!("{id:?} is not a command id this service issued"),
            )
        };
        let parts: Vec<&str> = id.split('/').collect();
        match parts.as_slice() {
            [server, task] => Ok(CommandRef::FollowUp {
                server: SourceServerId::parse(field, server).map_err(|_| invalid())?,
                task: FollowUpTaskId::parse(field, task).map_err(|_| invalid())?,
            }),
            [job, kind, start] => Ok(CommandRef::JobStep {
                job: ReplicationJobId::parse(field, job).map_err(|_| invalid())?,
                kind: CommandKind::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str() == *kind)
                    .ok_or_else(invalid)?,
                run_start: Timestamp(start.parse().map_err(|_| invalid())?),
            }),
            _ => Err(invalid()),
        }
    }
}

/// A command as derived from state, ready to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCommand {
    /// Its id.
    pub id: CommandRef,
    /// What to do.
    pub kind: CommandKind,
    /// The server whose agent runs it.
    pub source_server_id: SourceServerId,
    /// When it must be done by, if it has a deadline.
    pub deadline: Option<Timestamp>,
    /// Progress already acknowledged (0-100).
    pub progress: f64,
    /// Deliveries recorded so far (follow-up tasks only).
    pub attempts: u32,
}

/// The pending follow-up tasks of `server` that `executor` carries out.
/// The two kinds never wait for each other: the teardown of target-side
/// resources goes ahead whether or not the source's agent ever uninstalls.
pub fn follow_up_commands(server: &SourceServer, executor: Executor) -> Vec<AgentCommand> {
    server
        .follow_up_tasks
        .iter()
        .filter(|task| task.is_pending() && task.kind.executor() == executor)
        .map(|task| AgentCommand {
            id: CommandRef::FollowUp {
                server: server.id.clone(),
                task: task.id.clone(),
            },
            kind: match task.kind {
                FollowUpTaskKind::AgentUninstall => CommandKind::UninstallAgent,
                FollowUpTaskKind::ReplicationResourcesTeardown => {
                    CommandKind::TeardownReplicationResources
                }
            },
            source_server_id: server.id.clone(),
            deadline: Some(task.deadline),
            progress: task.progress,
            attempts: task.attempts,
        })
        .collect()
}

/// The data plane's step of `job`'s run in progress, if it has one: a
/// sync while Preparing or Syncing, the release while Cleaning. Processing
/// (building the image) is the service's own step.
pub fn job_command(job: &ReplicationJob) -> Option<AgentCommand> {
    if job.status != ReplicationJobStatus::Running {
        return None;
    }
    let run = job.current_run?;
    let kind = match (job.business_status?, run.purpose) {
        (BusinessStatus::Preparing | BusinessStatus::Syncing, RunPurpose::Replication) => {
            CommandKind::RunIncrementalSync
        }
        (BusinessStatus::Syncing, RunPurpose::FinalSync) => CommandKind::RunFinalSync,
        (BusinessStatus::Cleaning, _) => CommandKind::ReleaseResources,
        _ => return None,
    };
    Some(AgentCommand {
        id: CommandRef::JobStep {
            job: job.id.clone(),
            kind,
            run_start: run.start,
        },
        kind,
        source_server_id: job.source_id.clone(),
        deadline: None,
        progress: if kind == CommandKind::ReleaseResources {
            0.0
        } else {
            job.progress
        },
        attempts: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_round_trip() {
        let refs = [
            CommandRef::FollowUp {
                server: SourceServerId::parse("f", "s-0123456789abcdefA").unwrap(),
                task: FollowUpTaskId::parse("f", "task-0123456789abcdefghij").unwrap(),
            },
            CommandRef::JobStep {
                job: ReplicationJobId::parse("f", "j-0123456789abcdefghij").unwrap(),
                kind: CommandKind::RunFinalSync,
                run_start: Timestamp(1_700_000_000_123),
            },
        ];
        for command in refs {
            assert_eq!(
                CommandRef::parse("command_id", &command.to_string()).unwrap(),
                command
            );
        }
    }

    #[test]
    fn foreign_command_ids_are_rejected() {
        for bad in [
            "",
            "x",
            "s-0123456789abcdefA/",
            "j-0123456789abcdefghij/NOPE/1",
            "j-0123456789abcdefghij/RUN_FINAL_SYNC/x",
            "a/b/c/d",
        ] {
            assert!(CommandRef::parse("command_id", bad).is_err(), "{bad}");
        }
    }
}

/// How a command ended, when it did.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandOutcome {
    /// Done.
    Succeeded,
    /// Failed with this error.
    Failed(String),
}

/// An agent's acknowledgement of a command: progress so far and, once it
/// ended, its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledgement {
    /// Progress, 0-100.
    pub progress: f64,
    /// `None` while the command still runs.
    pub outcome: Option<CommandOutcome>,
}
