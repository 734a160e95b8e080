//! The built-in simulator: one [`Agent`] per source server that
//! has replication or follow-up work, and one [`Infrastructure`] per account
//! with teardowns pending, each speaking the agent protocol over in-process
//! gRPC, exactly as real ones would.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::{
    control_plane::ControlPlane,
    domain::{AccountId, Executor, Millis, SourceServerId},
    pb::v1::agent_service_client::AgentServiceClient,
};
use cutover_agent::{command_link::AgentClient, Agent, AgentSettings, Credentials, Infrastructure};

/// Most servers looked at per scan.
const BATCH: usize = 10_000;

/// How the fleet authenticates its agents.
#[derive(Debug, Clone)]
pub enum FleetCredentials {
    /// Authentication is off.
    None,
    /// A data-plane token that may act for any account.
    SimulatorToken(String),
}

/// What the built-in simulator simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simulated {
    /// Agents and the replication infrastructure.
    Everything,
    /// Only the replication infrastructure; agents are real processes.
    Infrastructure,
}

/// The built-in simulator: agents and the replication infrastructure.
pub struct Fleet {
    plane: Arc<ControlPlane>,
    channel: Channel,
    credentials: FleetCredentials,
    settings: AgentSettings,
    simulated: Simulated,
    agents: HashMap<(AccountId, SourceServerId), CancellationToken>,
    infrastructures: HashMap<AccountId, CancellationToken>,
}

impl Fleet {
    /// A fleet simulating `simulated`, reaching the service over
    /// `channel`, paced by the time scale.
    pub fn new(
        plane: Arc<ControlPlane>,
        channel: Channel,
        credentials: FleetCredentials,
        simulated: Simulated,
    ) -> Fleet {
        let scale = plane.settings().time_scale;
        let span = |millis: Millis| Duration::from_millis(scale.compress(millis).0.max(10) as u64);
        let settings = AgentSettings {
            tick: span(Millis(1000)),
            // Four heartbeats per window: one lost report does not make the
            // source look unreachable.
            heartbeat: Duration::from_millis((plane.heartbeat_window().0 / 4).max(10) as u64),
            task_time: span(Millis::minutes(1)),
            ignore_uninstall: false,
        };
        Fleet {
            plane,
            channel,
            credentials,
            settings,
            simulated,
            agents: HashMap::new(),
            infrastructures: HashMap::new(),
        }
    }

    /// Runs until `shutdown`: every tick, starts an agent for each server
    /// with work and stops those whose server has none left.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(self.settings.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = interval.tick() => self.scan(&shutdown).await,
            }
        }
        for worker in self.agents.values().chain(self.infrastructures.values()) {
            worker.cancel();
        }
    }

    /// The credentials of a worker acting for `account`.
    fn credentials(&self, account: &AccountId) -> Option<Credentials> {
        match &self.credentials {
            FleetCredentials::None => Some(Credentials::none()),
            FleetCredentials::SimulatorToken(token) => {
                match Credentials::bearer(token, Some(account.as_str())) {
                    Ok(credentials) => Some(credentials),
                    Err(err) => {
                        tracing::warn!(%err, "the simulator has no credentials");
                        None
                    }
                }
            }
        }
    }

    async fn scan(&mut self, shutdown: &CancellationToken) {
        let work = self.plane.pending_work(BATCH);
        let teardowns: HashSet<AccountId> = work
            .servers
            .iter()
            .filter(|s| {
                s.value.follow_up_tasks.iter().any(|t| {
                    t.is_pending() && t.kind.executor() == Executor::ReplicationInfrastructure
                })
            })
            .map(|s| s.value.account_id.clone())
            .collect();
        let mut wanted: HashSet<(AccountId, SourceServerId)> = work
            .servers
            .into_iter()
            .map(|s| (s.value.account_id.clone(), s.value.id.clone()))
            .collect();
        wanted.extend(
            work.jobs
                .into_iter()
                .map(|j| (j.value.account_id.clone(), j.value.source_id.clone())),
        );
        if self.simulated == Simulated::Infrastructure {
            wanted.clear();
        }
        retain(&mut self.agents, |key| wanted.contains(key));
        retain(&mut self.infrastructures, |account| {
            teardowns.contains(account)
        });
        for key in wanted {
            if self.agents.contains_key(&key) {
                continue;
            }
            let Some(credentials) = self.credentials(&key.0) else {
                continue;
            };
            let agent = Agent::new(
                self.channel.clone(),
                credentials,
                key.1.to_string(),
                self.settings.clone(),
            );
            let stop = shutdown.child_token();
            tokio::spawn(agent.run(stop.clone()));
            self.agents.insert(key, stop);
        }
        for account in teardowns {
            if self.infrastructures.contains_key(&account) {
                continue;
            }
            let Some(credentials) = self.credentials(&account) else {
                continue;
            };
            let client: AgentClient =
                AgentServiceClient::with_interceptor(self.channel.clone(), credentials);
            let infrastructure = Infrastructure::new(client, self.settings.task_time);
            let stop = shutdown.child_token();
            tokio::spawn(infrastructure.run(stop.clone()));
            self.infrastructures.insert(account, stop);
        }
    }
}

/// Stops and forgets the workers whose key is no longer `wanted`.
fn retain<K>(workers: &mut HashMap<K, CancellationToken>, wanted: impl Fn(&K) -> bool) {
    workers.retain(|key, stop| {
        let keep = wanted(key);
        if !keep {
            stop.cancel();
        }
        keep
    });
}
