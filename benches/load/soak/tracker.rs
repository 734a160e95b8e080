//! Waiting on the service, by events: one filtered watch of lifecycle,
//! job status and follow-up task changes feeds the state of every
//! resource a flow waits on, so a flow waits for READY_FOR_TEST, a job
//! Waiting or Finished, or its follow-up tasks done, without polling.

use std::{collections::HashMap, sync::Arc, sync::Mutex, time::Duration};

use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient, resource_state,
    watch_lifecycle_events_response::Kind, FollowUpTaskState, LifecycleEventType, ReplicationJob,
    SourceServer, WatchLifecycleEventsRequest, WatchLifecycleEventsResponse,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::{codec::Streaming, transport::Channel, Code};

use crate::soak::{ctx::Ctx, BoxError};

/// The state-bearing fields of a resource, as an event or a read left it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Seen {
    /// A server's lifecycle state.
    pub(crate) life: i32,
    /// A server's pending follow-up tasks.
    pub(crate) pending_tasks: i32,
    /// A job's status.
    pub(crate) job_status: i32,
}

impl Seen {
    /// What a read of a server says.
    pub(crate) fn server(server: &SourceServer) -> Seen {
        Seen {
            life: server.life_cycle.as_ref().map_or(0, |l| l.state),
            pending_tasks: server
                .follow_up_tasks
                .iter()
                .filter(|t| t.state == FollowUpTaskState::Pending as i32)
                .count() as i32,
            job_status: 0,
        }
    }

    /// What a read of a job says.
    pub(crate) fn job(job: &ReplicationJob) -> Seen {
        Seen {
            job_status: job.status,
            ..Seen::default()
        }
    }
}

/// The latest state of each tracked resource.
#[derive(Default)]
pub(crate) struct Tracker {
    tracked: Mutex<HashMap<String, watch::Sender<Option<Seen>>>>,
}

/// A tracked resource's state as events report it.
pub(crate) struct Tracked(watch::Receiver<Option<Seen>>);

impl Tracker {
    /// Starts following `id`: every event about it from now on. Read the
    /// resource after this, so a change just before is not missed either.
    pub(crate) fn track(&self, id: &str) -> Tracked {
        let (sender, receiver) = watch::channel(None);
        self.tracked
            .lock()
            .expect("tracker poisoned")
            .insert(id.to_owned(), sender);
        Tracked(receiver)
    }

    /// Stops following `id`.
    pub(crate) fn forget(&self, id: &str) {
        self.tracked.lock().expect("tracker poisoned").remove(id);
    }

    /// Resources followed now.
    pub(crate) fn len(&self) -> usize {
        self.tracked.lock().expect("tracker poisoned").len()
    }

    fn update(&self, id: &str, seen: Seen) {
        if let Some(sender) = self.tracked.lock().expect("tracker poisoned").get(id) {
            sender.send_replace(Some(seen));
        }
    }
}

/// Why a wait ended without its state.
#[derive(Debug, PartialEq)]
pub(crate) enum NotReached {
    /// The time limit passed.
    TimedOut,
    /// The run stopped.
    Stopped,
}

impl Tracked {
    /// Waits until `read` (a read made after tracking began) or a later
    /// event satisfies `done`, at most `limit`, or until `stop`.
    pub(crate) async fn until(
        &mut self,
        read: Seen,
        limit: Duration,
        stop: &CancellationToken,
        done: impl Fn(&Seen) -> bool,
    ) -> Result<(), NotReached> {
        if done(&read) {
            return Ok(());
        }
        let wait = self.0.wait_for(|seen| seen.as_ref().is_some_and(&done));
        tokio::select! {
            () = stop.cancelled() => Err(NotReached::Stopped),
            outcome = tokio::time::timeout(limit, wait) => match outcome {
                Ok(Ok(_)) => Ok(()),
                _ => Err(NotReached::TimedOut),
            },
        }
    }
}

/// The event types the tracker follows.
fn followed() -> Vec<i32> {
    [
        LifecycleEventType::LifeCycleStateChanged,
        LifecycleEventType::ReplicationJobStatusChanged,
        LifecycleEventType::FollowUpTaskCompleted,
    ]
    .map(|t| t as i32)
    .to_vec()
}

/// Opens the tracker's watch from `start_revision` (0: from now on).
pub(crate) async fn open(
    channel: Channel,
    start_revision: u64,
) -> Result<Streaming<WatchLifecycleEventsResponse>, tonic::Status> {
    let request = WatchLifecycleEventsRequest {
        event_types: followed(),
        start_revision,
        ..Default::default()
    };
    Ok(LifecycleServiceClient::new(channel)
        .watch_lifecycle_events(request)
        .await?
        .into_inner())
}

/// Feeds the tracker from `stream` until the run stops, reopening the
/// watch from the next revision whenever it ends.
pub(crate) async fn feed(
    ctx: Arc<Ctx>,
    channel: Channel,
    mut stream: Streaming<WatchLifecycleEventsResponse>,
) -> Result<(), BoxError> {
    let mut next = 0;
    loop {
        let message = tokio::select! {
            () = ctx.stop.cancelled() => return Ok(()),
            message = stream.message() => message,
        };
        match message {
            Ok(Some(WatchLifecycleEventsResponse {
                kind: Some(Kind::Event(event)),
            })) => {
                next = event.revision + 1;
                let seen = match event.new_state.and_then(|s| s.state) {
                    Some(resource_state::State::SourceServer(s)) => Seen {
                        life: s.life_cycle_state,
                        pending_tasks: s.pending_follow_up_tasks,
                        job_status: 0,
                    },
                    Some(resource_state::State::ReplicationJob(j)) => Seen {
                        job_status: j.status,
                        ..Seen::default()
                    },
                    None => continue,
                };
                ctx.tracker.update(&event.resource_id, seen);
            }
            Ok(Some(_)) => {}
            outcome => {
                match outcome {
                    Err(status) => ctx.stats.failed("tracker watch", &status),
                    _ => ctx.stats.error("tracker watch: ended", "the stream ended"),
                }
                stream = reopen(&ctx, &channel, &mut next).await?;
            }
        }
    }
}

/// Reopens the tracker's watch from `next`; from now on if that was
/// compacted (flows then wait until their time limit and count an error).
async fn reopen(
    ctx: &Ctx,
    channel: &Channel,
    next: &mut u64,
) -> Result<Streaming<WatchLifecycleEventsResponse>, BoxError> {
    let mut backoff = Duration::from_millis(50);
    loop {
        match open(channel.clone(), *next).await {
            Ok(stream) => return Ok(stream),
            Err(status) if status.code() == Code::OutOfRange => *next = 0,
            Err(status) => ctx.stats.failed("tracker watch", &status),
        }
        tokio::select! {
            () = ctx.stop.cancelled() => return Err("stopped".into()),
            () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(Duration::from_secs(2)),
        }
    }
}
