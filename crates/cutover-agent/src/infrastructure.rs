//! The replication infrastructure: the target side of the data plane
//! (replication servers, staging disks, snapshots). After a cutover it
//! tears down a source server's replication resources, whether or not the
//! source's agent is still there to uninstall itself. The built-in
//! simulated data plane runs one per account that has teardowns pending;
//! each listens on `ReceiveCommands` as `REPLICATION_INFRASTRUCTURE`,
//! takes a task's time for each teardown, acknowledging progress step by
//! step (a redelivery after a restart resumes from the last step), then
//! acknowledges it done.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::command_link::{self, AgentClient, TASK_STEPS, TASK_STEP_PROGRESS};
use cutover_proto::v1::{AgentCommandOutcome, CommandExecutor, ReceiveCommandsRequest};

/// One account's simulated replication infrastructure.
pub struct Infrastructure {
    client: AgentClient,
    /// How long a teardown takes.
    task_time: Duration,
}

impl Infrastructure {
    /// Infrastructure reached through `client`, taking `task_time` per
    /// teardown.
    pub fn new(client: AgentClient, task_time: Duration) -> Infrastructure {
        Infrastructure { client, task_time }
    }

    /// Carries out the account's teardowns until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let (commands_tx, mut commands) = mpsc::channel(256);
        let request = ReceiveCommandsRequest {
            executor: CommandExecutor::ReplicationInfrastructure as i32,
            ..Default::default()
        };
        let listener = tokio::spawn(command_link::listen(
            self.client.clone(),
            request,
            commands_tx,
            shutdown.clone(),
        ));
        // Teardowns in progress: acknowledged progress and when the next
        // step is done; and those done, acknowledged again if delivered
        // again (deliveries are at least once).
        let step = self.task_time / TASK_STEPS;
        let mut running: HashMap<String, (f64, tokio::time::Instant)> = HashMap::new();
        let mut done: HashSet<String> = HashSet::new();
        let mut interval =
            tokio::time::interval(step.clamp(Duration::from_millis(1), Duration::from_secs(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(command) = commands.recv() => {
                    let id = command.command_id;
                    if done.contains(&id) {
                        self.acknowledge(&id, 100.0).await;
                    } else {
                        // A redelivery resumes from the acknowledged progress.
                        let next = tokio::time::Instant::now() + step;
                        running.entry(id).or_insert((command.progress, next));
                    }
                }
                _ = interval.tick() => {
                    let now = tokio::time::Instant::now();
                    let due: Vec<(String, f64)> = running
                        .iter()
                        .filter(|(_, (_, at))| *at <= now)
                        .map(|(id, (progress, _))| (id.clone(), (progress + TASK_STEP_PROGRESS).min(100.0)))
                        .collect();
                    for (id, progress) in due {
                        if !self.acknowledge(&id, progress).await {
                            continue;
                        }
                        if progress >= 100.0 - 1e-9 {
                            running.remove(&id);
                            done.insert(id);
                        } else {
                            running.insert(id, (progress, now + step));
                        }
                    }
                }
            }
        }
        listener.abort();
    }

    /// Acknowledges `progress` of a teardown; at 100 it is done.
    async fn acknowledge(&mut self, command_id: &str, progress: f64) -> bool {
        let outcome = match progress >= 100.0 - 1e-9 {
            true => AgentCommandOutcome::Succeeded,
            false => AgentCommandOutcome::Unspecified,
        };
        command_link::acknowledge(&mut self.client, command_id, progress, outcome).await
    }
}
