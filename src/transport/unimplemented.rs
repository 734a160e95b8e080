//! Services declared in the contract whose behaviour lands in later
//! issues: they answer UNIMPLEMENTED until then.

use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Api;
use crate::pb::v1::{
    agent_service_server::AgentService, lifecycle_service_server::LifecycleService,
    AcknowledgeCommandRequest, AcknowledgeCommandResponse, AgentCommand, ReceiveCommandsRequest,
    ReportReplicationRequest, ReportReplicationResponse, WatchLifecycleEventsRequest,
    WatchLifecycleEventsResponse,
};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl LifecycleService for Api {
    type WatchLifecycleEventsStream = BoxStream<WatchLifecycleEventsResponse>;

    async fn watch_lifecycle_events(
        &self,
        _request: Request<WatchLifecycleEventsRequest>,
    ) -> Result<Response<Self::WatchLifecycleEventsStream>, Status> {
        Err(Status::unimplemented(
            "WatchLifecycleEvents is not available yet",
        ))
    }
}

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
