//! How an agent carries out commands: it listens on its command stream,
//! works each command a step per tick, and acknowledges progress and the
//! outcome; a command it already finished is acknowledged again, since
//! deliveries are at least once.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Agent, Intercepted, Replication, Running, SYNC_STEP};
use crate::pb::v1::{
    agent_service_client::AgentServiceClient, AcknowledgeCommandRequest, AgentCommand,
    AgentCommandKind, AgentCommandOutcome, ReceiveCommandsRequest,
};

impl Agent {
    /// A delivered command: started, or, if already done, acknowledged
    /// again (deliveries are at least once).
    pub(super) async fn accept(&mut self, command: AgentCommand) {
        if let Some(&outcome) = self.done.get(&command.command_id) {
            self.acknowledge(&command.command_id, 100.0, outcome).await;
            return;
        }
        let progress = command.progress;
        self.running
            .entry(command.command_id.clone())
            .or_insert(Running {
                command,
                progress,
                started_tick: self.tick,
            });
    }

    /// One step of every running command.
    pub(super) async fn work(&mut self) {
        let task_ticks = (self.settings.task_time.as_millis()
            / self.settings.tick.as_millis().max(1))
        .max(1) as u64;
        let ids: Vec<String> = self.running.keys().cloned().collect();
        for id in ids {
            let Some(running) = self.running.get(&id).cloned() else {
                continue;
            };
            let kind = AgentCommandKind::try_from(running.command.kind)
                .unwrap_or(AgentCommandKind::Unspecified);
            let (progress, outcome) = match kind {
                AgentCommandKind::RunIncrementalSync | AgentCommandKind::RunFinalSync => {
                    let progress = (running.progress + SYNC_STEP).min(100.0);
                    (
                        progress,
                        (progress >= 100.0).then_some(AgentCommandOutcome::Succeeded),
                    )
                }
                AgentCommandKind::ReleaseResources => (100.0, Some(AgentCommandOutcome::Succeeded)),
                AgentCommandKind::UninstallAgent if self.settings.ignore_uninstall => continue,
                AgentCommandKind::UninstallAgent
                | AgentCommandKind::TeardownReplicationResources => {
                    if self.tick < running.started_tick + task_ticks {
                        continue;
                    }
                    (100.0, Some(AgentCommandOutcome::Succeeded))
                }
                AgentCommandKind::Unspecified => (0.0, Some(AgentCommandOutcome::Failed)),
            };
            let acknowledged = self
                .acknowledge(
                    &id,
                    progress,
                    outcome.unwrap_or(AgentCommandOutcome::Unspecified),
                )
                .await;
            if !acknowledged {
                continue;
            }
            match outcome {
                Some(outcome) => {
                    self.running.remove(&id);
                    self.done.insert(id, outcome);
                    if kind == AgentCommandKind::UninstallAgent {
                        self.replication = Replication::Silent;
                    }
                }
                None => {
                    if let Some(running) = self.running.get_mut(&id) {
                        running.progress = progress;
                    }
                }
            }
        }
    }

    async fn acknowledge(
        &mut self,
        command_id: &str,
        progress: f64,
        outcome: AgentCommandOutcome,
    ) -> bool {
        let request = AcknowledgeCommandRequest {
            command_id: command_id.to_owned(),
            progress,
            outcome: outcome as i32,
            error: if outcome == AgentCommandOutcome::Failed {
                "UnknownCommand".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        match self.agents.acknowledge_command(request).await {
            Ok(_) => true,
            Err(status) => {
                tracing::debug!(server = %self.server_id, command = command_id, %status, "acknowledgement failed; retrying");
                false
            }
        }
    }
}

/// Holds the command stream, reconnecting after errors, until `shutdown`.
pub(super) async fn listen(
    mut agents: AgentServiceClient<Intercepted>,
    server_id: String,
    commands: mpsc::Sender<AgentCommand>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(50);
    while !shutdown.is_cancelled() {
        let request = ReceiveCommandsRequest {
            source_server_id: server_id.clone(),
        };
        if let Ok(response) = agents.receive_commands(request).await {
            let mut stream = response.into_inner();
            backoff = Duration::from_millis(50);
            while let Ok(Some(command)) = stream.message().await {
                if commands.send(command).await.is_err() {
                    return;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(Duration::from_secs(5)),
        }
    }
}
