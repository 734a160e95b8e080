//! A new server's whole flow, to a settled, archived state: the MGN
//! cutover (StartTest, READY_FOR_CUTOVER, StartCutover, FinalizeCutover,
//! follow-up tasks done, MarkAsArchived), an SMC job (CreateReplicationJob,
//! StartReplicationJob, Waiting, CutOverReplicationJob, Finished, then the
//! server disconnected and archived), or a plain DisconnectFromService and
//! MarkAsArchived. Waits are on the tracker's events.

use std::{sync::atomic::Ordering, time::Duration, time::Instant};

use cutover::pb::v1::{
    ChangeServerLifeCycleStateRequest, CreateReplicationJobRequest, CutOverReplicationJobRequest,
    DisconnectFromServiceRequest, FinalizeCutoverRequest, GetReplicationJobRequest,
    GetSourceServerRequest, LifeCycleState, MarkAsArchivedRequest, ReplicationJobStatus,
    StartCutoverRequest, StartReplicationJobRequest, StartTestRequest,
};
use rand::Rng;
use tonic::{Response, Status};

use crate::soak::{
    ctx::{client_token, Ctx},
    mutations::register,
    tracker::{NotReached, Seen},
};

/// Longest wait for the simulator to replicate a server or run a job.
const DATA_PLANE_LIMIT: Duration = Duration::from_secs(60);
/// Longest wait for follow-up tasks (the teardown's deadline is 90 min,
/// 90 s at --sim-speed 60; the simulator takes about a second).
const FOLLOW_UP_LIMIT: Duration = Duration::from_secs(120);

/// A failure already counted in the statistics.
#[derive(Debug)]
pub(crate) struct Recorded;

/// What a timed call counts as.
#[derive(Debug, Clone, Copy)]
enum CallKind {
    Read,
    Mutation,
}

/// Times a call as `kind` and counts its failure under `method`.
async fn timed<T>(
    ctx: &Ctx,
    kind: CallKind,
    method: &str,
    call: impl std::future::Future<Output = Result<Response<T>, Status>>,
) -> Result<T, Recorded> {
    let started = Instant::now();
    match call.await {
        Ok(response) => {
            match kind {
                CallKind::Read => ctx.stats.read(started),
                CallKind::Mutation => ctx.stats.mutation(started),
            }
            Ok(response.into_inner())
        }
        Err(status) => {
            ctx.stats.failed(method, &status);
            Err(Recorded)
        }
    }
}

/// Times a mutation and counts its failure.
pub(crate) async fn mutation<T>(
    ctx: &Ctx,
    method: &str,
    call: impl std::future::Future<Output = Result<Response<T>, Status>>,
) -> Result<T, Recorded> {
    timed(ctx, CallKind::Mutation, method, call).await
}

/// Times a read and counts its failure.
pub(crate) async fn read<T>(
    ctx: &Ctx,
    method: &str,
    call: impl std::future::Future<Output = Result<Response<T>, Status>>,
) -> Result<T, Recorded> {
    timed(ctx, CallKind::Read, method, call).await
}

/// Waits until server `id` is READY_FOR_TEST.
pub(crate) async fn wait_ready(ctx: &Ctx, id: &str) -> Result<(), Recorded> {
    let ready = LifeCycleState::ReadyForTest as i32;
    wait_server(ctx, id, "READY_FOR_TEST", DATA_PLANE_LIMIT, |s| {
        s.life == ready
    })
    .await
}

/// Waits until a read of server `id`, or a later event, satisfies `done`.
async fn wait_server(
    ctx: &Ctx,
    id: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(&Seen) -> bool,
) -> Result<(), Recorded> {
    let mut tracked = ctx.tracker.track(id);
    let request = GetSourceServerRequest {
        source_server_id: id.to_owned(),
    };
    let outcome = match read(
        ctx,
        "GetSourceServer",
        ctx.servers().get_source_server(request),
    )
    .await
    {
        Ok(server) => tracked
            .until(Seen::server(&server), limit, &ctx.stop, done)
            .await
            .map_err(|why| {
                if why == NotReached::TimedOut {
                    ctx.stats
                        .error(format!("flow stuck: {what}"), format!("server {id}"));
                }
                Recorded
            }),
        Err(recorded) => Err(recorded),
    };
    ctx.tracker.forget(id);
    outcome
}

/// Waits until job `id` has `status`.
async fn wait_job(ctx: &Ctx, id: &str, status: ReplicationJobStatus) -> Result<(), Recorded> {
    let mut tracked = ctx.tracker.track(id);
    let request = GetReplicationJobRequest {
        job_id: id.to_owned(),
    };
    let wanted = status as i32;
    let outcome = match read(
        ctx,
        "GetReplicationJob",
        ctx.jobs().get_replication_job(request),
    )
    .await
    {
        Ok(job) => tracked
            .until(Seen::job(&job), DATA_PLANE_LIMIT, &ctx.stop, |s| {
                s.job_status == wanted
            })
            .await
            .map_err(|why| {
                if why == NotReached::TimedOut {
                    ctx.stats
                        .error(format!("flow stuck: job {status:?}"), format!("job {id}"));
                }
                Recorded
            }),
        Err(recorded) => Err(recorded),
    };
    ctx.tracker.forget(id);
    outcome
}

/// One new server's flow; failures are counted, and end the flow.
pub(crate) async fn flow(ctx: &Ctx) {
    let Ok(id) = register(ctx, "flow").await else {
        return;
    };
    let path = rand::thread_rng().gen_range(0..10);
    let outcome = match path {
        0..=2 => retire(ctx, &id).await,
        3..=6 => mgn_cutover(ctx, &id).await,
        _ => smc_job(ctx, &id).await,
    };
    ctx.ids.set_active(&id, false);
    if outcome.is_ok() {
        ctx.stats.flows.fetch_add(1, Ordering::Relaxed);
    }
}

/// DisconnectFromService, then MarkAsArchived.
async fn retire(ctx: &Ctx, id: &str) -> Result<(), Recorded> {
    let mut servers = ctx.servers();
    let disconnect = DisconnectFromServiceRequest {
        source_server_id: id.to_owned(),
        client_token: client_token(),
    };
    mutation(
        ctx,
        "DisconnectFromService",
        servers.disconnect_from_service(disconnect),
    )
    .await?;
    archive(ctx, id).await
}

async fn archive(ctx: &Ctx, id: &str) -> Result<(), Recorded> {
    let request = MarkAsArchivedRequest {
        source_server_id: id.to_owned(),
        client_token: client_token(),
    };
    mutation(
        ctx,
        "MarkAsArchived",
        ctx.servers().mark_as_archived(request),
    )
    .await
    .map(drop)
}

/// The MGN path to CUTOVER, its follow-up tasks done, then archived.
async fn mgn_cutover(ctx: &Ctx, id: &str) -> Result<(), Recorded> {
    wait_ready(ctx, id).await?;
    let mut servers = ctx.servers();
    let server = id.to_owned();
    let test = StartTestRequest {
        source_server_id: server.clone(),
        client_token: client_token(),
    };
    mutation(ctx, "StartTest", servers.start_test(test)).await?;
    let ready = ChangeServerLifeCycleStateRequest {
        source_server_id: server.clone(),
        state: LifeCycleState::ReadyForCutover as i32,
        client_token: client_token(),
    };
    mutation(
        ctx,
        "ChangeServerLifeCycleState",
        servers.change_server_life_cycle_state(ready),
    )
    .await?;
    let cutover = StartCutoverRequest {
        source_server_id: server.clone(),
        client_token: client_token(),
    };
    mutation(ctx, "StartCutover", servers.start_cutover(cutover)).await?;
    ctx.ids.set_active(id, true);
    let finalize = FinalizeCutoverRequest {
        source_server_id: server,
        client_token: client_token(),
    };
    mutation(ctx, "FinalizeCutover", servers.finalize_cutover(finalize)).await?;
    let cut_over = LifeCycleState::Cutover as i32;
    wait_server(ctx, id, "follow-up tasks", FOLLOW_UP_LIMIT, |s| {
        s.life == cut_over && s.pending_tasks == 0
    })
    .await?;
    ctx.ids.set_active(id, false);
    archive(ctx, id).await
}

/// An SMC incremental job of the server, run once, cut over (with or
/// without a final sync) to Finished; then the server is retired.
async fn smc_job(ctx: &Ctx, id: &str) -> Result<(), Recorded> {
    wait_ready(ctx, id).await?;
    let mut jobs = ctx.jobs();
    let create = CreateReplicationJobRequest {
        client_token: client_token(),
        source_id: id.to_owned(),
        name: "soak".into(),
        run_once: Some(false),
        frequency: 1,
        max_number_of_image_to_keep: 2,
        ..Default::default()
    };
    let job = mutation(
        ctx,
        "CreateReplicationJob",
        jobs.create_replication_job(create),
    )
    .await?
    .job_id;
    ctx.ids.set_active(id, true);
    let start = StartReplicationJobRequest {
        job_id: job.clone(),
        client_token: client_token(),
    };
    mutation(
        ctx,
        "StartReplicationJob",
        jobs.start_replication_job(start),
    )
    .await?;
    wait_job(ctx, &job, ReplicationJobStatus::Waiting).await?;
    let cut_over = CutOverReplicationJobRequest {
        job_id: job.clone(),
        sync_data: rand::thread_rng().gen_bool(0.5),
        client_token: client_token(),
    };
    mutation(
        ctx,
        "CutOverReplicationJob",
        jobs.cut_over_replication_job(cut_over),
    )
    .await?;
    wait_job(ctx, &job, ReplicationJobStatus::Finished).await?;
    ctx.ids.set_active(id, false);
    retire(ctx, id).await
}
