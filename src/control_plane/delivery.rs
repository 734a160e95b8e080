//! Delivery of commands to one agent: every pending command when the agent
//! connects, each new one as soon as the state it derives from changes,
//! and again, with back-off, until the agent acknowledges it done.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};

use futures_util::{Stream, StreamExt};
use tokio::{
    sync::broadcast::{self, error::RecvError},
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use super::{ControlPlane, Failure, Listener, Tenant};
use crate::{
    domain::{
        agent_command::{AgentCommand, CommandRef},
        Executor, FollowUpTaskId, LifecycleEvent, Millis, Resource, SourceServer, SourceServerId,
    },
    store::SharedEvent,
};

/// First redelivery of an unacknowledged command, before time compression.
const FIRST_RETRY: Millis = Millis(5_000);
/// Longest wait between deliveries, before time compression.
const MAX_RETRY: Millis = Millis::minutes(5);
/// Most commands queued, and deliveries recorded concurrently, at a time.
const DELIVERY_BATCH: usize = 256;

/// A command as delivered: with the delivery's attempt number.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The command.
    pub command: AgentCommand,
    /// 1 for the first delivery.
    pub attempt: u32,
}

struct CommandStream {
    plane: Arc<ControlPlane>,
    caller: Tenant,
    listener: Listener,
    live: broadcast::Receiver<Arc<SharedEvent>>,
    /// Commands delivered on this stream: attempt and when.
    sent: HashMap<CommandRef, (u32, Instant)>,
    ready: VecDeque<Delivery>,
    drain: CancellationToken,
    ended: bool,
}

impl ControlPlane {
    /// The command stream of `listener`; ends when `drain` is cancelled
    /// (the listener reconnects and is sent what is still pending).
    pub async fn command_stream(
        self: &Arc<Self>,
        caller: Tenant,
        listener: Listener,
        drain: CancellationToken,
    ) -> Result<impl Stream<Item = Result<Delivery, Failure>> + Send + 'static, Failure> {
        // Subscribe first, so no change after the first read is missed.
        let live = self.store.read_model().subscribe();
        self.pending_commands(&caller, &listener).await?;
        let stream = CommandStream {
            plane: Arc::clone(self),
            caller,
            listener,
            live,
            sent: HashMap::new(),
            ready: VecDeque::new(),
            drain,
            ended: false,
        };
        Ok(futures_util::stream::unfold(
            stream,
            |mut stream| async move {
                if stream.ended {
                    return None;
                }
                let item = stream.next().await;
                stream.ended = item.is_err();
                Some((item, stream))
            },
        ))
    }

    /// How long an unacknowledged delivery waits before the next one.
    fn retry_after(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let wait = Millis(FIRST_RETRY.0.saturating_mul(1 << exponent).min(MAX_RETRY.0));
        Duration::from_millis(self.settings.time_scale.compress(wait).0.max(1) as u64)
    }

    /// The deliveries of `due` commands (each with the attempt it would
    /// be), a follow-up task's recorded durably first: its back-off goes on
    /// across reconnects and restarts. The records are made concurrently,
    /// so they share group commits. A task completed since it was listed
    /// (its agent acknowledged an earlier delivery meanwhile) is left out:
    /// nothing is left to deliver, and the stream must not end over it.
    pub(super) async fn record_deliveries(
        &self,
        caller: &Tenant,
        due: Vec<(AgentCommand, u32)>,
    ) -> Result<Vec<Delivery>, Failure> {
        let recorded: Vec<Result<Option<Delivery>, Failure>> = futures_util::stream::iter(due)
            .map(|(command, attempt)| async move {
                let attempt = match &command.id {
                    CommandRef::FollowUp { server, task } => {
                        match self.record_follow_up_delivery(caller, server, task).await {
                            Ok(attempt) => attempt,
                            Err(_) if !self.follow_up_pending(caller, server, task) => {
                                return Ok(None)
                            }
                            Err(err) => return Err(err),
                        }
                    }
                    CommandRef::JobStep { .. } => attempt,
                };
                Ok(Some(Delivery { command, attempt }))
            })
            .buffered(DELIVERY_BATCH)
            .collect()
            .await;
        recorded.into_iter().filter_map(Result::transpose).collect()
    }

    /// Whether `task` of `server` is still pending (a task never becomes
    /// pending again once completed).
    fn follow_up_pending(
        &self,
        caller: &Tenant,
        server: &SourceServerId,
        task: &FollowUpTaskId,
    ) -> bool {
        self.load::<SourceServer>(&caller.account_id, server)
            .is_ok_and(|current| {
                current
                    .server
                    .value
                    .follow_up_tasks
                    .iter()
                    .any(|t| &t.id == task && t.is_pending())
            })
    }
}

impl CommandStream {
    async fn next(&mut self) -> Result<Delivery, Failure> {
        loop {
            // Not an internal error: nothing went wrong, and an agent
            // reconnects (UNAVAILABLE, ServiceShuttingDown).
            if self.drain.is_cancelled() {
                return Err(Failure::ShuttingDown);
            }
            if let Some(delivery) = self.ready.pop_front() {
                return Ok(delivery);
            }
            self.refresh().await?;
            if self.ready.is_empty() {
                self.wait().await?;
            }
        }
    }

    /// Queues the pending commands that were not delivered yet, or whose
    /// retry is due, up to [`DELIVERY_BATCH`]; forgets those no longer
    /// pending. A follow-up task's delivery is recorded before it is sent,
    /// the batch's records concurrently so they share group commits: an
    /// infrastructure listener with thousands of teardowns pending (a whole
    /// wave finalised) gets its first ones at once, not after every record.
    async fn refresh(&mut self) -> Result<(), Failure> {
        let commands = self
            .plane
            .pending_commands(&self.caller, &self.listener)
            .await?;
        // A set: with tens of thousands pending (a wave's teardowns), a scan
        // per delivered command would be quadratic on every refresh.
        let pending: HashSet<&CommandRef> = commands.iter().map(|c| &c.id).collect();
        self.sent.retain(|id, _| pending.contains(id));
        let now = Instant::now();
        let due: Vec<(AgentCommand, u32)> = commands
            .into_iter()
            .filter_map(|command| {
                let attempt = match self.sent.get(&command.id) {
                    None => command.attempts + 1,
                    Some(&(attempt, at)) if now >= at + self.plane.retry_after(attempt) => {
                        attempt + 1
                    }
                    Some(_) => return None,
                };
                Some((command, attempt))
            })
            .take(DELIVERY_BATCH)
            .collect();
        for delivery in self.plane.record_deliveries(&self.caller, due).await? {
            self.sent
                .insert(delivery.command.id.clone(), (delivery.attempt, now));
            self.ready.push_back(delivery);
        }
        Ok(())
    }

    /// Waits until something this agent cares about changed, or a retry is
    /// due.
    async fn wait(&mut self) -> Result<(), Failure> {
        let next_retry = self
            .sent
            .values()
            .map(|&(attempt, at)| at + self.plane.retry_after(attempt))
            .min();
        loop {
            tokio::select! {
                () = self.drain.cancelled() => return Ok(()),
                () = sleep_until(next_retry) => return Ok(()),
                received = self.live.recv() => match received {
                    Ok(event) if self.concerns(&event) => return Ok(()),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return Ok(()),
                    Err(RecvError::Closed) => return Err(Failure::unavailable("the event log closed")),
                },
            }
        }
    }

    fn concerns(&self, event: &LifecycleEvent) -> bool {
        event.resource.account_id() == &self.caller.account_id
            && match (&self.listener, &event.resource) {
                (Listener::Agent(id), Resource::SourceServer(server)) => &server.id == id,
                (Listener::Agent(id), Resource::ReplicationJob(job)) => &job.source_id == id,
                (Listener::Infrastructure, Resource::SourceServer(server)) => server
                    .follow_up_tasks
                    .iter()
                    .any(|t| t.kind.executor() == Executor::ReplicationInfrastructure),
                (Listener::Infrastructure, Resource::ReplicationJob(_)) => false,
            }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
