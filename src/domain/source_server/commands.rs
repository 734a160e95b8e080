//! Commands on a source server.

use std::collections::BTreeMap;

use crate::domain::{
    AccountId, DataReplicationError, DataReplicationInfo, DataReplicationInitiation,
    DataReplicationState, DomainError, Ec2InstanceId, FirstBoot, FollowUpTask, FollowUpTaskId,
    FollowUpTaskKind, InitiationStepName, InitiationStepStatus, LastAction, LaunchJobId,
    LaunchedInstance, LifeCycle, LifeCycleState, Millis, ReplicatedDisk, ReplicationType,
    ResourceKind, SourceProperties, SourceServer, SourceServerId, SourceState, TimeScale,
    Timestamp, Transition,
};

/// What RegisterSourceServer knows before an agent reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registration {
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Replication type.
    pub replication_type: Option<ReplicationType>,
    /// Facts known up front.
    pub source_properties: SourceProperties,
}

/// A launch of a test or cutover instance, with ids drawn by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The launch job.
    pub job_id: LaunchJobId,
    /// The instance launched.
    pub ec2_instance_id: Ec2InstanceId,
}

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

/// Tag limits (MGN): at most 50 tags, keys and values at most 256 chars.
const MAX_TAGS: usize = 50;
const MAX_TAG_LEN: usize = 256;
/// MGN replicates at most 60 disks per server.
const MAX_DISKS: usize = 60;

fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), DomainError> {
    if tags.len() > MAX_TAGS {
        return Err(DomainError::invalid_field(
            "tags",
            format!("at most {MAX_TAGS} tags are allowed, got {}", tags.len()),
        ));
    }
    for (key, value) in tags {
        if key.is_empty()
            || key.chars().count() > MAX_TAG_LEN
            || value.chars().count() > MAX_TAG_LEN
        {
            return Err(DomainError::invalid_field(
                "tags",
                format!(
                    "tag keys must be 1-{MAX_TAG_LEN} characters and values at most {MAX_TAG_LEN}"
                ),
            ));
        }
    }
    Ok(())
}

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

/// Registers a server that no agent has reported for yet.
pub fn register(
    account_id: AccountId,
    id: SourceServerId,
    registration: Registration,
    now: Timestamp,
) -> Result<Transition<SourceServer>, DomainError> {
    validate_tags(&registration.tags)?;
    let server = SourceServer {
        account_id,
        id,
        is_archived: false,
        tags: registration.tags,
        replication_type: registration
            .replication_type
            .unwrap_or(ReplicationType::AgentBased),
        launched_instance: None,
        source_properties: registration.source_properties,
        data_replication_info: DataReplicationInfo {
            state: DataReplicationState::Stopped,
            lag: None,
            eta: None,
            last_snapshot: None,
            replicated_disks: Vec::new(),
            initiation: None,
            error: None,
        },
        life_cycle: LifeCycle {
            state: LifeCycleState::PendingInstallation,
            added_to_service: now,
            first_byte: None,
            elapsed_replication: None,
            last_seen_by_service: None,
            last_test: None,
            last_cutover: None,
        },
        follow_up_tasks: Vec::new(),
    };
    Ok(Transition::of_server(None, server, now))
}

impl SourceServer {
    pub(super) fn conflict(&self, detail: impl Into<String>) -> DomainError {
        DomainError::Conflict {
            kind: ResourceKind::SourceServer,
            id: self.id.to_string(),
            current_state: self.life_cycle.state.as_str().to_owned(),
            detail: detail.into(),
        }
    }

    fn require_state(
        &self,
        allowed: &[LifeCycleState],
        operation: &str,
    ) -> Result<(), DomainError> {
        if allowed.contains(&self.life_cycle.state) && !self.is_archived {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        Err(self.conflict(format!(
            "{operation} requires lifecycle state {}{}",
            names.join(" or "),
            if self.is_archived {
                " and an unarchived server"
            } else {
                ""
            }
        )))
    }

    pub(super) fn changed(&self, after: SourceServer, now: Timestamp) -> Transition<SourceServer> {
        Transition::of_server(Some(self), after, now)
    }

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

    /// StartTest: READY_FOR_TEST → TESTING with a launched test instance.
    pub fn start_test(
        &self,
        launch: Launch,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.require_state(&[LifeCycleState::ReadyForTest], "StartTest")?;
        let mut next = self.clone();
        next.life_cycle.state = LifeCycleState::Testing;
        next.life_cycle.last_test = Some(LastAction {
            initiated: now,
            job_id: launch.job_id.clone(),
            reverted: None,
            finalized: None,
        });
        next.launched_instance = Some(launched(launch));
        Ok(self.changed(next, now))
    }

    /// ChangeServerLifeCycleState to READY_FOR_TEST (reverting a test) or
    /// READY_FOR_CUTOVER (from a test, or reverting a cutover).
    pub fn change_life_cycle_state(
        &self,
        target: LifeCycleState,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        let mut next = self.clone();
        match target {
            LifeCycleState::ReadyForCutover => {
                self.require_state(
                    &[
                        LifeCycleState::Testing,
                        LifeCycleState::ReadyForTest,
                        LifeCycleState::CuttingOver,
                    ],
                    "ChangeServerLifeCycleState(READY_FOR_CUTOVER)",
                )?;
                if self.data_replication_info.lag.is_none() {
                    return Err(
                        self.conflict("READY_FOR_CUTOVER requires replication lag to be known")
                    );
                }
                if self.life_cycle.state == LifeCycleState::CuttingOver {
                    if let Some(cutover) = next.life_cycle.last_cutover.as_mut() {
                        cutover.reverted = Some(now);
                    }
                }
            }
            LifeCycleState::ReadyForTest => {
                self.require_state(
                    &[LifeCycleState::Testing, LifeCycleState::ReadyForCutover],
                    "ChangeServerLifeCycleState(READY_FOR_TEST)",
                )?;
                if let Some(test) = next.life_cycle.last_test.as_mut() {
                    test.reverted = Some(now);
                }
            }
            other => {
                return Err(DomainError::invalid_field(
                    "state",
                    format!(
                        "must be READY_FOR_TEST or READY_FOR_CUTOVER, got {}",
                        other.as_str()
                    ),
                ))
            }
        }
        next.life_cycle.state = target;
        Ok(self.changed(next, now))
    }

    /// StartCutover: READY_FOR_CUTOVER → CUTTING_OVER with a cutover instance.
    pub fn start_cutover(
        &self,
        launch: Launch,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.require_state(&[LifeCycleState::ReadyForCutover], "StartCutover")?;
        let mut next = self.clone();
        next.life_cycle.state = LifeCycleState::CuttingOver;
        next.life_cycle.last_cutover = Some(LastAction {
            initiated: now,
            job_id: launch.job_id.clone(),
            reverted: None,
            finalized: None,
        });
        next.launched_instance = Some(launched(launch));
        Ok(self.changed(next, now))
    }

    /// FinalizeCutover: CUTTING_OVER → CUTOVER in one step: replication
    /// DISCONNECTED, disks' totals 0, lag and ETA null, lastCutover
    /// finalised, and the agent-uninstall and resource-teardown tasks
    /// recorded with deadlines compressed by `scale`.
    pub fn finalize_cutover(
        &self,
        task_ids: [FollowUpTaskId; 2],
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.require_state(&[LifeCycleState::CuttingOver], "FinalizeCutover")?;
        let mut next = self.clone();
        let Some(cutover) = next.life_cycle.last_cutover.as_mut() else {
            return Err(DomainError::internal(format!(
                "{} is CUTTING_OVER without a cutover launch",
                self.id
            )));
        };
        cutover.finalized = Some(now);
        next.life_cycle.state = LifeCycleState::Cutover;
        disconnect_replication(&mut next.data_replication_info);
        let kinds = [
            FollowUpTaskKind::AgentUninstall,
            FollowUpTaskKind::ReplicationResourcesTeardown,
        ];
        for (id, kind) in task_ids.into_iter().zip(kinds) {
            next.follow_up_tasks.push(FollowUpTask::record(
                id,
                kind,
                now,
                scale.compress(kind.deadline()),
            ));
        }
        Ok(self.changed(next, now))
    }

    /// DisconnectFromService: any state but CUTOVER → DISCONNECTED, with
    /// replication disconnected as FinalizeCutover does.
    pub fn disconnect(&self, now: Timestamp) -> Result<Transition<SourceServer>, DomainError> {
        if matches!(
            self.life_cycle.state,
            LifeCycleState::Cutover | LifeCycleState::Disconnected
        ) {
            return Err(self.conflict(
                "DisconnectFromService requires a server that is neither CUTOVER nor DISCONNECTED",
            ));
        }
        let mut next = self.clone();
        next.life_cycle.state = LifeCycleState::Disconnected;
        disconnect_replication(&mut next.data_replication_info);
        Ok(self.changed(next, now))
    }

    /// MarkAsArchived: a CUTOVER or DISCONNECTED server becomes archived.
    pub fn mark_as_archived(
        &self,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.require_state(
            &[LifeCycleState::Cutover, LifeCycleState::Disconnected],
            "MarkAsArchived",
        )?;
        let mut next = self.clone();
        next.is_archived = true;
        Ok(self.changed(next, now))
    }
}

fn launched(launch: Launch) -> LaunchedInstance {
    LaunchedInstance {
        ec2_instance_id: launch.ec2_instance_id,
        job_id: launch.job_id,
        first_boot: FirstBoot::Succeeded,
    }
}

fn disconnect_replication(info: &mut DataReplicationInfo) {
    info.state = DataReplicationState::Disconnected;
    info.lag = None;
    info.eta = None;
    for disk in &mut info.replicated_disks {
        disk.total_storage_bytes = 0;
    }
}
