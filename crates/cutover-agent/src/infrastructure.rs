//! The replication infrastructure: the target side of the data plane
//! (replication servers, staging disks, snapshots). After a cutover it
//! tears down a source server's replication resources, whether or not the
//! source's agent is still there to uninstall itself. The built-in
//! simulated data plane runs one per account that has teardowns pending;
//! each listens on `ReceiveCommands` as `REPLICATION_INFRASTRUCTURE`,
//! takes a task's time for each teardown, then acknowledges it done.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::command_link::{self, AgentClient};
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
        // Teardowns in progress, by when they finish; and those done,
        // acknowledged again if delivered again (deliveries are at least
        // once).
        let mut running: HashMap<String, tokio::time::Instant> = HashMap::new();
        let mut done: HashSet<String> = HashSet::new();
        let mut interval = tokio::time::interval(self.task_time.min(Duration::from_secs(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(command) = commands.recv() => {
                    let id = command.command_id;
                    if done.contains(&id) {
                        self.acknowledge(&id).await;
                    } else {
                        let finish = tokio::time::Instant::now() + self.task_time;
                        running.entry(id).or_insert(finish);
                    }
                }
                _ = interval.tick() => {
                    let now = tokio::time::Instant::now();
                    let finished: Vec<String> = running
                        .iter()
                        .filter(|(_, &at)| at <= now)
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in finished {
                        if self.acknowledge(&id).await {
                            running.remove(&id);
                            done.insert(id);
                        }
                    }
                }
            }
        }
        listener.abort();
    }

    async fn acknowledge(&mut self, command_id: &str) -> bool {
        command_link::acknowledge(
            &mut self.client,
            command_id,
            100.0,
            AgentCommandOutcome::Succeeded,
        )
        .await
    }
}
