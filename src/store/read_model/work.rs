//! Indexes across accounts for the service's own work: resources the data
//! plane and the scheduler act on, and follow-up tasks by deadline.

use std::collections::{BTreeMap, BTreeSet};

use super::Entry;
use crate::domain::{
    AccountId, Executor, FollowUpTaskId, LifeCycleState, ReplicationJob, ReplicationJobId,
    ReplicationJobStatus, SourceServer, SourceServerId, Timestamp,
};

/// A pending follow-up task not yet flagged overdue, ordered by deadline.
type DueTask = (Timestamp, FollowUpTaskId, AccountId, SourceServerId);

#[derive(Debug, Default)]
pub(super) struct PendingWork {
    /// Active servers by the revision of their last change (unique).
    servers: BTreeMap<u64, (AccountId, SourceServerId)>,
    /// Running or Waiting jobs by the revision of their last change.
    jobs: BTreeMap<u64, (AccountId, ReplicationJobId)>,
    due: BTreeSet<DueTask>,
    /// Servers with a pending task the replication infrastructure carries
    /// out, by account.
    infrastructure: BTreeMap<AccountId, BTreeSet<SourceServerId>>,
    pending_tasks: u64,
    overdue_tasks: u64,
}

/// A server the data plane or the scheduler must act on.
fn is_active(server: &SourceServer) -> bool {
    let settled = matches!(
        server.life_cycle.state,
        LifeCycleState::Cutover | LifeCycleState::Disconnected
    ) || server.is_archived;
    !settled || server.follow_up_tasks.iter().any(|t| t.is_pending())
}

fn is_active_job(job: &ReplicationJob) -> bool {
    matches!(
        job.status,
        ReplicationJobStatus::Running | ReplicationJobStatus::Waiting
    )
}

fn due_tasks(server: &SourceServer) -> impl Iterator<Item = DueTask> + '_ {
    server
        .follow_up_tasks
        .iter()
        .filter(|t| t.is_pending() && !t.overdue)
        .map(|t| {
            (
                t.deadline,
                t.id.clone(),
                server.account_id.clone(),
                server.id.clone(),
            )
        })
}

/// True when `server` has a pending task for the replication
/// infrastructure.
fn awaits_infrastructure(server: &SourceServer) -> bool {
    server
        .follow_up_tasks
        .iter()
        .any(|t| t.is_pending() && t.kind.executor() == Executor::ReplicationInfrastructure)
}

/// (pending, overdue among them) tasks of a server.
fn task_counts(server: &SourceServer) -> (u64, u64) {
    server
        .follow_up_tasks
        .iter()
        .filter(|t| t.is_pending())
        .fold((0, 0), |(p, o), t| (p + 1, o + u64::from(t.overdue)))
}

impl PendingWork {
    pub(super) fn server_changed(
        &mut self,
        previous: Option<&Entry<SourceServer>>,
        entry: &Entry<SourceServer>,
    ) {
        if let Some(old) = previous {
            self.servers.remove(&old.revision);
            if let Some(servers) = self.infrastructure.get_mut(&old.value.account_id) {
                servers.remove(&old.value.id);
                if servers.is_empty() {
                    self.infrastructure.remove(&old.value.account_id);
                }
            }
            for task in due_tasks(&old.value) {
                self.due.remove(&task);
            }
            let (pending, overdue) = task_counts(&old.value);
            self.pending_tasks = self.pending_tasks.saturating_sub(pending);
            self.overdue_tasks = self.overdue_tasks.saturating_sub(overdue);
        }
        let server = &entry.value;
        if is_active(server) {
            self.servers.insert(
                entry.revision,
                (server.account_id.clone(), server.id.clone()),
            );
        }
        if awaits_infrastructure(server) {
            self.infrastructure
                .entry(server.account_id.clone())
                .or_default()
                .insert(server.id.clone());
        }
        self.due.extend(due_tasks(server));
        let (pending, overdue) = task_counts(server);
        self.pending_tasks += pending;
        self.overdue_tasks += overdue;
    }

    pub(super) fn job_changed(
        &mut self,
        previous: Option<&Entry<ReplicationJob>>,
        entry: &Entry<ReplicationJob>,
    ) {
        if let Some(old) = previous {
            self.jobs.remove(&old.revision);
        }
        let job = &entry.value;
        if is_active_job(job) {
            self.jobs
                .insert(entry.revision, (job.account_id.clone(), job.id.clone()));
        }
    }

    pub(super) fn active_servers(
        &self,
        limit: usize,
    ) -> impl Iterator<Item = &(AccountId, SourceServerId)> {
        self.servers.values().take(limit)
    }

    /// The servers of `account` with a pending task for the replication
    /// infrastructure.
    pub(super) fn awaiting_infrastructure(
        &self,
        account: &AccountId,
    ) -> impl Iterator<Item = &SourceServerId> {
        self.infrastructure.get(account).into_iter().flatten()
    }

    pub(super) fn active_jobs(
        &self,
        limit: usize,
    ) -> impl Iterator<Item = &(AccountId, ReplicationJobId)> {
        self.jobs.values().take(limit)
    }

    pub(super) fn overdue_tasks(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Vec<(AccountId, SourceServerId, FollowUpTaskId)> {
        self.due
            .iter()
            .take_while(|(deadline, ..)| *deadline <= now)
            .take(limit)
            .map(|(_, task, account, server)| (account.clone(), server.clone(), task.clone()))
            .collect()
    }

    pub(super) fn task_counts(&self) -> (u64, u64) {
        (self.pending_tasks, self.overdue_tasks)
    }
}
