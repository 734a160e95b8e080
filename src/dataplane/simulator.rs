//! The built-in simulated data plane. Each tick it looks at the resources
//! with work pending and, for each, makes the report a real agent would
//! make next, through the same control-plane commands an agent uses: a
//! registered server initiates, syncs its disks, becomes continuous and
//! keeps sending heartbeats; job runs prepare, sync, process and finish;
//! follow-up tasks get carried out. Its pace follows the time scale.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    control_plane::ControlPlane,
    domain::{
        replication_job::RunStep, source_server::ReplicationReport, BusinessStatus,
        DataReplicationState, FollowUpTaskId, FollowUpTaskKind, InitiationStepName,
        InitiationStepStatus, LifeCycleState, Millis, ReplicatedDisk, ReplicationJob,
        ReplicationJobStatus, RunPurpose, SourceDisk, SourceServer, Timestamp,
    },
};

/// Disks a server gets when registration named none.
const DEFAULT_DISKS: [(&str, i64); 2] = [("/dev/sda", 8 << 30), ("/dev/sdb", 16 << 30)];
/// Ticks the initial sync takes.
const SYNC_TICKS: i64 = 5;
/// Progress a job's sync makes per tick, in percent.
const JOB_PROGRESS_STEP: f64 = 25.0;
/// Most resources handled per tick.
const BATCH: usize = 1000;

/// What the simulator does next for a source server.
#[derive(Debug, Clone, PartialEq)]
enum ServerAction {
    Report(Box<ReplicationReport>),
    CompleteTask(FollowUpTaskId),
}

/// The simulated data plane.
pub struct Simulator {
    plane: Arc<ControlPlane>,
    tick: Duration,
}

impl Simulator {
    /// A simulator that acts once per (scaled) second.
    pub fn new(plane: Arc<ControlPlane>) -> Self {
        let tick = plane.settings().time_scale.compress(Millis(1000));
        Simulator {
            plane,
            tick: Duration::from_millis(tick.0.max(10) as u64),
        }
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(self.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => self.step().await,
            }
        }
    }

    /// One tick: every resource with work pending advances by one report.
    pub async fn step(&self) {
        let work = match self.plane.pending_work(BATCH).await {
            Ok(work) => work,
            Err(err) => {
                tracing::warn!(%err, "simulator could not read pending work");
                return;
            }
        };
        let now = self.plane.now();
        let heartbeat = Millis(self.plane.heartbeat_window().0 / 4);
        let task_time = self
            .plane
            .settings()
            .time_scale
            .compress(Millis::minutes(1));
        for server in work.servers {
            let server = server.value;
            let Some(action) = next_server_action(&server, now, heartbeat, task_time) else {
                continue;
            };
            let outcome = match action {
                ServerAction::Report(report) => {
                    self.plane
                        .report_replication(&server.account_id, &server.id, *report)
                        .await
                }
                ServerAction::CompleteTask(task) => {
                    self.plane
                        .complete_follow_up(&server.account_id, &server.id, &task)
                        .await
                }
            };
            if let Err(err) = outcome {
                tracing::debug!(server = %server.id, %err, "simulated agent report refused");
            }
        }
        for job in work.jobs {
            let job = job.value;
            let Some(step) = next_job_step(&job) else {
                continue;
            };
            if let Err(err) = self.plane.advance_job(&job.account_id, &job.id, step).await {
                tracing::debug!(job = %job.id, %err, "simulated run step refused");
            }
        }
    }
}

fn report(state: DataReplicationState, disks: Vec<ReplicatedDisk>) -> ReplicationReport {
    ReplicationReport {
        state,
        replicated_disks: disks,
        lag: None,
        eta: None,
        initiation_steps: None,
        error: None,
        source_properties: None,
    }
}

fn source_disks(server: &SourceServer) -> Vec<SourceDisk> {
    if server.source_properties.disks.is_empty() {
        DEFAULT_DISKS
            .iter()
            .map(|&(name, bytes)| SourceDisk {
                device_name: name.into(),
                bytes,
            })
            .collect()
    } else {
        server.source_properties.disks.clone()
    }
}

/// The next thing a source server's agent would do, if anything.
fn next_server_action(
    server: &SourceServer,
    now: Timestamp,
    heartbeat: Millis,
    task_time: Millis,
) -> Option<ServerAction> {
    if let Some(task) = next_task(server, now, task_time) {
        return Some(ServerAction::CompleteTask(task));
    }
    if !server.is_replicating() || server.life_cycle.state == LifeCycleState::Discovered {
        return None;
    }
    let info = &server.data_replication_info;
    match info.state {
        DataReplicationState::Stopped => {
            let steps = InitiationStepName::ALL
                .iter()
                .map(|&name| (name, InitiationStepStatus::NotStarted))
                .collect();
            Some(ServerAction::Report(Box::new(ReplicationReport {
                initiation_steps: Some(steps),
                ..report(DataReplicationState::Initiating, Vec::new())
            })))
        }
        DataReplicationState::Initiating => {
            let mut steps = info
                .initiation
                .as_ref()
                .map(|i| i.steps.clone())
                .unwrap_or_default();
            match steps
                .iter_mut()
                .find(|(_, status)| *status != InitiationStepStatus::Succeeded)
            {
                Some((_, status)) => {
                    *status = InitiationStepStatus::Succeeded;
                    Some(ServerAction::Report(Box::new(ReplicationReport {
                        initiation_steps: Some(steps),
                        ..report(DataReplicationState::Initiating, Vec::new())
                    })))
                }
                None => {
                    let disks = source_disks(server)
                        .into_iter()
                        .map(|disk| ReplicatedDisk {
                            device_name: disk.device_name,
                            total_storage_bytes: disk.bytes,
                            replicated_storage_bytes: 0,
                            rescanned_storage_bytes: 0,
                            backlogged_storage_bytes: 0,
                        })
                        .collect();
                    Some(ServerAction::Report(Box::new(report(
                        DataReplicationState::InitialSync,
                        disks,
                    ))))
                }
            }
        }
        DataReplicationState::InitialSync => {
            let disks: Vec<ReplicatedDisk> = info
                .replicated_disks
                .iter()
                .map(|disk| ReplicatedDisk {
                    replicated_storage_bytes: (disk.replicated_storage_bytes
                        + (disk.total_storage_bytes + SYNC_TICKS - 1) / SYNC_TICKS)
                        .min(disk.total_storage_bytes),
                    ..disk.clone()
                })
                .collect();
            let done = disks
                .iter()
                .all(|d| d.replicated_storage_bytes >= d.total_storage_bytes);
            let state = if done {
                DataReplicationState::Continuous
            } else {
                DataReplicationState::InitialSync
            };
            Some(ServerAction::Report(Box::new(ReplicationReport {
                lag: done.then_some(Millis(1500)),
                eta: (!done).then(|| now.plus(Millis(1000 * SYNC_TICKS))),
                ..report(state, disks)
            })))
        }
        DataReplicationState::Continuous => {
            let due = server
                .life_cycle
                .last_seen_by_service
                .is_none_or(|seen| now.since(seen) >= heartbeat);
            due.then(|| {
                ServerAction::Report(Box::new(ReplicationReport {
                    lag: Some(Millis(1500)),
                    ..report(
                        DataReplicationState::Continuous,
                        info.replicated_disks.clone(),
                    )
                }))
            })
        }
        _ => None,
    }
}

/// Follow-up tasks run in order: the agent uninstalls first, then the
/// replication resources are torn down; each takes `task_time` from when it
/// could start.
fn next_task(server: &SourceServer, now: Timestamp, task_time: Millis) -> Option<FollowUpTaskId> {
    let tasks = &server.follow_up_tasks;
    let uninstall = tasks
        .iter()
        .find(|t| t.kind == FollowUpTaskKind::AgentUninstall);
    tasks.iter().filter(|t| t.is_pending()).find_map(|task| {
        let startable = match task.kind {
            FollowUpTaskKind::AgentUninstall => Some(task.created),
            FollowUpTaskKind::ReplicationResourcesTeardown => {
                uninstall.map_or(Some(task.created), |u| u.completed)
            }
        };
        startable
            .filter(|start| now.since(*start) >= task_time)
            .map(|_| task.id.clone())
    })
}

/// The next report on a job's run in progress, if any.
fn next_job_step(job: &ReplicationJob) -> Option<RunStep> {
    if job.status != ReplicationJobStatus::Running {
        return None;
    }
    let purpose = job.current_run.map(|run| run.purpose)?;
    Some(match job.business_status? {
        BusinessStatus::Preparing => RunStep::Syncing,
        BusinessStatus::Syncing if job.progress < 100.0 => {
            RunStep::Progress((job.progress + JOB_PROGRESS_STEP).min(100.0))
        }
        BusinessStatus::Syncing if purpose == RunPurpose::FinalSync => RunStep::Cleaning,
        BusinessStatus::Syncing => RunStep::Processing,
        BusinessStatus::Processing => RunStep::Succeeded,
        BusinessStatus::Cleaning => RunStep::Released,
    })
}
