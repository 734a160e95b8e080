//! Single calls the tests make all the time, expected to succeed, and
//! waits for a server or a job to get somewhere.

use cutover_proto::v1::{
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, DisconnectFromServiceRequest,
    GetReplicationJobRequest, GetSourceServerRequest, LifeCycleState, MarkAsArchivedRequest,
    RegisterSourceServerRequest, ReplicationJob, ReplicationJobStatus, SourceServer,
};
use tonic::transport::Channel;

use crate::{eventually, DEADLINE};

/// Fetches a source server.
pub async fn get_server(client: &mut SourceServerServiceClient<Channel>, id: &str) -> SourceServer {
    client
        .get_source_server(GetSourceServerRequest {
            source_server_id: id.into(),
        })
        .await
        .expect("GetSourceServer")
        .into_inner()
}

/// Fetches a replication job.
pub async fn get_job(
    client: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
) -> ReplicationJob {
    client
        .get_replication_job(GetReplicationJobRequest { job_id: id.into() })
        .await
        .expect("GetReplicationJob")
        .into_inner()
}

/// Registers a server and returns its id.
pub async fn register(client: &mut SourceServerServiceClient<Channel>) -> String {
    client
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect("RegisterSourceServer")
        .into_inner()
        .source_server_id
}

/// Disconnects a server from the service.
pub async fn disconnect(client: &mut SourceServerServiceClient<Channel>, id: &str) -> SourceServer {
    client
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("DisconnectFromService")
        .into_inner()
}

/// Archives a (disconnected or cut over) server.
pub async fn archive(client: &mut SourceServerServiceClient<Channel>, id: &str) -> SourceServer {
    client
        .mark_as_archived(MarkAsArchivedRequest {
            source_server_id: id.into(),
            ..Default::default()
        })
        .await
        .expect("MarkAsArchived")
        .into_inner()
}

/// The life cycle state of a server.
pub fn state_of(server: &SourceServer) -> Option<LifeCycleState> {
    let life = server.life_cycle.as_ref()?;
    LifeCycleState::try_from(life.state).ok()
}

/// Polls a server until `probe` returns `Some`, failing after [`DEADLINE`]
/// with `what` in the message.
pub async fn poll_server<T>(
    client: &SourceServerServiceClient<Channel>,
    id: &str,
    what: &str,
    probe: impl Fn(SourceServer) -> Option<T>,
) -> T {
    eventually(DEADLINE, &format!("{id}: {what}"), || {
        let mut client = client.clone();
        let probe = &probe;
        async move { probe(get_server(&mut client, id).await) }
    })
    .await
}

/// Waits until a server reaches `state`.
pub async fn wait_for_state(
    client: &mut SourceServerServiceClient<Channel>,
    id: &str,
    state: LifeCycleState,
) -> SourceServer {
    poll_server(client, id, &format!("to reach {state:?}"), |server| {
        (state_of(&server) == Some(state)).then_some(server)
    })
    .await
}

/// Polls a replication job until `done` holds.
pub async fn wait_for_job(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
    done: impl Fn(&ReplicationJob) -> bool,
) -> ReplicationJob {
    eventually(DEADLINE, &format!("job {id}"), || {
        let mut jobs = jobs.clone();
        let done = &done;
        async move {
            let job = get_job(&mut jobs, id).await;
            done(&job).then_some(job)
        }
    })
    .await
}

/// Waits until a job is in `status`.
pub async fn wait_for_job_status(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
    status: ReplicationJobStatus,
) -> ReplicationJob {
    wait_for_job(jobs, id, |job| job.status == status as i32).await
}
