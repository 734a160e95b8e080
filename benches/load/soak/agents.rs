//! Agents that come and go: each opens a new connection (as a restarted
//! agent process would), holds `ReceiveCommands` for a few seconds,
//! reading whatever commands come, drops the stream and the connection,
//! and starts over. They listen for a server in a flow with commands
//! pending (an uninstall after FinalizeCutover, a job's sync), for a pool
//! server, or as the replication infrastructure. They only listen: the
//! simulator's agents carry the commands out, so these take the service's
//! at-least-once deliveries (recorded for follow-up tasks) on top.

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use cutover::pb::v1::{
    agent_service_client::AgentServiceClient, CommandExecutor, ReceiveCommandsRequest,
};
use rand::Rng;
use tonic::transport::Endpoint;

use crate::soak::ctx::Ctx;

/// Runs `ctx.args.agents` reconnecting agents until the run stops.
pub(crate) async fn run(ctx: Arc<Ctx>) {
    let agents: Vec<_> = (0..ctx.args.agents)
        .map(|_| tokio::spawn(agent(Arc::clone(&ctx))))
        .collect();
    for agent in agents {
        let _ = agent.await;
    }
}

/// Whose commands to listen for this time.
fn listener(ctx: &Ctx) -> Option<ReceiveCommandsRequest> {
    let mut rng = rand::thread_rng();
    let roll = rng.gen_range(0..10);
    if roll < 2 {
        return Some(ReceiveCommandsRequest {
            executor: CommandExecutor::ReplicationInfrastructure as i32,
            ..Default::default()
        });
    }
    let server = match roll < 7 {
        true => ctx.ids.any_active().or_else(|| ctx.ids.any()),
        false => ctx.ids.pool_sample(1).pop(),
    }?;
    Some(ReceiveCommandsRequest {
        source_server_id: server,
        ..Default::default()
    })
}

/// One agent's life: connect, listen for a while, drop, again.
async fn agent(ctx: Arc<Ctx>) {
    // Spread the first connections over one hold time.
    let first = ctx
        .args
        .agent_hold
        .mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    tokio::select! {
        () = ctx.stop.cancelled() => return,
        () = tokio::time::sleep(first) => {}
    }
    while !ctx.stop.is_cancelled() {
        let hold = ctx
            .args
            .agent_hold
            .mul_f64(rand::thread_rng().gen_range(0.5..1.5));
        let Some(request) = listener(&ctx) else {
            tokio::select! {
                () = ctx.stop.cancelled() => return,
                () = tokio::time::sleep(hold) => continue,
            }
        };
        listen(&ctx, request, hold).await;
        ctx.stats.reconnects.fetch_add(1, Ordering::Relaxed);
    }
}

/// Connects, opens the command stream and reads it for `hold`.
async fn listen(ctx: &Ctx, request: ReceiveCommandsRequest, hold: Duration) {
    let deadline = tokio::time::Instant::now() + hold;
    let channel = match Endpoint::from_shared(ctx.endpoint.clone()) {
        Ok(endpoint) => match endpoint.connect().await {
            Ok(channel) => channel,
            Err(err) => return ctx.stats.error("agent connect", err.to_string()),
        },
        Err(err) => return ctx.stats.error("agent endpoint", err.to_string()),
    };
    let mut stream = match AgentServiceClient::new(channel)
        .receive_commands(request)
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => return ctx.stats.failed("ReceiveCommands", &status),
    };
    loop {
        tokio::select! {
            () = ctx.stop.cancelled() => return,
            () = tokio::time::sleep_until(deadline) => return,
            message = stream.message() => match message {
                Ok(Some(_)) => {
                    ctx.stats.commands.fetch_add(1, Ordering::Relaxed);
                }
                Ok(None) => return ctx.stats.error("ReceiveCommands: ended", "the stream ended"),
                Err(status) => return ctx.stats.failed("ReceiveCommands", &status),
            },
        }
    }
}
