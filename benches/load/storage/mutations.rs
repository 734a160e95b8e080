//! The mutation phases on prepared resources: FinalizeCutover on servers
//! in CUTTING_OVER and CutOverReplicationJob on incremental jobs in
//! Waiting, a distinct resource per call.

use std::time::Instant;

use bytes::Bytes;
use cutover::pb::v1::{CutOverReplicationJobRequest, FinalizeCutoverRequest};
use tonic::transport::Channel;

use crate::storage::{
    load::{grpc_frame, Frames},
    prepare,
    report::ms,
    server::Process,
    Bench, BoxError,
};

const FINALIZE_PATH: &str = "/cutover.v1.SourceServerService/FinalizeCutover";
const JOB_CUTOVER_PATH: &str = "/cutover.v1.ReplicationJobService/CutOverReplicationJob";

/// Prepares servers in CUTTING_OVER, finalizes their cutovers under load,
/// then completes the follow-up tasks of those it called. Returns the
/// servers it registered.
pub(crate) async fn finalize_phase(
    bench: &mut Bench<'_>,
    server: &Process,
    prep: &[Channel],
    register_rate: Option<f64>,
) -> Result<usize, BoxError> {
    let count = bench.prepared(register_rate);
    let started = Instant::now();
    let deadline = started + bench.args.prepare_budget;
    let ids = prepare::servers_cutting_over(prep, count, deadline).await?;
    println!(
        "[FinalizeCutover] prepared {} of {count} servers in CUTTING_OVER in {} (register, ReportReplication CONTINUOUS, READY_FOR_CUTOVER, StartCutover)",
        ids.len(),
        ms(started.elapsed())
    );
    let frames = Frames::each(ids.iter().map(|id| finalize_frame(id)).collect());
    let outcome = bench
        .measure("FinalizeCutover", server, FINALIZE_PATH, frames)
        .await?;
    let started = Instant::now();
    let called = &ids[..outcome.issued.min(ids.len())];
    let (uninstalled, torn_down) = prepare::complete_follow_ups(prep, called).await?;
    println!(
        "[FinalizeCutover] as their data plane, completed {uninstalled} agent uninstalls and {torn_down} teardowns of the {} servers called in {}",
        called.len(),
        ms(started.elapsed())
    );
    Ok(ids.len())
}

/// Prepares incremental jobs in Waiting and cuts them over under load,
/// without a last sync. Returns the servers it registered (one per job).
pub(crate) async fn job_cutover_phase(
    bench: &mut Bench<'_>,
    server: &Process,
    prep: &[Channel],
    register_rate: Option<f64>,
) -> Result<usize, BoxError> {
    let count = bench.prepared(register_rate);
    let started = Instant::now();
    let deadline = started + bench.args.prepare_budget;
    let ids = prepare::jobs_waiting(prep, count, deadline).await?;
    println!(
        "[CutOverReplicationJob] prepared {} of {count} incremental jobs in Waiting in {} (server registered and reported CONTINUOUS; job created, started, its RUN_INCREMENTAL_SYNC command received and acknowledged SUCCEEDED)",
        ids.len(),
        ms(started.elapsed())
    );
    let servers = ids.len();
    let frames = Frames::each(ids.into_iter().map(job_cutover_frame).collect());
    let label = "CutOverReplicationJob (sync_data=false)";
    bench
        .measure(label, server, JOB_CUTOVER_PATH, frames)
        .await?;
    Ok(servers)
}

fn finalize_frame(source_server_id: &str) -> Bytes {
    grpc_frame(&FinalizeCutoverRequest {
        source_server_id: source_server_id.to_owned(),
        client_token: String::new(),
    })
}

fn job_cutover_frame(job_id: String) -> Bytes {
    grpc_frame(&CutOverReplicationJobRequest {
        job_id,
        sync_data: false,
        client_token: String::new(),
    })
}
