//! What the data plane moves on a source server: follow-up tasks being
//! delivered, done or overdue, and an agent falling silent.

use crate::domain::{
    DataReplicationError, DataReplicationState, DomainError, FollowUpTaskId, Millis, SourceServer,
    Timestamp, Transition,
};

/// Replication states in which an agent is expected to report.
const REPORTING: [DataReplicationState; 6] = [
    DataReplicationState::Initiating,
    DataReplicationState::InitialSync,
    DataReplicationState::Backlog,
    DataReplicationState::CreatingSnapshot,
    DataReplicationState::Continuous,
    DataReplicationState::Rescan,
];

impl SourceServer {
    fn pending_task(&self, id: &FollowUpTaskId) -> Result<usize, DomainError> {
        self.follow_up_tasks
            .iter()
            .position(|t| &t.id == id && t.is_pending())
            .ok_or_else(|| {
                DomainError::invalid_field(
                    "task_id",
                    format!("{id} is not a pending task of {}", self.id),
                )
            })
    }

    /// The data plane carried out a follow-up task. A task that is already
    /// completed is refused, so no step is ever recorded twice.
    pub fn complete_follow_up(
        &self,
        id: &FollowUpTaskId,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        let index = self.pending_task(id)?;
        let mut next = self.clone();
        let task = &mut next.follow_up_tasks[index];
        task.completed = Some(now);
        task.attempts = task.attempts.max(1);
        Ok(self.changed(next, now))
    }

    /// A pending task's deadline passed: it is flagged overdue (once).
    pub fn mark_follow_up_overdue(
        &self,
        id: &FollowUpTaskId,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        let index = self.pending_task(id)?;
        let task = &self.follow_up_tasks[index];
        if task.overdue || now < task.deadline {
            return Err(self.conflict(format!(
                "task {id} is not past its deadline, or already overdue"
            )));
        }
        let mut next = self.clone();
        next.follow_up_tasks[index].overdue = true;
        Ok(self.changed(next, now))
    }

    /// A pending follow-up task was delivered to the data plane once more.
    pub fn record_follow_up_delivery(
        &self,
        id: &FollowUpTaskId,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        let index = self.pending_task(id)?;
        let mut next = self.clone();
        let task = &mut next.follow_up_tasks[index];
        task.attempts = task.attempts.saturating_add(1);
        Ok(self.changed(next, now))
    }

    /// True when the agent should be reporting but was last seen more than
    /// `silence` before `now`.
    pub fn agent_is_silent(&self, now: Timestamp, silence: Millis) -> bool {
        self.is_replicating()
            && REPORTING.contains(&self.data_replication_info.state)
            && self
                .life_cycle
                .last_seen_by_service
                .is_some_and(|seen| now.since(seen) > silence)
    }

    /// The agent fell silent: replication is STALLED with MGN's
    /// `AGENT_NOT_SEEN` until its next report. The lag is kept: it still
    /// says how far behind the replica was when the agent was last seen.
    pub fn mark_stalled(
        &self,
        silence: Millis,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        if !self.agent_is_silent(now, silence) {
            return Err(self.conflict("the agent is not silent, or replication is not running"));
        }
        let mut next = self.clone();
        next.data_replication_info.state = DataReplicationState::Stalled;
        next.data_replication_info.eta = None;
        next.data_replication_info.error = Some(DataReplicationError {
            error: "AGENT_NOT_SEEN".into(),
            raw_error: format!(
                "no report from the replication agent for more than {} s",
                silence.0 / 1000
            ),
        });
        Ok(self.changed(next, now))
    }
}
