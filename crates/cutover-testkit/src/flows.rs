//! Flows that take servers and jobs to a given state: the MGN test and
//! cutover path, churn for the event log, and SMC jobs ready or Waiting.

use cutover_proto::v1::{
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, ChangeServerLifeCycleStateRequest,
    CreateReplicationJobRequest, CutOverReplicationJobRequest, CutOverReplicationJobResponse,
    FinalizeCutoverRequest, FollowUpTaskState, LifeCycleState, ReplicationJobStatus, SourceServer,
    StartCutoverRequest, StartCutoverResponse, StartReplicationJobRequest, StartTestRequest,
    StartTestResponse,
};
use tonic::{transport::Channel, Response, Status};

use crate::{
    archive, disconnect, poll_server, register, wait_for_job_status, wait_for_state, TestServer,
};

/// What the way to CUTTING_OVER answered.
pub struct CuttingOver {
    /// StartTest's answer.
    pub test: StartTestResponse,
    /// StartCutover's answer.
    pub cutover: StartCutoverResponse,
}

/// Takes a replicating server (the simulator or an agent moves it to
/// READY_FOR_TEST) through StartTest, READY_FOR_CUTOVER and StartCutover
/// to CUTTING_OVER.
pub async fn take_to_cutting_over(
    client: &mut SourceServerServiceClient<Channel>,
    id: &str,
) -> CuttingOver {
    wait_for_state(client, id, LifeCycleState::ReadyForTest).await;
    let test = client
        .start_test(StartTestRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("StartTest")
        .into_inner();
    client
        .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
            source_server_id: id.into(),
            state: LifeCycleState::ReadyForCutover as i32,
            ..Default::default()
        })
        .await
        .expect("ReadyForCutover");
    let cutover = client
        .start_cutover(StartCutoverRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("StartCutover")
        .into_inner();
    CuttingOver { test, cutover }
}

/// Finalizes the cutover of a CUTTING_OVER server.
pub async fn finalize(client: &mut SourceServerServiceClient<Channel>, id: &str) -> SourceServer {
    client
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("FinalizeCutover")
        .into_inner()
}

/// Takes a replicating server all the way to CUTOVER.
pub async fn take_to_cutover(
    client: &mut SourceServerServiceClient<Channel>,
    id: &str,
) -> SourceServer {
    take_to_cutting_over(client, id).await;
    finalize(client, id).await
}

/// Waits until every follow-up task of a cut over server is Completed.
pub async fn wait_for_follow_ups(
    client: &SourceServerServiceClient<Channel>,
    id: &str,
) -> SourceServer {
    poll_server(client, id, "follow-up tasks to complete", |server| {
        server
            .follow_up_tasks
            .iter()
            .all(|t| t.state == FollowUpTaskState::Completed as i32)
            .then_some(server)
    })
    .await
}

/// Three transitions per server, from one caller: registration,
/// disconnection, archival; `servers` times. Returns the server ids.
pub async fn churn(client: &mut SourceServerServiceClient<Channel>, servers: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..servers {
        let id = register(client).await;
        disconnect(client, &id).await;
        archive(client, &id).await;
        ids.push(id);
    }
    ids
}

/// Registers a server and waits until it is READY_FOR_TEST, so Available
/// as a replication job's source (needs the simulator).
pub async fn available_source(client: &mut SourceServerServiceClient<Channel>) -> String {
    let id = register(client).await;
    wait_for_state(client, &id, LifeCycleState::ReadyForTest).await;
    id
}

/// An incremental job of `source`, named `wave-1`.
pub fn incremental_job(
    source: &str,
    frequency: i32,
    max_images: i32,
) -> CreateReplicationJobRequest {
    CreateReplicationJobRequest {
        source_id: source.to_owned(),
        name: "wave-1".into(),
        run_once: Some(false),
        frequency,
        max_number_of_image_to_keep: max_images,
        ..Default::default()
    }
}

/// Creates a replication job; returns its id.
pub async fn create_job(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    request: CreateReplicationJobRequest,
) -> String {
    jobs.create_replication_job(request)
        .await
        .expect("CreateReplicationJob")
        .into_inner()
        .job_id
}

/// Starts a replication job.
pub async fn start_job(jobs: &mut ReplicationJobServiceClient<Channel>, id: &str) {
    jobs.start_replication_job(StartReplicationJobRequest {
        job_id: id.to_owned(),
        ..Default::default()
    })
    .await
    .expect("StartReplicationJob");
}

/// Cuts over a job (CutOverReplicationJob), with a final sync when
/// `sync_data`.
pub async fn cut_over_job(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
    sync_data: bool,
) -> Result<Response<CutOverReplicationJobResponse>, Status> {
    jobs.cut_over_replication_job(CutOverReplicationJobRequest {
        job_id: id.to_owned(),
        sync_data,
        ..Default::default()
    })
    .await
}

/// A replicating server (registered and READY_FOR_TEST; needs the
/// simulator) with an incremental job that completed its first run and is
/// Waiting. Returns `(source_server_id, job_id)`.
pub async fn waiting_job(server: &TestServer, frequency: i32, max_images: i32) -> (String, String) {
    let mut servers = server.servers().await;
    let source = register(&mut servers).await;
    let job_id = waiting_job_for(server, &source, frequency, max_images).await;
    (source, job_id)
}

/// An incremental job of `source` (replicated by whatever agent it has)
/// that completed its first run and is Waiting.
pub async fn waiting_job_for(
    server: &TestServer,
    source: &str,
    frequency: i32,
    max_images: i32,
) -> String {
    let mut servers = server.servers().await;
    wait_for_state(&mut servers, source, LifeCycleState::ReadyForTest).await;
    let mut jobs = server.jobs().await;
    let job_id = create_job(&mut jobs, incremental_job(source, frequency, max_images)).await;
    start_job(&mut jobs, &job_id).await;
    wait_for_job_status(&mut jobs, &job_id, ReplicationJobStatus::Waiting).await;
    job_id
}
