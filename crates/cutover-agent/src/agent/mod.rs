//! A replication agent for one source server, speaking the agent protocol
//! over gRPC: it reports replication of simulated disks (initiation steps,
//! initial sync, then continuous replication with heartbeats) and carries
//! out the commands the service sends, acknowledging progress and outcome.
//! The built-in simulated data plane runs one per server; `cutover-agent`
//! runs one as its own process.

use std::{collections::HashMap, time::Duration};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::{service::interceptor::InterceptedService, transport::Channel, Code};

mod commands;

use crate::{command_link, credentials::Credentials};
use cutover_proto::v1::{
    agent_service_client::AgentServiceClient,
    source_server_service_client::SourceServerServiceClient, AgentCommand, AgentCommandOutcome,
    DataReplicationInitiationStep, DataReplicationState, GetSourceServerRequest,
    InitiationStepName, InitiationStepStatus, LifeCycleState, ReceiveCommandsRequest,
    ReplicatedDisk, ReportReplicationRequest, SourceDisk, SourceProperties,
};

/// Disks an agent simulates when its server names none.
const DEFAULT_DISKS: [(&str, i64); 2] = [("/dev/sda", 8 << 30), ("/dev/sdb", 16 << 30)];
/// Ticks the initial sync takes.
const SYNC_TICKS: i64 = 5;
/// Progress a sync command makes per tick, in percent.
const SYNC_STEP: f64 = 25.0;

type Intercepted = InterceptedService<Channel, Credentials>;

/// How an agent behaves.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// One step of simulated work.
    pub tick: Duration,
    /// How often a continuous agent reports when nothing changes.
    pub heartbeat: Duration,
    /// How long uninstalling and tearing down take.
    pub task_time: Duration,
    /// Never acknowledge the uninstall command (to see a task go overdue).
    pub ignore_uninstall: bool,
}

/// Where the simulated replication is.
#[derive(Debug, Clone, PartialEq)]
enum Replication {
    /// Setting up: the steps done so far.
    Initiating(usize),
    /// Copying the disks.
    InitialSync(Vec<ReplicatedDisk>),
    /// Continuous; the last report was sent at this tick (0: none since
    /// the agent started, so it reports at once and the service sees it
    /// alive again right after a restart).
    Continuous(Vec<ReplicatedDisk>, u64),
    /// Not reporting any more (uninstalled, cut over or disconnected).
    Silent,
}

/// A command being carried out.
#[derive(Debug, Clone)]
struct Running {
    command: AgentCommand,
    progress: f64,
    started_tick: u64,
}

/// One source server's agent.
pub struct Agent {
    agents: AgentServiceClient<Intercepted>,
    servers: SourceServerServiceClient<Intercepted>,
    settings: AgentSettings,
    server_id: String,
    disks: Vec<SourceDisk>,
    replication: Replication,
    running: HashMap<String, Running>,
    done: HashMap<String, AgentCommandOutcome>,
    tick: u64,
    resumed: bool,
    /// The agent's own identity, sent while it does not know its server.
    instance_id: String,
}

impl Agent {
    /// An agent for `server_id` (empty: a new server, created by the first
    /// report), talking over `channel` with `credentials`.
    pub fn new(
        channel: Channel,
        credentials: Credentials,
        server_id: String,
        settings: AgentSettings,
    ) -> Agent {
        Agent {
            agents: AgentServiceClient::with_interceptor(channel.clone(), credentials.clone()),
            servers: SourceServerServiceClient::with_interceptor(channel, credentials),
            settings,
            server_id,
            disks: Vec::new(),
            replication: Replication::Initiating(0),
            running: HashMap::new(),
            done: HashMap::new(),
            tick: 0,
            resumed: false,
            instance_id: String::new(),
        }
    }

    /// The same agent, identifying itself as `instance_id` while it does
    /// not know its server: its first report, retried, registers one
    /// server only.
    pub fn with_instance_id(mut self, instance_id: String) -> Agent {
        self.instance_id = instance_id;
        self
    }

    /// The server this agent reports for (empty until the first report).
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// Runs until `shutdown`: resumes from the server's state, then reports
    /// and carries out commands, one step per tick.
    pub async fn run(mut self, shutdown: CancellationToken) {
        if !self.resumed {
            if let Err(status) = self.resume().await {
                tracing::warn!(server = %self.server_id, %status, "agent cannot start");
                return;
            }
        }
        let (commands_tx, mut commands) = mpsc::channel(64);
        let request = ReceiveCommandsRequest {
            source_server_id: self.server_id.clone(),
            ..Default::default()
        };
        let listener = tokio::spawn(command_link::listen(
            self.agents.clone(),
            request,
            commands_tx,
            shutdown.clone(),
        ));
        let mut interval = tokio::time::interval(self.settings.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(command) = commands.recv() => self.accept(command).await,
                _ = interval.tick() => {
                    self.tick += 1;
                    self.report().await;
                    self.work().await;
                }
            }
        }
        listener.abort();
    }

    /// Picks up where the server is: a new agent registers its server; a
    /// known one continues replication as the service last saw it (the
    /// initiation steps done, the bytes replicated), never from scratch.
    /// `run` does this first if it was not done.
    pub async fn resume(&mut self) -> Result<(), tonic::Status> {
        self.resumed = true;
        if self.server_id.is_empty() {
            self.disks = default_disks();
            let response = self
                .agents
                .report_replication(ReportReplicationRequest {
                    source_properties: Some(SourceProperties {
                        disks: self.disks.clone(),
                        ..Default::default()
                    }),
                    data_replication_state: DataReplicationState::Initiating as i32,
                    initiation_steps: steps(0),
                    agent_instance_id: self.instance_id.clone(),
                    ..Default::default()
                })
                .await?;
            self.server_id = response.into_inner().source_server_id;
            return Ok(());
        }
        let server = self
            .servers
            .get_source_server(GetSourceServerRequest {
                source_server_id: self.server_id.clone(),
            })
            .await?
            .into_inner();
        self.disks = server
            .source_properties
            .map(|p| p.disks)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(default_disks);
        let info = server.data_replication_info.unwrap_or_default();
        let life = server.life_cycle.map_or(0, |l| l.state);
        self.replication = if server.is_archived
            || [
                LifeCycleState::Cutover as i32,
                LifeCycleState::Disconnected as i32,
            ]
            .contains(&life)
        {
            Replication::Silent
        } else if info.data_replication_state == DataReplicationState::Continuous as i32 {
            Replication::Continuous(info.replicated_disks, 0)
        } else if info.data_replication_state == DataReplicationState::InitialSync as i32 {
            Replication::InitialSync(info.replicated_disks)
        } else {
            // The steps the service recorded as done are not done again.
            let done = info.data_replication_initiation.map_or(0, |initiation| {
                initiation
                    .steps
                    .iter()
                    .take_while(|step| step.status == InitiationStepStatus::Succeeded as i32)
                    .count()
            });
            Replication::Initiating(done)
        };
        Ok(())
    }

    /// One step of replication, reported.
    async fn report(&mut self) {
        let heartbeat_ticks = (self.settings.heartbeat.as_millis()
            / self.settings.tick.as_millis().max(1))
        .max(1) as u64;
        let (next, request) = match &self.replication {
            Replication::Silent => return,
            Replication::Continuous(_, last) if *last > 0 && self.tick < last + heartbeat_ticks => {
                return
            }
            Replication::Initiating(done)
                if *done < InitiationStepName::StartDataTransfer as usize =>
            {
                let done = done + 1;
                (
                    Replication::Initiating(done),
                    self.request(DataReplicationState::Initiating, Vec::new(), steps(done)),
                )
            }
            Replication::Initiating(_) => {
                let disks = self.disks.iter().map(|d| disk(d, 0)).collect::<Vec<_>>();
                (
                    Replication::InitialSync(disks.clone()),
                    self.request(DataReplicationState::InitialSync, disks, Vec::new()),
                )
            }
            Replication::InitialSync(disks) => {
                let disks: Vec<ReplicatedDisk> = disks
                    .iter()
                    .map(|d| {
                        let total = d.total_storage_bytes.unwrap_or(0);
                        ReplicatedDisk {
                            replicated_storage_bytes: (d.replicated_storage_bytes
                                + (total + SYNC_TICKS - 1) / SYNC_TICKS)
                                .min(total),
                            ..d.clone()
                        }
                    })
                    .collect();
                if disks
                    .iter()
                    .all(|d| d.replicated_storage_bytes >= d.total_storage_bytes.unwrap_or(0))
                {
                    (
                        Replication::Continuous(disks.clone(), self.tick),
                        self.continuous(disks),
                    )
                } else {
                    (
                        Replication::InitialSync(disks.clone()),
                        self.request(DataReplicationState::InitialSync, disks, Vec::new()),
                    )
                }
            }
            Replication::Continuous(disks, _) => (
                Replication::Continuous(disks.clone(), self.tick),
                self.continuous(disks.clone()),
            ),
        };
        match self.agents.report_replication(request).await {
            Ok(_) => self.replication = next,
            // Cut over, disconnected or archived: replication is over.
            Err(status) if status.code() == Code::FailedPrecondition => {
                self.replication = Replication::Silent
            }
            Err(status) => {
                tracing::debug!(server = %self.server_id, %status, "report failed; retrying")
            }
        }
    }

    fn request(
        &self,
        state: DataReplicationState,
        disks: Vec<ReplicatedDisk>,
        steps: Vec<DataReplicationInitiationStep>,
    ) -> ReportReplicationRequest {
        ReportReplicationRequest {
            source_server_id: self.server_id.clone(),
            data_replication_state: state as i32,
            replicated_disks: disks,
            initiation_steps: steps,
            ..Default::default()
        }
    }

    fn continuous(&self, disks: Vec<ReplicatedDisk>) -> ReportReplicationRequest {
        ReportReplicationRequest {
            lag_duration: Some(prost_types::Duration {
                seconds: 1,
                nanos: 500_000_000,
            }),
            ..self.request(DataReplicationState::Continuous, disks, Vec::new())
        }
    }
}

fn default_disks() -> Vec<SourceDisk> {
    DEFAULT_DISKS
        .iter()
        .map(|&(name, bytes)| SourceDisk {
            device_name: name.into(),
            bytes,
        })
        .collect()
}

fn disk(source: &SourceDisk, replicated: i64) -> ReplicatedDisk {
    ReplicatedDisk {
        device_name: source.device_name.clone(),
        total_storage_bytes: Some(source.bytes),
        replicated_storage_bytes: replicated,
        ..Default::default()
    }
}

/// MGN's initiation steps, the first `done` succeeded.
fn steps(done: usize) -> Vec<DataReplicationInitiationStep> {
    (InitiationStepName::Wait as i32..=InitiationStepName::StartDataTransfer as i32)
        .enumerate()
        .map(|(index, name)| DataReplicationInitiationStep {
            name,
            status: if index < done {
                InitiationStepStatus::Succeeded
            } else {
                InitiationStepStatus::NotStarted
            } as i32,
        })
        .collect()
}
