//! Commands on a source server.

use std::collections::BTreeMap;

use crate::domain::{
    AccountId, DataReplicationInfo, DataReplicationState, DomainError, Ec2InstanceId, FirstBoot,
    FollowUpTask, FollowUpTaskId, FollowUpTaskKind, LastAction, LaunchJobId, LaunchedInstance,
    LifeCycle, LifeCycleState, ReplicationType, ResourceKind, SourceProperties, SourceServer,
    SourceServerId, TimeScale, Timestamp, Transition,
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

/// Tag limits (MGN): at most 50 tags, keys and values at most 256 chars.
const MAX_TAGS: usize = 50;
const MAX_TAG_LEN: usize = 256;

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

    /// StartTest: READY_FOR_TEST → TESTING with a launched test instance.
    pub fn start_test(
        &self,
        launch: Launch,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.launch(
            launch,
            now,
            [LifeCycleState::ReadyForTest, LifeCycleState::Testing],
            "StartTest",
            |life| &mut life.last_test,
        )
    }

    /// Launches an instance: `states[0]` → `states[1]`, recording the launch
    /// in the milestone `last` picks (lastTest or lastCutover).
    fn launch(
        &self,
        launch: Launch,
        now: Timestamp,
        states: [LifeCycleState; 2],
        operation: &str,
        last: fn(&mut LifeCycle) -> &mut Option<LastAction>,
    ) -> Result<Transition<SourceServer>, DomainError> {
        self.require_state(&[states[0]], operation)?;
        let mut next = self.clone();
        next.life_cycle.state = states[1];
        *last(&mut next.life_cycle) = Some(LastAction {
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
                match self.life_cycle.state {
                    LifeCycleState::CuttingOver => {
                        if let Some(cutover) = next.life_cycle.last_cutover.as_mut() {
                            cutover.reverted = Some(now);
                        }
                    }
                    // MGN calls accepting a test "finalising" it.
                    LifeCycleState::Testing => {
                        if let Some(test) = next.life_cycle.last_test.as_mut() {
                            test.finalized = Some(now);
                        }
                    }
                    _ => {}
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
        self.launch(
            launch,
            now,
            [LifeCycleState::ReadyForCutover, LifeCycleState::CuttingOver],
            "StartCutover",
            |life| &mut life.last_cutover,
        )
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
            return Err(DomainError::Inconsistent {
                detail: format!("{} is CUTTING_OVER without a cutover launch", self.id),
            });
        };
        cutover.finalized = Some(now);
        next.life_cycle.state = LifeCycleState::Cutover;
        disconnect_replication(&mut next.data_replication_info);
        let kinds = [
            FollowUpTaskKind::AgentUninstall,
            FollowUpTaskKind::ReplicationResourcesTeardown,
        ];
        for (id, kind) in task_ids.into_iter().zip(kinds) {
            if !kind.applies_to(self.replication_type) {
                continue;
            }
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
