//! The migration team's side of the wave: polls the state and takes each
//! server and job its next step, every mutation with a client token so a
//! retry after a crash is the same call, never a second one. A call that
//! fails (the server is down, or restarting) is simply tried again on the
//! next round; what succeeded is recorded as acknowledged.

use std::{collections::HashMap, time::Duration};

use cutover::pb::v1::{
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, ChangeServerLifeCycleStateRequest,
    CreateReplicationJobRequest, CutOverReplicationJobRequest, DescribeReplicationJobsRequest,
    DescribeSourceServersRequest, FinalizeCutoverRequest, FollowUpTaskState, LifeCycleState,
    RegisterSourceServerRequest, ReplicationJob, ReplicationJobStatus, SourceServer,
    StartCutoverRequest, StartReplicationJobRequest, StartTestRequest,
};
use tokio::time::Instant;
use tonic::{transport::Channel, Code, Status};

use super::{storm::Storm, WaveSize};

/// A mutation the service acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// RegisterSourceServer.
    Registered,
    /// StartTest.
    StartTest,
    /// ChangeServerLifeCycleState(READY_FOR_CUTOVER).
    ReadyForCutover,
    /// StartCutover.
    StartCutover,
    /// FinalizeCutover.
    Finalize,
    /// CreateReplicationJob.
    JobCreated,
    /// StartReplicationJob.
    JobStarted,
    /// CutOverReplicationJob with a final sync.
    JobCutOver,
}

/// What the wave did.
pub(crate) struct Wave {
    /// Servers cut over through MGN's path.
    pub(crate) servers: Vec<String>,
    /// `(source, job)` of the job cutovers.
    pub(crate) jobs: Vec<(String, String)>,
    /// Every acknowledged mutation: the resource and the step.
    pub(crate) acknowledged: Vec<(String, Step)>,
}

/// Runs a whole wave of `size` against `storm`'s server; fails if it takes
/// over `limit`.
pub(crate) async fn run_wave(storm: &Storm, size: WaveSize, limit: Duration) -> Wave {
    let channel = storm.channel();
    let mut servers = SourceServerServiceClient::new(channel.clone());
    let mut jobs = ReplicationJobServiceClient::new(channel);
    let mut wave = Wave {
        servers: Vec::new(),
        jobs: Vec::new(),
        acknowledged: Vec::new(),
    };
    let deadline = Instant::now() + limit;
    for n in 0..size.servers + size.jobs {
        let id = until_ok(deadline, || {
            let request = RegisterSourceServerRequest {
                client_token: format!("register-{n}"),
                ..Default::default()
            };
            let mut servers = servers.clone();
            async move { servers.register_source_server(request).await }
        })
        .await
        .source_server_id;
        wave.acknowledged.push((id.clone(), Step::Registered));
        match n < size.servers {
            true => wave.servers.push(id),
            false => wave.jobs.push((id, String::new())),
        }
    }
    loop {
        assert!(
            Instant::now() < deadline,
            "the wave did not finish in {limit:?}"
        );
        let (Ok(states), Ok(job_states)) =
            (all_servers(&mut servers).await, all_jobs(&mut jobs).await)
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut done = true;
        for id in &wave.servers {
            let Some(server) = states.get(id) else {
                done = false;
                continue;
            };
            if finished(server) {
                continue;
            }
            done = false;
            if let Some(step) = server_step(&mut servers, id, server).await {
                wave.acknowledged.push((id.clone(), step));
            }
        }
        for (source, job) in &mut wave.jobs {
            let state = states.get(source.as_str());
            let current = job_states.get(job.as_str());
            if current.is_some_and(|j| j.status == ReplicationJobStatus::Finished as i32) {
                continue;
            }
            done = false;
            if let Some((id, step)) = job_step(&mut jobs, source, state, current).await {
                if step == Step::JobCreated {
                    *job = id.clone();
                }
                wave.acknowledged.push((id, step));
            }
        }
        if done {
            return wave;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// CUTOVER with both follow-up tasks done.
fn finished(server: &SourceServer) -> bool {
    server.life_cycle.as_ref().map(|l| l.state) == Some(LifeCycleState::Cutover as i32)
        && server.follow_up_tasks.len() == 2
        && server
            .follow_up_tasks
            .iter()
            .all(|t| t.state == FollowUpTaskState::Completed as i32)
}

async fn server_step(
    client: &mut SourceServerServiceClient<Channel>,
    id: &str,
    server: &SourceServer,
) -> Option<Step> {
    let state = server.life_cycle.as_ref().map_or(0, |l| l.state);
    let token = |step: &str| format!("{step}-{id}");
    let outcome = match LifeCycleState::try_from(state).ok()? {
        LifeCycleState::ReadyForTest => client
            .start_test(StartTestRequest {
                source_server_id: id.into(),
                client_token: token("test"),
            })
            .await
            .map(|_| Step::StartTest),
        LifeCycleState::Testing => client
            .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
                source_server_id: id.into(),
                state: LifeCycleState::ReadyForCutover as i32,
                client_token: token("ready"),
            })
            .await
            .map(|_| Step::ReadyForCutover),
        LifeCycleState::ReadyForCutover => client
            .start_cutover(StartCutoverRequest {
                source_server_id: id.into(),
                client_token: token("cutover"),
            })
            .await
            .map(|_| Step::StartCutover),
        LifeCycleState::CuttingOver => client
            .finalize_cutover(FinalizeCutoverRequest {
                source_server_id: id.into(),
                client_token: token("finalize"),
            })
            .await
            .map(|_| Step::Finalize),
        _ => return None,
    };
    accepted(outcome)
}

async fn job_step(
    client: &mut ReplicationJobServiceClient<Channel>,
    source: &str,
    server: Option<&SourceServer>,
    job: Option<&ReplicationJob>,
) -> Option<(String, Step)> {
    let Some(job) = job else {
        let ready = server.and_then(|s| s.life_cycle.as_ref()).map(|l| l.state)
            == Some(LifeCycleState::ReadyForTest as i32);
        if !ready {
            return None;
        }
        let created = client
            .create_replication_job(CreateReplicationJobRequest {
                source_id: source.into(),
                name: format!("storm-{source}"),
                run_once: Some(false),
                frequency: 1,
                max_number_of_image_to_keep: 2,
                client_token: format!("job-{source}"),
                ..Default::default()
            })
            .await;
        return accepted(created.map(|r| r.into_inner().job_id)).map(|id| (id, Step::JobCreated));
    };
    let id = job.job_id.clone();
    let outcome = match ReplicationJobStatus::try_from(job.status).ok()? {
        ReplicationJobStatus::Ready => client
            .start_replication_job(StartReplicationJobRequest {
                job_id: id.clone(),
                client_token: format!("start-{id}"),
            })
            .await
            .map(|_| Step::JobStarted),
        ReplicationJobStatus::Waiting if job.cut_over.is_none() => client
            .cut_over_replication_job(CutOverReplicationJobRequest {
                job_id: id.clone(),
                sync_data: true,
                client_token: format!("cut-{id}"),
            })
            .await
            .map(|_| Step::JobCutOver),
        _ => return None,
    };
    accepted(outcome).map(|step| (id, step))
}

/// The step, when the service took it. Losing a race with the data plane
/// (FAILED_PRECONDITION) or finding the server down is normal in a storm;
/// a malformed request is a bug of the test.
fn accepted<T>(outcome: Result<T, Status>) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(status) if status.code() == Code::InvalidArgument => {
            panic!("the wave sent a bad request: {status}")
        }
        Err(_) => None,
    }
}

/// Retries `call` until it succeeds.
async fn until_ok<T, F, Fut>(deadline: Instant, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
{
    loop {
        assert!(Instant::now() < deadline, "a registration never succeeded");
        if let Some(response) = accepted(call().await) {
            return response.into_inner();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn all_servers(
    client: &mut SourceServerServiceClient<Channel>,
) -> Result<HashMap<String, SourceServer>, Status> {
    let mut all = HashMap::new();
    let mut next_token = String::new();
    loop {
        let page = client
            .describe_source_servers(DescribeSourceServersRequest {
                next_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        all.extend(
            page.items
                .into_iter()
                .map(|s| (s.source_server_id.clone(), s)),
        );
        if page.next_token.is_empty() {
            return Ok(all);
        }
        next_token = page.next_token;
    }
}

async fn all_jobs(
    client: &mut ReplicationJobServiceClient<Channel>,
) -> Result<HashMap<String, ReplicationJob>, Status> {
    let mut all = HashMap::new();
    let mut next_token = String::new();
    loop {
        let page = client
            .describe_replication_jobs(DescribeReplicationJobsRequest {
                next_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        all.extend(
            page.replication_jobs
                .into_iter()
                .map(|j| (j.job_id.clone(), j)),
        );
        if page.next_token.is_empty() {
            return Ok(all);
        }
        next_token = page.next_token;
    }
}
