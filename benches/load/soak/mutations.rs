//! The mutation load. Most of it is rehearsals on a fixed pool of
//! replicating servers: StartTest, back to READY_FOR_CUTOVER, StartCutover,
//! reverted, back to READY_FOR_TEST, round and round, so the fleet does not
//! grow with the mutation rate. Beside it, new servers at a low rate, each
//! taken through a whole flow to a settled, archived state (see
//! [`crate::soak::flows`]).

use std::{collections::VecDeque, sync::Arc, sync::Mutex, time::Instant};

use cutover::pb::v1::{
    ChangeServerLifeCycleStateRequest, GetSourceServerRequest, LifeCycleState,
    RegisterSourceServerRequest, StartCutoverRequest, StartTestRequest,
};
use rand::Rng;

use crate::soak::{
    ctx::{client_token, paced, spawn_limited, Ctx},
    flows::{flow, mutation, read, wait_ready, Recorded},
    BoxError,
};

/// Registers the rehearsal pool and waits until every server of it is
/// READY_FOR_TEST (the simulator replicates them).
pub(crate) async fn prepare_pool(ctx: &Arc<Ctx>) -> Result<Vec<String>, BoxError> {
    let registered = futures_util::future::join_all((0..ctx.args.pool).map(|_| {
        let ctx = Arc::clone(ctx);
        async move {
            let id = register(&ctx, "pool")
                .await
                .map_err(|_| "registering the pool")?;
            wait_ready(&ctx, &id)
                .await
                .map_err(|_| format!("pool server {id} never became READY_FOR_TEST"))?;
            Ok::<_, BoxError>(id)
        }
    }))
    .await;
    registered.into_iter().collect()
}

/// RegisterSourceServer, tagged with what the server is for.
pub(crate) async fn register(ctx: &Ctx, purpose: &str) -> Result<String, Recorded> {
    let request = RegisterSourceServerRequest {
        client_token: client_token(),
        tags: [("soak".to_owned(), purpose.to_owned())].into(),
        ..Default::default()
    };
    let registered = mutation(
        ctx,
        "RegisterSourceServer",
        ctx.servers().register_source_server(request),
    )
    .await?;
    ctx.ids.registered(&registered.source_server_id);
    Ok(registered.source_server_id)
}

/// Drives the rehearsals and the new servers' flows until the run stops.
pub(crate) async fn run(ctx: Arc<Ctx>, pool: Vec<String>) {
    let idle: Arc<Mutex<VecDeque<(String, LifeCycleState)>>> = Arc::new(Mutex::new(
        pool.into_iter()
            .map(|id| (id, LifeCycleState::ReadyForTest))
            .collect(),
    ));
    let rehearsals = {
        let ctx = Arc::clone(&ctx);
        async move {
            paced(ctx.args.rehearsal_rate, &ctx.stop, || {
                // Every pool server busy: the step is skipped, and counted.
                let Some((id, state)) = idle.lock().expect("pool poisoned").pop_front() else {
                    ctx.stats
                        .skipped
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return;
                };
                let (task_ctx, idle) = (Arc::clone(&ctx), Arc::clone(&idle));
                spawn_limited(&ctx, &ctx.flows_in_flight, async move {
                    let next = rehearse(&task_ctx, &id, state).await;
                    idle.lock().expect("pool poisoned").push_back((id, next));
                });
            })
            .await;
        }
    };
    let flows = {
        let ctx = Arc::clone(&ctx);
        async move {
            paced(ctx.args.new_servers, &ctx.stop, || {
                let task_ctx = Arc::clone(&ctx);
                spawn_limited(&ctx, &ctx.flows_in_flight, async move {
                    flow(&task_ctx).await;
                });
            })
            .await;
        }
    };
    tokio::join!(rehearsals, flows);
}

/// One rehearsal step of pool server `id`, in `state`; the state it left
/// the server in (read back after an error).
async fn rehearse(ctx: &Ctx, id: &str, state: LifeCycleState) -> LifeCycleState {
    let mut servers = ctx.servers();
    let change = |target: LifeCycleState| ChangeServerLifeCycleStateRequest {
        source_server_id: id.to_owned(),
        state: target as i32,
        client_token: client_token(),
    };
    let started = Instant::now();
    let (method, outcome) = match state {
        LifeCycleState::ReadyForTest => (
            "StartTest",
            servers
                .start_test(StartTestRequest {
                    source_server_id: id.to_owned(),
                    client_token: client_token(),
                })
                .await
                .map(|_| LifeCycleState::Testing),
        ),
        LifeCycleState::ReadyForCutover if rand::thread_rng().gen_bool(0.5) => (
            "StartCutover",
            servers
                .start_cutover(StartCutoverRequest {
                    source_server_id: id.to_owned(),
                    client_token: client_token(),
                })
                .await
                .map(|_| LifeCycleState::CuttingOver),
        ),
        LifeCycleState::ReadyForCutover => (
            "ChangeServerLifeCycleState",
            servers
                .change_server_life_cycle_state(change(LifeCycleState::ReadyForTest))
                .await
                .map(|_| LifeCycleState::ReadyForTest),
        ),
        // From a test, or reverting a cutover.
        LifeCycleState::Testing | LifeCycleState::CuttingOver => (
            "ChangeServerLifeCycleState",
            servers
                .change_server_life_cycle_state(change(LifeCycleState::ReadyForCutover))
                .await
                .map(|_| LifeCycleState::ReadyForCutover),
        ),
        _ => return read_state(ctx, id).await.unwrap_or(state),
    };
    match outcome {
        Ok(next) => {
            ctx.stats.mutation(started);
            next
        }
        Err(status) => {
            ctx.stats.failed(method, &status);
            read_state(ctx, id).await.unwrap_or(state)
        }
    }
}

/// The lifecycle state of `id`, read (a read, counted as one).
async fn read_state(ctx: &Ctx, id: &str) -> Option<LifeCycleState> {
    let request = GetSourceServerRequest {
        source_server_id: id.to_owned(),
    };
    let server = read(
        ctx,
        "GetSourceServer",
        ctx.servers().get_source_server(request),
    )
    .await
    .ok()?;
    LifeCycleState::try_from(server.life_cycle.map_or(0, |l| l.state)).ok()
}
