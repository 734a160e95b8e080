//! The service's own clockwork, independent of any data plane: it starts
//! incremental runs whose time has come and flags follow-up tasks that
//! missed their deadline.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::Duties;
use crate::{
    control_plane::ControlPlane,
    domain::{Millis, ReplicationJobStatus},
    store::{Fence, LeaseName},
};

/// Most resources looked at per tick.
const BATCH: usize = 1000;

/// Runs the scheduler until `shutdown` is cancelled, once per scaled second
/// while this replica holds the scheduler's lease; each tick's writes carry
/// its fence.
pub async fn run_scheduler(plane: Arc<ControlPlane>, duties: Duties, shutdown: CancellationToken) {
    let tick = plane.settings().time_scale.compress(Millis(1000));
    let mut interval = tokio::time::interval(Duration::from_millis(tick.0.max(10) as u64));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {
                if let Some(fence) = duties.fence(LeaseName::Scheduler) {
                    schedule_once(&plane, Some(fence)).await;
                }
            }
        }
    }
}

/// One pass over the pending work, as a step of the leased duty `duty`.
pub async fn schedule_once(plane: &ControlPlane, duty: Option<Fence>) {
    let work = plane.pending_work(BATCH);
    let now = plane.now();
    for job in work.jobs.iter().map(|j| j.value.as_ref()) {
        let due =
            job.status == ReplicationJobStatus::Waiting && job.next_run.is_some_and(|at| at <= now);
        if due {
            if let Err(err) = plane
                .start_scheduled_run(&job.account_id, &job.id, duty)
                .await
            {
                tracing::debug!(job = %job.id, %err, "scheduled run not started");
            }
        }
    }
    let silence = plane.agent_silence();
    for server in work
        .servers
        .iter()
        .map(|s| s.value.as_ref())
        .filter(|s| s.agent_is_silent(now, silence))
    {
        match plane
            .mark_stalled(&server.account_id, &server.id, duty)
            .await
        {
            Ok(_) => {
                tracing::warn!(server = %server.id, "replication agent silent; replication STALLED")
            }
            Err(err) => tracing::debug!(server = %server.id, %err, "stall mark refused"),
        }
    }
    let overdue = plane
        .store()
        .read_model()
        .overdue_follow_up_tasks(now, BATCH);
    for (account, server, task) in overdue {
        match plane
            .mark_follow_up_overdue(&account, &server, &task, duty)
            .await
        {
            Ok(_) => tracing::warn!(%server, %task, "follow-up task overdue"),
            Err(err) => tracing::debug!(%server, %err, "overdue mark refused"),
        }
    }
}
