//! Preparation of the mutation phases with an ordinary tonic client (not
//! measured): servers brought to CUTTING_OVER and incremental jobs brought
//! to Waiting, with the bench acting as their data plane through
//! `cutover.v1.AgentService`, since cutoverd runs without its simulator.

use std::time::{Duration, Instant};

use cutover::pb::v1::{
    agent_service_client::AgentServiceClient,
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, AcknowledgeCommandRequest,
    AgentCommandKind, AgentCommandOutcome, ChangeServerLifeCycleStateRequest, CommandExecutor,
    CreateReplicationJobRequest, DataReplicationState, GetReplicationJobRequest,
    GetSourceServerRequest, LifeCycleState, ReceiveCommandsRequest, RegisterSourceServerRequest,
    ReplicationJobStatus, ReportReplicationRequest, StartCutoverRequest,
    StartReplicationJobRequest,
};
use futures_util::{StreamExt, TryStreamExt};
use tonic::transport::Channel;

use crate::storage::BoxError;

/// Resources prepared at once: enough to keep both cores busy.
const CONCURRENCY: usize = 64;
/// How long a command may take to arrive on a fresh command stream.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a cut-over server's follow-up command may take to arrive; a
/// server whose FinalizeCutover failed has none.
const FOLLOW_UP_TIMEOUT: Duration = Duration::from_secs(10);
/// Hours between the runs of the prepared jobs: the longest SMC allows,
/// so that the scheduler starts no run during the bench.
const FREQUENCY_HOURS: i32 = 168;

/// Registers a server (PENDING_INSTALLATION); returns its id.
pub(crate) async fn registered(channel: &Channel) -> Result<String, BoxError> {
    Ok(SourceServerServiceClient::new(channel.clone())
        .register_source_server(RegisterSourceServerRequest::default())
        .await?
        .into_inner()
        .source_server_id)
}

/// Registers a server and reports CONTINUOUS replication for it, as its
/// agent would: one report moves PENDING_INSTALLATION through NOT_READY to
/// READY_FOR_TEST, with the lag known, and makes the server Available.
async fn replicating_server(channel: &Channel) -> Result<String, BoxError> {
    let id = registered(channel).await?;
    AgentServiceClient::new(channel.clone())
        .report_replication(ReportReplicationRequest {
            source_server_id: id.clone(),
            data_replication_state: DataReplicationState::Continuous as i32,
            ..Default::default()
        })
        .await?;
    Ok(id)
}

/// One server in CUTTING_OVER: replicating, READY_FOR_CUTOVER, cutover
/// started.
async fn cutting_over_server(channel: Channel) -> Result<String, BoxError> {
    let id = replicating_server(&channel).await?;
    let mut servers = SourceServerServiceClient::new(channel);
    servers
        .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
            source_server_id: id.clone(),
            state: LifeCycleState::ReadyForCutover as i32,
            client_token: String::new(),
        })
        .await?;
    servers
        .start_cutover(StartCutoverRequest {
            source_server_id: id.clone(),
            client_token: String::new(),
        })
        .await?;
    Ok(id)
}

/// One incremental job in Waiting: created for a replicating server,
/// started, and its first run carried to success by acknowledging the
/// RUN_INCREMENTAL_SYNC command the server's command stream delivers.
async fn waiting_job(channel: Channel) -> Result<String, BoxError> {
    let server = replicating_server(&channel).await?;
    let mut jobs = ReplicationJobServiceClient::new(channel.clone());
    let job = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: server.clone(),
            run_once: Some(false),
            frequency: FREQUENCY_HOURS,
            max_number_of_image_to_keep: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .job_id;
    jobs.start_replication_job(StartReplicationJobRequest {
        job_id: job.clone(),
        client_token: String::new(),
    })
    .await?;
    let mut agents = AgentServiceClient::new(channel);
    let mut commands = agents
        .receive_commands(ReceiveCommandsRequest {
            source_server_id: server.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let command = tokio::time::timeout(COMMAND_TIMEOUT, commands.message())
        .await
        .map_err(|_| format!("no command for {server} within {COMMAND_TIMEOUT:?}"))??
        .ok_or_else(|| format!("the command stream of {server} ended without a command"))?;
    if command.kind != AgentCommandKind::RunIncrementalSync as i32 || command.job_id != job {
        return Err(format!(
            "expected RUN_INCREMENTAL_SYNC of {job}, got kind {} of {:?}",
            command.kind, command.job_id
        )
        .into());
    }
    drop(commands);
    // One acknowledgement of success implies the whole run: Syncing,
    // progress 100, Processing, then Waiting with the next run scheduled.
    agents
        .acknowledge_command(AcknowledgeCommandRequest {
            command_id: command.command_id,
            progress: 100.0,
            outcome: AgentCommandOutcome::Succeeded as i32,
            ..Default::default()
        })
        .await?;
    Ok(job)
}

/// Runs `make` up to `count` times, [`CONCURRENCY`] at a time, spread over
/// `channels`, starting none after `deadline`; the ids in completion order.
async fn prepare<F, Fut>(
    channels: &[Channel],
    count: usize,
    deadline: Instant,
    make: F,
) -> Result<Vec<String>, BoxError>
where
    F: Fn(Channel) -> Fut,
    Fut: std::future::Future<Output = Result<String, BoxError>>,
{
    futures_util::stream::iter(0..count)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .map(|i| make(channels[i % channels.len()].clone()))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}

/// `count` servers in CUTTING_OVER; checks the first one's state.
pub(crate) async fn servers_cutting_over(
    channels: &[Channel],
    count: usize,
    deadline: Instant,
) -> Result<Vec<String>, BoxError> {
    let ids = prepare(channels, count, deadline, cutting_over_server).await?;
    if let (Some(id), Some(channel)) = (ids.first(), channels.first()) {
        let server = SourceServerServiceClient::new(channel.clone())
            .get_source_server(GetSourceServerRequest {
                source_server_id: id.clone(),
            })
            .await?
            .into_inner();
        let state = server.life_cycle.map(|life| life.state);
        if state != Some(LifeCycleState::CuttingOver as i32) {
            return Err(
                format!("prepared server {id} is in state {state:?}, not CUTTING_OVER").into(),
            );
        }
    }
    Ok(ids)
}

/// `count` incremental jobs in Waiting; checks the first one's status.
pub(crate) async fn jobs_waiting(
    channels: &[Channel],
    count: usize,
    deadline: Instant,
) -> Result<Vec<String>, BoxError> {
    let ids = prepare(channels, count, deadline, waiting_job).await?;
    if let (Some(id), Some(channel)) = (ids.first(), channels.first()) {
        let job = ReplicationJobServiceClient::new(channel.clone())
            .get_replication_job(GetReplicationJobRequest { job_id: id.clone() })
            .await?
            .into_inner();
        if job.status != ReplicationJobStatus::Waiting as i32 {
            return Err(format!("prepared job {id} has status {}, not Waiting", job.status).into());
        }
    }
    Ok(ids)
}

/// Acts as the agent of a cut-over server: acknowledges its UNINSTALL_AGENT
/// command. False if it did not come.
async fn uninstalled(channel: Channel, server: String) -> Result<bool, BoxError> {
    let mut agents = AgentServiceClient::new(channel);
    let mut commands = agents
        .receive_commands(ReceiveCommandsRequest {
            source_server_id: server,
            ..Default::default()
        })
        .await?
        .into_inner();
    loop {
        let Ok(message) = tokio::time::timeout(FOLLOW_UP_TIMEOUT, commands.message()).await else {
            return Ok(false);
        };
        let Some(command) = message? else {
            return Ok(false);
        };
        acknowledge(&mut agents, command.command_id).await?;
        if command.kind == AgentCommandKind::UninstallAgent as i32 {
            return Ok(true);
        }
    }
}

/// Acts as the account's replication infrastructure: acknowledges up to
/// `expected` TEARDOWN_REPLICATION_RESOURCES commands, [`CONCURRENCY`] at
/// a time, until none comes for a while. Returns how many it acknowledged.
/// The acknowledgements go over `acks`, another connection than the
/// command stream's: commands waiting to be read hold their connection's
/// HTTP/2 window, which the acknowledgements' answers would wait for.
async fn torn_down(stream: Channel, acks: Channel, expected: usize) -> Result<usize, BoxError> {
    let agents = AgentServiceClient::new(acks);
    let commands = AgentServiceClient::new(stream)
        .receive_commands(ReceiveCommandsRequest {
            executor: CommandExecutor::ReplicationInfrastructure as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let acknowledged: Vec<()> = futures_util::stream::unfold(commands, |mut commands| async move {
        match tokio::time::timeout(FOLLOW_UP_TIMEOUT, commands.message()).await {
            Ok(Ok(Some(command))) => Some((command, commands)),
            _ => None,
        }
    })
    .take(expected)
    .map(|command| {
        let mut agents = agents.clone();
        async move { acknowledge(&mut agents, command.command_id).await }
    })
    .buffer_unordered(CONCURRENCY)
    .try_collect()
    .await?;
    Ok(acknowledged.len())
}

async fn acknowledge(
    agents: &mut AgentServiceClient<Channel>,
    command_id: String,
) -> Result<(), BoxError> {
    agents
        .acknowledge_command(AcknowledgeCommandRequest {
            command_id,
            progress: 100.0,
            outcome: AgentCommandOutcome::Succeeded as i32,
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// Completes the follow-up tasks of the `servers` that were cut over, as
/// their data plane (each server's agent uninstalls; the account's
/// replication infrastructure tears down): left pending, they fall overdue
/// 10 and 90 minutes after FinalizeCutover, and the scheduler's overdue
/// marks would be writes in the background of later phases. Returns the
/// servers whose agent was uninstalled and how many teardowns were done.
pub(crate) async fn complete_follow_ups(
    channels: &[Channel],
    servers: &[String],
) -> Result<(usize, usize), BoxError> {
    let acks = channels.get(1).unwrap_or(&channels[0]).clone();
    let teardowns = tokio::spawn(torn_down(channels[0].clone(), acks, servers.len()));
    let done: Vec<bool> = futures_util::stream::iter(servers.iter().enumerate())
        .map(|(i, server)| uninstalled(channels[i % channels.len()].clone(), server.clone()))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let uninstalled = done.into_iter().filter(|&done| done).count();
    Ok((uninstalled, teardowns.await??))
}
