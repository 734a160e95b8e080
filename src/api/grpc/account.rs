//! `cutover.v1.AccountService`.

use tonic::{Request, Response, Status};

use super::Api;
use crate::pb::v1::{
    account_service_server::AccountService, InitializeServiceRequest, InitializeServiceResponse,
};

#[tonic::async_trait]
impl AccountService for Api {
    async fn initialize_service(
        &self,
        request: Request<InitializeServiceRequest>,
    ) -> Result<Response<InitializeServiceResponse>, Status> {
        self.unary_of_caller(
            request,
            move |caller, _duty, _message, request_id| async move {
                let newly_initialized = self.plane.initialize_service(&caller).await?;
                Ok(InitializeServiceResponse {
                    request_id: request_id.to_string(),
                    account_id: caller.account_id.to_string(),
                    newly_initialized,
                })
            },
        )
        .await
    }
}
