//! `cutover.v1.AgentService`: the data plane's reports, command stream and
//! acknowledgements.

use tonic::{Request, Response, Status};

use super::{client_token, convert, Api, BoxStream};
use crate::{
    control_plane::{Delivery, Listener},
    domain::{
        agent_command::{Acknowledgement, CommandOutcome, CommandRef},
        AgentInstanceId, DomainError, SourceServerId,
    },
    pb::v1::{
        self as pb, agent_service_server::AgentService, AcknowledgeCommandRequest,
        AcknowledgeCommandResponse, AgentCommandOutcome, CommandExecutor, ReceiveCommandsRequest,
        ReportReplicationRequest, ReportReplicationResponse,
    },
};

fn command_message(delivery: &Delivery) -> pb::AgentCommand {
    let command = &delivery.command;
    pb::AgentCommand {
        command_id: command.id.to_string(),
        kind: convert::encode(command.kind),
        job_id: match &command.id {
            CommandRef::JobStep { job, .. } => job.to_string(),
            CommandRef::FollowUp { .. } => String::new(),
        },
        deadline: convert::optional_timestamp(command.deadline),
        source_server_id: command.source_server_id.to_string(),
        progress: command.progress,
        attempt: i32::try_from(delivery.attempt).unwrap_or(i32::MAX),
    }
}

/// Who listens on a command stream.
fn listener(message: &ReceiveCommandsRequest) -> Result<Listener, DomainError> {
    match CommandExecutor::try_from(message.executor) {
        Ok(CommandExecutor::Unspecified) => Ok(Listener::Agent(SourceServerId::parse(
            "source_server_id",
            &message.source_server_id,
        )?)),
        Ok(CommandExecutor::ReplicationInfrastructure) if message.source_server_id.is_empty() => {
            Ok(Listener::Infrastructure)
        }
        Ok(CommandExecutor::ReplicationInfrastructure) => Err(DomainError::invalid_field(
            "source_server_id",
            "must be empty: the replication infrastructure listens for every server of its account",
        )),
        Err(_) => Err(DomainError::invalid_field(
            "executor",
            format!("unknown value {}", message.executor),
        )),
    }
}

fn acknowledgement(message: &AcknowledgeCommandRequest) -> Result<Acknowledgement, DomainError> {
    let outcome = match AgentCommandOutcome::try_from(message.outcome) {
        Ok(AgentCommandOutcome::Unspecified) => None,
        Ok(AgentCommandOutcome::Succeeded) => Some(CommandOutcome::Succeeded),
        Ok(AgentCommandOutcome::Failed) => {
            Some(CommandOutcome::Failed(if message.error.is_empty() {
                "AgentReportedFailure".to_owned()
            } else {
                message.error.chars().take(256).collect()
            }))
        }
        Err(_) => {
            return Err(DomainError::invalid_field(
                "outcome",
                format!("unknown value {}", message.outcome),
            ))
        }
    };
    Ok(Acknowledgement {
        progress: message.progress,
        outcome,
    })
}

#[tonic::async_trait]
impl AgentService for Api {
    type ReceiveCommandsStream = BoxStream<pb::AgentCommand>;

    async fn report_replication(
        &self,
        request: Request<ReportReplicationRequest>,
    ) -> Result<Response<ReportReplicationResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let id = match message.source_server_id.as_str() {
                "" => None,
                id => Some(SourceServerId::parse("source_server_id", id)?),
            };
            let instance = match message.agent_instance_id.as_str() {
                "" => None,
                instance => Some(AgentInstanceId::parse("agent_instance_id", instance)?),
            };
            let report = convert::replication_report(&message)?;
            let server = self
                .plane
                .agent_report(&caller, id.as_ref(), instance.as_ref(), report)
                .await?;
            Ok(ReportReplicationResponse {
                request_id: request_id.to_string(),
                source_server_id: server.id.to_string(),
            })
        })
        .await
    }

    async fn receive_commands(
        &self,
        request: Request<ReceiveCommandsRequest>,
    ) -> Result<Response<Self::ReceiveCommandsStream>, Status> {
        self.stream(
            request,
            |caller, message| async move {
                let listener = listener(&message)?;
                Ok(self
                    .plane
                    .command_stream(caller, listener, self.drain.clone())
                    .await?)
            },
            |delivery| command_message(&delivery),
        )
        .await
    }

    async fn acknowledge_command(
        &self,
        request: Request<AcknowledgeCommandRequest>,
    ) -> Result<Response<AcknowledgeCommandResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("AcknowledgeCommand", &message, |m| &mut m.client_token)?;
            let command = CommandRef::parse("command_id", &message.command_id)?;
            let ack = acknowledgement(&message)?;
            self.plane
                .acknowledge_command(&caller, &command, ack, token.as_ref())
                .await?;
            Ok(AcknowledgeCommandResponse {
                request_id: request_id.to_string(),
            })
        })
        .await
    }
}
