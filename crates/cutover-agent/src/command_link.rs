//! The data plane's side of command delivery, shared by agents and the
//! replication infrastructure: holding a command stream open across
//! errors, and acknowledging a command.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::credentials::Credentials;
use cutover_proto::v1::{
    agent_service_client::AgentServiceClient, AcknowledgeCommandRequest, AgentCommand,
    AgentCommandOutcome, ReceiveCommandsRequest,
};

/// Steps a timed task (uninstall, teardown) is carried out in: each step's
/// progress is acknowledged, so a redelivery after a restart resumes from
/// the last step instead of starting over.
pub const TASK_STEPS: u32 = 4;

/// Progress one step of a timed task adds, in percent.
pub const TASK_STEP_PROGRESS: f64 = 100.0 / TASK_STEPS as f64;

/// An AgentService client that sends the data plane's credentials.
pub type AgentClient = AgentServiceClient<InterceptedService<Channel, Credentials>>;

/// Holds the command stream `request` opens, reconnecting after errors
/// (with back-off up to 5 s), and forwards every command to `commands`,
/// until `shutdown` or until nobody reads `commands`.
pub async fn listen(
    mut client: AgentClient,
    request: ReceiveCommandsRequest,
    commands: mpsc::Sender<AgentCommand>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(50);
    while !shutdown.is_cancelled() {
        if let Ok(response) = client.receive_commands(request.clone()).await {
            let mut stream = response.into_inner();
            backoff = Duration::from_millis(50);
            while let Ok(Some(command)) = stream.message().await {
                if commands.send(command).await.is_err() {
                    return;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(Duration::from_secs(5)),
        }
    }
}

/// Acknowledges `command_id` with `progress` and `outcome`; false when the
/// service could not be told (the caller tries again later).
pub async fn acknowledge(
    client: &mut AgentClient,
    command_id: &str,
    progress: f64,
    outcome: AgentCommandOutcome,
) -> bool {
    let request = AcknowledgeCommandRequest {
        command_id: command_id.to_owned(),
        progress,
        outcome: outcome as i32,
        error: if outcome == AgentCommandOutcome::Failed {
            "UnknownCommand".into()
        } else {
            String::new()
        },
        ..Default::default()
    };
    match client.acknowledge_command(request).await {
        Ok(_) => true,
        Err(status) => {
            tracing::debug!(command = command_id, %status, "acknowledgement failed; retrying");
            false
        }
    }
}
