//! `cutover.v1.ReplicationJobService`: SMC's replication job operations.

use tonic::{Request, Response, Status};

use super::{client_token, convert, Api};
use crate::{
    control_plane::JobCutOver,
    domain::ReplicationJobId,
    pb::v1::{
        self as pb, replication_job_service_server::ReplicationJobService,
        CreateReplicationJobRequest, CreateReplicationJobResponse, CutOverReplicationJobRequest,
        CutOverReplicationJobResponse, DescribeReplicationJobsRequest,
        DescribeReplicationJobsResponse, GetReplicationJobRequest, StartReplicationJobRequest,
        StartReplicationJobResponse, StopReplicationJobRequest, StopReplicationJobResponse,
    },
};

fn job_id(value: &str) -> Result<ReplicationJobId, crate::domain::DomainError> {
    ReplicationJobId::parse("job_id", value)
}

#[tonic::async_trait]
impl ReplicationJobService for Api {
    async fn create_replication_job(
        &self,
        request: Request<CreateReplicationJobRequest>,
    ) -> Result<Response<CreateReplicationJobResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("CreateReplicationJob", &message, |m| &mut m.client_token)?;
            let request = convert::create_replication_job(&message)?;
            let job_id = self
                .plane
                .create_replication_job(&caller, &request, token.as_ref())
                .await?;
            Ok(CreateReplicationJobResponse {
                request_id: request_id.to_string(),
                job_id: job_id.to_string(),
            })
        })
        .await
    }

    async fn get_replication_job(
        &self,
        request: Request<GetReplicationJobRequest>,
    ) -> Result<Response<pb::ReplicationJob>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let id = job_id(&message.job_id)?;
            let job = self.plane.get_replication_job(&caller, &id).await?;
            Ok(pb::ReplicationJob {
                request_id: request_id.to_string(),
                ..convert::replication_job(&job)
            })
        })
        .await
    }

    async fn describe_replication_jobs(
        &self,
        request: Request<DescribeReplicationJobsRequest>,
    ) -> Result<Response<DescribeReplicationJobsResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let request = convert::describe_replication_jobs(&message)?;
            let page = self
                .plane
                .describe_replication_jobs(&caller, &request)
                .await?;
            Ok(DescribeReplicationJobsResponse {
                request_id: request_id.to_string(),
                replication_jobs: page
                    .items
                    .iter()
                    .map(|job| convert::replication_job(&job.value))
                    .collect(),
                next_token: page.next_token,
            })
        })
        .await
    }

    async fn start_replication_job(
        &self,
        request: Request<StartReplicationJobRequest>,
    ) -> Result<Response<StartReplicationJobResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("StartReplicationJob", &message, |m| &mut m.client_token)?;
            let id = job_id(&message.job_id)?;
            self.plane
                .start_replication_job(&caller, &id, token.as_ref())
                .await?;
            Ok(StartReplicationJobResponse {
                request_id: request_id.to_string(),
            })
        })
        .await
    }

    async fn stop_replication_job(
        &self,
        request: Request<StopReplicationJobRequest>,
    ) -> Result<Response<StopReplicationJobResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("StopReplicationJob", &message, |m| &mut m.client_token)?;
            let id = job_id(&message.job_id)?;
            self.plane
                .stop_replication_job(&caller, &id, token.as_ref())
                .await?;
            Ok(StopReplicationJobResponse {
                request_id: request_id.to_string(),
            })
        })
        .await
    }

    async fn cut_over_replication_job(
        &self,
        request: Request<CutOverReplicationJobRequest>,
    ) -> Result<Response<CutOverReplicationJobResponse>, Status> {
        self.unary(request, move |caller, message, request_id| async move {
            let token = client_token("CutOverReplicationJob", &message, |m| &mut m.client_token)?;
            let id = job_id(&message.job_id)?;
            let cut_over = JobCutOver {
                sync_data: message.sync_data,
            };
            self.plane
                .cut_over_replication_job(&caller, &id, cut_over, token.as_ref())
                .await?;
            Ok(CutOverReplicationJobResponse {
                request_id: request_id.to_string(),
            })
        })
        .await
    }
}
