//! The built-in simulated data plane: one [`Agent`] per source server that
//! has replication or follow-up work, each speaking the agent protocol over
//! loopback gRPC, exactly as a real agent would.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use super::{
    agent::{Agent, AgentSettings},
    credentials::Credentials,
};
use crate::{
    control_plane::ControlPlane,
    domain::{AccountId, Millis, SourceServerId},
};

/// Most servers looked at per scan.
const BATCH: usize = 10_000;

/// How the fleet authenticates its agents.
#[derive(Debug, Clone)]
pub enum FleetCredentials {
    /// Authentication is off.
    None,
    /// A data-plane token that may act for any account.
    DataPlane(String),
}

/// The simulated data plane.
pub struct Fleet {
    plane: Arc<ControlPlane>,
    channel: Channel,
    credentials: FleetCredentials,
    settings: AgentSettings,
    agents: HashMap<(AccountId, SourceServerId), CancellationToken>,
}

impl Fleet {
    /// A fleet reaching the service over `channel`, paced by the time scale.
    pub fn new(plane: Arc<ControlPlane>, channel: Channel, credentials: FleetCredentials) -> Fleet {
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
            agents: HashMap::new(),
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
        for agent in self.agents.values() {
            agent.cancel();
        }
    }

    async fn scan(&mut self, shutdown: &CancellationToken) {
        let work = self.plane.pending_work(BATCH);
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
        self.agents.retain(|key, agent| {
            let keep = wanted.contains(key);
            if !keep {
                agent.cancel();
            }
            keep
        });
        for key in wanted {
            if self.agents.contains_key(&key) {
                continue;
            }
            let credentials = match &self.credentials {
                FleetCredentials::None => Credentials::none(),
                FleetCredentials::DataPlane(token) => {
                    match Credentials::bearer(token, Some(key.0.as_str())) {
                        Ok(credentials) => credentials,
                        Err(err) => {
                            tracing::warn!(%err, "simulated agent has no credentials");
                            continue;
                        }
                    }
                }
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
    }
}
