//! `cutover.v1.SourceServerService`: MGN's source server operations.

use tonic::{Request, Response, Status};

use super::{client_token, convert, Api, RequestId};
use crate::{
    control_plane::{Failure, LaunchOutcome, ServerView},
    domain::{DomainError, SourceServerId},
    pb::v1::{
        self as pb, source_server_service_server::SourceServerService,
        ChangeServerLifeCycleStateRequest, DescribeSourceServersRequest,
        DescribeSourceServersResponse, DisconnectFromServiceRequest, FinalizeCutoverRequest,
        GetSourceServerRequest, MarkAsArchivedRequest, RegisterSourceServerRequest,
        StartCutoverRequest, StartCutoverResponse, StartTestRequest, StartTestResponse,
    },
};

/// The wire form of a server view.
fn server_message(view: &ServerView) -> pb::SourceServer {
    convert::source_server(&view.server, view.arn.clone(), Some(view.source_state))
}

/// The wire form of a server view as a call's whole response.
fn server_response(view: &ServerView, request_id: &RequestId) -> pb::SourceServer {
    pb::SourceServer {
        request_id: request_id.to_string(),
        ..server_message(view)
    }
}

fn launch_job(outcome: &LaunchOutcome) -> pb::LaunchJob {
    pb::LaunchJob {
        job_id: outcome.job_id.to_string(),
        ec2_instance_id: outcome.ec2_instance_id.to_string(),
        creation_date_time: Some(convert::timestamp(outcome.created)),
    }
}

/// The one launch of a one-server StartTest or StartCutover.
fn single_launch(outcomes: Vec<LaunchOutcome>) -> Result<LaunchOutcome, Failure> {
    outcomes
        .into_iter()
        .next()
        .ok_or_else(|| Failure::internal("a launch of one server launched none"))
}

fn server_id(value: &str) -> Result<SourceServerId, DomainError> {
    SourceServerId::parse("source_server_id", value)
}

#[tonic::async_trait]
impl SourceServerService for Api {
    async fn register_source_server(
        &self,
        request: Request<RegisterSourceServerRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("RegisterSourceServer", &message, |m| &mut m.client_token)?;
            let registration = convert::registration(&message)?;
            let view = self
                .plane
                .register_source_server(&caller, registration, token.as_ref())
                .await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }

    async fn get_source_server(
        &self,
        request: Request<GetSourceServerRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let id = server_id(&message.source_server_id)?;
            let view = self.plane.get_source_server(&caller, &id).await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }

    async fn describe_source_servers(
        &self,
        request: Request<DescribeSourceServersRequest>,
    ) -> Result<Response<DescribeSourceServersResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let request = convert::describe_source_servers(&message)?;
            let page = self
                .plane
                .describe_source_servers(&caller, &request)
                .await?;
            Ok(DescribeSourceServersResponse {
                request_id: request_id.to_string(),
                items: page.items.iter().map(server_message).collect(),
                next_token: page.next_token,
            })
        })
        .await
    }

    async fn start_test(
        &self,
        request: Request<StartTestRequest>,
    ) -> Result<Response<StartTestResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("StartTest", &message, |m| &mut m.client_token)?;
            let servers = convert::launch(&message.source_server_id)?;
            let outcome = single_launch(
                self.plane
                    .start_test(&caller, &servers, token.as_ref())
                    .await?,
            )?;
            Ok(StartTestResponse {
                request_id: request_id.to_string(),
                job: Some(launch_job(&outcome)),
                source_server: Some(server_message(&outcome.server)),
            })
        })
        .await
    }

    async fn change_server_life_cycle_state(
        &self,
        request: Request<ChangeServerLifeCycleStateRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("ChangeServerLifeCycleState", &message, |m| {
                &mut m.client_token
            })?;
            let request = convert::change_life_cycle_state(&message)?;
            let view = self
                .plane
                .change_life_cycle_state(&caller, &request, token.as_ref())
                .await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }

    async fn start_cutover(
        &self,
        request: Request<StartCutoverRequest>,
    ) -> Result<Response<StartCutoverResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("StartCutover", &message, |m| &mut m.client_token)?;
            let servers = convert::launch(&message.source_server_id)?;
            let outcome = single_launch(
                self.plane
                    .start_cutover(&caller, &servers, token.as_ref())
                    .await?,
            )?;
            Ok(StartCutoverResponse {
                request_id: request_id.to_string(),
                job: Some(launch_job(&outcome)),
                source_server: Some(server_message(&outcome.server)),
            })
        })
        .await
    }

    async fn finalize_cutover(
        &self,
        request: Request<FinalizeCutoverRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("FinalizeCutover", &message, |m| &mut m.client_token)?;
            let id = server_id(&message.source_server_id)?;
            let view = self
                .plane
                .finalize_cutover(&caller, &id, token.as_ref())
                .await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }

    async fn disconnect_from_service(
        &self,
        request: Request<DisconnectFromServiceRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("DisconnectFromService", &message, |m| &mut m.client_token)?;
            let id = server_id(&message.source_server_id)?;
            let view = self
                .plane
                .disconnect_from_service(&caller, &id, token.as_ref())
                .await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }

    async fn mark_as_archived(
        &self,
        request: Request<MarkAsArchivedRequest>,
    ) -> Result<Response<pb::SourceServer>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("MarkAsArchived", &message, |m| &mut m.client_token)?;
            let id = server_id(&message.source_server_id)?;
            let view = self
                .plane
                .mark_as_archived(&caller, &id, token.as_ref())
                .await?;
            Ok(server_response(&view, &request_id))
        })
        .await
    }
}
