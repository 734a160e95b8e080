//! How an agent carries out commands: it listens on its command stream,
//! works each command a step per tick, and acknowledges progress and the
//! outcome; a command it already finished is acknowledged again, since
//! deliveries are at least once. A command resumes from the progress it is
//! delivered with: what was acknowledged before a restart is not redone.

use super::{Agent, Replication, Running, SYNC_STEP};
use crate::command_link::{self, TASK_STEPS, TASK_STEP_PROGRESS};
use cutover_proto::v1::{AgentCommand, AgentCommandKind, AgentCommandOutcome};

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
                    let step_ticks = (task_ticks / u64::from(TASK_STEPS)).max(1);
                    if self.tick < running.started_tick + step_ticks {
                        continue;
                    }
                    let progress = (running.progress + TASK_STEP_PROGRESS).min(100.0);
                    (
                        progress,
                        (progress >= 100.0 - 1e-9).then_some(AgentCommandOutcome::Succeeded),
                    )
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
                        running.started_tick = self.tick;
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
        command_link::acknowledge(&mut self.agents, command_id, progress, outcome).await
    }
}
