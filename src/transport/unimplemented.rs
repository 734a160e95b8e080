//! The agent API is declared in the contract; its behaviour lands with the
//! agent protocol. Until then it answers UNIMPLEMENTED.

use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Api;
use crate::pb::v1::{
    agent_service_server::AgentService, AcknowledgeCommandRequest, AcknowledgeCommandResponse,
    AgentCommand, ReceiveCommandsRequest, ReportReplicationRequest, ReportReplicationResponse,
};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl AgentService for Api {
    type ReceiveCommandsStream = BoxStream<AgentCommand>;

    async fn report_replication(
        &self,
        _request: Request<ReportReplicationRequest>,
    ) -> Result<Response<ReportReplicationResponse>, Status> {
        Err(Status::unimplemented("the agent API is not available yet"))
    }

    async fn receive_commands(
        &self,
        _request: Request<ReceiveCommandsRequest>,
    ) -> Result<Response<Self::ReceiveCommandsStream>, Status> {
        Err(Status::unimplemented("the agent API is not available yet"))
    }

    async fn acknowledge_command(
        &self,
        _request: Request<AcknowledgeCommandRequest>,
    ) -> Result<Response<AcknowledgeCommandResponse>, Status> {
        Err(Status::unimplemented("the agent API is not available yet"))
    }
}
