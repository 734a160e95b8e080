//! What the data plane moves on a source server: agents' replication
//! reports, follow-up tasks being delivered, done or overdue, and an agent
//! falling silent.

use crate::domain::{
    DataReplicationError, DataReplicationInitiation, DataReplicationState, DomainError,
    FollowUpTaskId, InitiationStepName, InitiationStepStatus, LifeCycleState, Millis,
    ReplicatedDisk, SourceProperties, SourceServer, SourceState, Timestamp, Transition,
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

/// An agent's report on replication.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationReport {
    /// Replication state.
    pub state: DataReplicationState,
    /// Disks with their counters.
    pub replicated_disks: Vec<ReplicatedDisk>,
    /// Lag, once continuous.
    pub lag: Option<Millis>,
    /// Estimated end of initial sync.
    pub eta: Option<Timestamp>,
    /// Initiation steps, when initiating.
    pub initiation_steps: Option<Vec<(InitiationStepName, InitiationStepStatus)>>,
    /// Last error.
    pub error: Option<DataReplicationError>,
    /// New source facts, when they changed.
    pub source_properties: Option<SourceProperties>,
}

/// MGN replicates at most 60 disks per server.
const MAX_DISKS: usize = 60;

fn validate_disks(disks: &[ReplicatedDisk]) -> Result<(), DomainError> {
    if disks.len() > MAX_DISKS {
        return Err(DomainError::invalid_field(
            "replicated_disks",
            format!(
                "at most {MAX_DISKS} disks are replicated, got {}",
                disks.len()
            ),
        ));
    }
    for disk in disks {
        let counters = [
            disk.total_storage_bytes,
            disk.replicated_storage_bytes,
            disk.rescanned_storage_bytes,
            disk.backlogged_storage_bytes,
        ];
        if counters.iter().any(|&c| c < 0)
            || disk.replicated_storage_bytes > disk.total_storage_bytes
        {
            return Err(DomainError::invalid_field(
                "replicated_disks",
                format!(
                    "disk {:?}: byte counters must be non-negative and replicated <= total",
                    disk.device_name
                ),
            ));
        }
    }
    Ok(())
}

impl SourceServer {
    /// True while replication is connected: before cutover or disconnection.
    pub fn is_replicating(&self) -> bool {
        !matches!(
            self.life_cycle.state,
            LifeCycleState::Cutover | LifeCycleState::Disconnected
        ) && !self.is_archived
    }

    /// SMC's view: Available if an agent was seen within `heartbeat_window`
    /// of `now`, replication is neither DISCONNECTED nor STOPPED and the
    /// server is not archived; InUse if Available with a Running job.
    pub fn source_state(
        &self,
        now: Timestamp,
        heartbeat_window: Millis,
        has_running_job: bool,
    ) -> SourceState {
        let seen_recently = self
            .life_cycle
            .last_seen_by_service
            .is_some_and(|seen| now.since(seen) <= heartbeat_window);
        let replicating = !matches!(
            self.data_replication_info.state,
            DataReplicationState::Disconnected | DataReplicationState::Stopped
        );
        match (
            seen_recently && replicating && !self.is_archived,
            has_running_job,
        ) {
            (true, true) => SourceState::InUse,
            (true, false) => SourceState::Available,
            (false, _) => SourceState::Unavailable,
        }
    }

    /// An agent's report: refreshes lastSeen, replication counters and
    /// state; the first report moves PENDING_INSTALLATION to NOT_READY, and
    /// reaching CONTINUOUS moves NOT_READY to READY_FOR_TEST.
    pub fn report_replication(
        &self,
        report: ReplicationReport,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        if !self.is_replicating() {
            return Err(
                self.conflict("replication is disconnected; agent reports are no longer accepted")
            );
        }
        if report.state == DataReplicationState::Disconnected {
            return Err(DomainError::invalid_field(
                "data_replication_state",
                "agents cannot report DISCONNECTED; use DisconnectFromService",
            ));
        }
        if report.lag.is_some_and(|lag| lag.0 < 0) {
            return Err(DomainError::invalid_field(
                "lag_duration",
                "must not be negative",
            ));
        }
        validate_disks(&report.replicated_disks)?;
        let mut next = self.clone();
        let info = &mut next.data_replication_info;
        info.state = report.state;
        info.replicated_disks = report.replicated_disks;
        info.lag = match report.state {
            DataReplicationState::Continuous => Some(report.lag.unwrap_or(Millis(0))),
            _ => report.lag.or(info.lag),
        };
        info.eta = match report.state {
            DataReplicationState::InitialSync => report.eta,
            _ => None,
        };
        info.error = report.error;
        if let Some(steps) = report.initiation_steps {
            let start = info.initiation.as_ref().map_or(now, |i| i.start);
            info.initiation = Some(DataReplicationInitiation {
                start,
                next_attempt: None,
                steps,
            });
        }
        if report.state == DataReplicationState::Continuous {
            info.last_snapshot = Some(now);
        }
        let any_bytes = info
            .replicated_disks
            .iter()
            .any(|d| d.replicated_storage_bytes > 0);
        if let Some(properties) = report.source_properties {
            next.source_properties = SourceProperties {
                last_updated: Some(now),
                ..properties
            };
        }
        let life = &mut next.life_cycle;
        life.last_seen_by_service = Some(now);
        if any_bytes && life.first_byte.is_none() {
            life.first_byte = Some(now);
        }
        if let Some(first) = life.first_byte {
            life.elapsed_replication = Some(now.since(first));
        }
        life.state = match life.state {
            LifeCycleState::PendingInstallation | LifeCycleState::Discovered => {
                LifeCycleState::NotReady
            }
            state => state,
        };
        if life.state == LifeCycleState::NotReady
            && report.state == DataReplicationState::Continuous
        {
            life.state = LifeCycleState::ReadyForTest;
        }
        Ok(self.changed(next, now))
    }

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

    /// The data plane acknowledged `progress` (0-100) of a pending task
    /// that is not done yet: kept, so that a redelivery resumes from it.
    /// Progress never goes back; an acknowledgement that adds nothing is a
    /// conflict (and writes nothing).
    pub fn record_follow_up_progress(
        &self,
        id: &FollowUpTaskId,
        progress: f64,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        let index = self.pending_task(id)?;
        let progress = progress.clamp(0.0, 100.0);
        if progress.is_nan() || progress <= self.follow_up_tasks[index].progress {
            return Err(self.conflict(format!("task {id} is already at {progress}% or beyond")));
        }
        let mut next = self.clone();
        next.follow_up_tasks[index].progress = progress;
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
