//! Arbitrary gRPC requests into the real handlers (`cutover::transport::Api`
//! implements the tonic service traits) over a real control plane and
//! SQLite store. An input is a few calls, each `[choice][length][message]`:
//! the choice picks a unary RPC of AccountService, SourceServerService,
//! ReplicationJobService or AgentService (or a clock tick), and `length`
//! bytes (or what is left) are that request message, decoded with prost.
//! In id fields, `@N`, `#N` and `$N` name the N-th most recent server, job
//! and command the service handed out (`@0` is the one registered just
//! before); a `next_token` of `~` is the last token a listing returned. A
//! sequence reaches the states a single call cannot: register, report,
//! test, cut over, finalize, acknowledge the follow-up tasks.
//!
//! Every call must end in a response or a `Status` that is not INTERNAL
//! or UNKNOWN: bad input gets a clear error.

#![no_main]

use std::future::Future;

use cutover::{
    background::schedule_once,
    domain::Millis,
    pb::v1::{
        self as pb, account_service_server::AccountService, agent_service_server::AgentService,
        replication_job_service_server::ReplicationJobService,
        source_server_service_server::SourceServerService,
    },
};
use cutover_fuzz::{next_world, runtime, Known, World};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::{Code, Request, Response, Status};

/// How many choices the first byte has: the unary RPCs and the tick.
const CHOICES: u8 = 19;

/// Most calls one input makes.
const MAX_CALLS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let world = next_world();
    let world = &*world;
    runtime().block_on(async {
        let mut rest = data;
        for _ in 0..MAX_CALLS {
            let Some((&choice, tail)) = rest.split_first() else {
                break;
            };
            let (length, tail) = match tail.split_first() {
                Some((&length, tail)) => (usize::from(length).min(tail.len()), tail),
                None => (0, tail),
            };
            let (message, next) = tail.split_at(length);
            call(world, choice % CHOICES, message).await;
            rest = next;
        }
    });
});

/// Decodes `bytes` as `Req`, fills its ids with `fill`, runs `rpc`, and
/// checks its outcome.
async fn unary<Req, Resp, Fut>(
    world: &World,
    bytes: &[u8],
    fill: impl FnOnce(&mut Req, &Known),
    rpc: impl FnOnce(Request<Req>) -> Fut,
) -> Option<Resp>
where
    Req: Message + Default,
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    let mut message = Req::decode(bytes).ok()?;
    fill(&mut message, &world.known());
    let outcome = rpc(Request::new(message)).await;
    if cutover_fuzz::debug() {
        match &outcome {
            Ok(_) => eprintln!("ok"),
            Err(status) => eprintln!("{:?}: {}", status.code(), status.message()),
        }
    }
    match outcome {
        Ok(response) => Some(response.into_inner()),
        Err(status) => {
            assert!(
                !matches!(status.code(), Code::Internal | Code::Unknown),
                "bad input got an internal error: {status:?}"
            );
            None
        }
    }
}

/// The last page tokens the listings returned (`~` in `next_token`).
static TOKENS: std::sync::Mutex<[String; 2]> =
    std::sync::Mutex::new([String::new(), String::new()]);

fn token(slot: usize, next_token: &mut String, known: &Known) {
    if next_token == "~" {
        if let Ok(tokens) = TOKENS.lock() {
            next_token.clone_from(&tokens[slot]);
        }
    } else {
        known.fill(next_token);
    }
}

fn keep_token(slot: usize, next_token: String) {
    if let (Ok(mut tokens), false) = (TOKENS.lock(), next_token.is_empty()) {
        tokens[slot] = next_token;
    }
}

async fn call(world: &World, choice: u8, bytes: &[u8]) {
    let api = &world.api;
    match choice {
        0 => {
            unary(
                world,
                bytes,
                |_: &mut pb::InitializeServiceRequest, _| {},
                |r| api.initialize_service(r),
            )
            .await;
        }
        1 => {
            world.created();
            if let Some(server) = unary(
                world,
                bytes,
                |_: &mut pb::RegisterSourceServerRequest, _| {},
                |r| api.register_source_server(r),
            )
            .await
            {
                Known::remember(&mut world.known().servers, server.source_server_id);
            }
        }
        2 => {
            unary(
                world,
                bytes,
                |m: &mut pb::GetSourceServerRequest, k| k.fill(&mut m.source_server_id),
                |r| api.get_source_server(r),
            )
            .await;
        }
        3 => {
            let page = unary(
                world,
                bytes,
                |m: &mut pb::DescribeSourceServersRequest, k| {
                    token(0, &mut m.next_token, k);
                    if let Some(filters) = &mut m.filters {
                        filters
                            .source_server_ids
                            .iter_mut()
                            .for_each(|id| k.fill(id));
                    }
                },
                |r| api.describe_source_servers(r),
            )
            .await;
            if let Some(page) = page {
                keep_token(0, page.next_token);
            }
        }
        4 => {
            unary(
                world,
                bytes,
                |m: &mut pb::StartTestRequest, k| k.fill(&mut m.source_server_id),
                |r| api.start_test(r),
            )
            .await;
        }
        5 => {
            unary(
                world,
                bytes,
                |m: &mut pb::ChangeServerLifeCycleStateRequest, k| k.fill(&mut m.source_server_id),
                |r| api.change_server_life_cycle_state(r),
            )
            .await;
        }
        6 => {
            unary(
                world,
                bytes,
                |m: &mut pb::StartCutoverRequest, k| k.fill(&mut m.source_server_id),
                |r| api.start_cutover(r),
            )
            .await;
        }
        7 => {
            unary(
                world,
                bytes,
                |m: &mut pb::FinalizeCutoverRequest, k| k.fill(&mut m.source_server_id),
                |r| api.finalize_cutover(r),
            )
            .await;
        }
        8 => {
            unary(
                world,
                bytes,
                |m: &mut pb::DisconnectFromServiceRequest, k| k.fill(&mut m.source_server_id),
                |r| api.disconnect_from_service(r),
            )
            .await;
        }
        9 => {
            unary(
                world,
                bytes,
                |m: &mut pb::MarkAsArchivedRequest, k| k.fill(&mut m.source_server_id),
                |r| api.mark_as_archived(r),
            )
            .await;
        }
        10 => {
            world.created();
            if let Some(job) = unary(
                world,
                bytes,
                |m: &mut pb::CreateReplicationJobRequest, k| k.fill(&mut m.source_id),
                |r| api.create_replication_job(r),
            )
            .await
            {
                Known::remember(&mut world.known().jobs, job.job_id);
            }
        }
        11 => {
            unary(
                world,
                bytes,
                |m: &mut pb::GetReplicationJobRequest, k| k.fill(&mut m.job_id),
                |r| api.get_replication_job(r),
            )
            .await;
        }
        12 => {
            let page = unary(
                world,
                bytes,
                |m: &mut pb::DescribeReplicationJobsRequest, k| {
                    token(1, &mut m.next_token, k);
                    m.job_ids.iter_mut().for_each(|id| k.fill(id));
                    m.source_ids.iter_mut().for_each(|id| k.fill(id));
                },
                |r| api.describe_replication_jobs(r),
            )
            .await;
            if let Some(page) = page {
                keep_token(1, page.next_token);
            }
        }
        13 => {
            unary(
                world,
                bytes,
                |m: &mut pb::StartReplicationJobRequest, k| k.fill(&mut m.job_id),
                |r| api.start_replication_job(r),
            )
            .await;
        }
        14 => {
            unary(
                world,
                bytes,
                |m: &mut pb::StopReplicationJobRequest, k| k.fill(&mut m.job_id),
                |r| api.stop_replication_job(r),
            )
            .await;
        }
        15 => {
            unary(
                world,
                bytes,
                |m: &mut pb::CutOverReplicationJobRequest, k| k.fill(&mut m.job_id),
                |r| api.cut_over_replication_job(r),
            )
            .await;
        }
        16 => {
            // A report without a server id registers one.
            let registers = pb::ReportReplicationRequest::decode(bytes)
                .is_ok_and(|m| m.source_server_id.is_empty());
            if registers {
                world.created();
            }
            if let Some(report) = unary(
                world,
                bytes,
                |m: &mut pb::ReportReplicationRequest, k| k.fill(&mut m.source_server_id),
                |r| api.report_replication(r),
            )
            .await
            {
                Known::remember(&mut world.known().servers, report.source_server_id);
            }
            world.learn_commands().await;
        }
        17 => {
            unary(
                world,
                bytes,
                |m: &mut pb::AcknowledgeCommandRequest, k| k.fill(&mut m.command_id),
                |r| api.acknowledge_command(r),
            )
            .await;
            world.learn_commands().await;
        }
        _ => {
            // A tick: the clock moves up to 18 hours (two bytes of
            // seconds) and the scheduler runs once.
            let seconds = bytes
                .iter()
                .take(2)
                .fold(0i64, |n, &b| n * 256 + i64::from(b));
            world.clock.advance(Millis(seconds * 1000));
            schedule_once(&world.plane, None).await;
            world.learn_commands().await;
        }
    }
}
