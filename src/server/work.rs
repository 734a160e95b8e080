//! Background work: the tasks beside gRPC, and the duties this replica
//! takes when it holds their leases (the scheduler, retention), with the
//! metrics fed from the event log.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    background::{run_retention, run_scheduler, Duties, Retention},
    config::Leases,
    control_plane::ControlPlane,
    metrics::Metrics,
};

/// The service's tasks beside gRPC, stopped together once gRPC is done.
pub(super) struct Tasks {
    running: JoinSet<()>,
    stop: CancellationToken,
}

impl Tasks {
    pub(super) fn new() -> Tasks {
        Tasks {
            running: JoinSet::new(),
            stop: CancellationToken::new(),
        }
    }

    /// Cancelled when the tasks are to stop.
    pub(super) fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub(super) fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.running.spawn(task);
    }

    /// Stops every task and waits for them to end.
    pub(super) async fn stop(mut self) {
        self.stop.cancel();
        while self.running.join_next().await.is_some() {}
    }
}

/// Starts keeping this replica's leases, and the duties and metrics that
/// follow from them; the returned duties say which leases are held.
pub(super) fn start(
    tasks: &mut Tasks,
    plane: &Arc<ControlPlane>,
    metrics: &Arc<Metrics>,
    leases: Leases,
    retention: Retention,
) -> Duties {
    let duties = Duties::default();
    tasks.spawn(duties.clone().keep(
        Arc::clone(plane.store()),
        leases.replica_id,
        leases.ttl,
        tasks.stopping(),
    ));
    tasks.spawn(run_scheduler(
        Arc::clone(plane),
        duties.clone(),
        tasks.stopping(),
    ));
    tasks.spawn(observe(
        Arc::clone(plane),
        Arc::clone(metrics),
        tasks.stopping(),
    ));
    let clock = Arc::clone(plane);
    tasks.spawn(run_retention(
        Arc::clone(plane.store()),
        retention,
        duties.clone(),
        move || clock.now(),
        tasks.stopping(),
    ));
    duties
}

/// Feeds the metrics that come from the event log and the task rows: events
/// as they commit, and the pending and overdue follow-up tasks once a
/// second.
async fn observe(plane: Arc<ControlPlane>, metrics: Arc<Metrics>, shutdown: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = plane.store().read_model().subscribe();
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            received = events.recv() => match received {
                Ok(_) => metrics.events_committed(1),
                Err(RecvError::Lagged(missed)) => metrics.events_committed(missed),
                Err(RecvError::Closed) => return,
            },
            _ = interval.tick() => {
                let (pending, overdue) = plane.store().read_model().follow_up_task_counts();
                metrics.set_follow_up_tasks(pending, overdue);
            }
        }
    }
}
