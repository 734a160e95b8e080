//! The gRPC transport: thin tonic handlers that decode and validate a
//! request, call the control plane, and encode the answer. Errors become
//! statuses only in [`status`].

mod account;
mod agent;
pub mod auth;
pub mod convert;
mod lifecycle;
pub mod oversize;
mod replication_jobs;
pub mod request_id;
mod source_servers;
pub mod status;

use std::{future::Future, sync::Arc};

use prost::Message;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::{
    control_plane::{Caller, ClientToken, ControlPlane},
    domain::DomainError,
};

pub use auth::Authenticator;
pub use oversize::OversizeLayer;
pub use request_id::{RequestId, RequestIdLayer};

/// What every handler shares: the control plane and the authenticator.
#[derive(Clone)]
pub struct Api {
    plane: Arc<ControlPlane>,
    auth: Arc<Authenticator>,
    /// Cancelled when the server starts shutting down: open watches end
    /// with UNAVAILABLE so that shutdown never waits on them.
    drain: CancellationToken,
}

impl Api {
    /// Handlers over `plane`, authenticating callers with `auth`; streams
    /// end when `drain` is cancelled.
    pub fn new(
        plane: Arc<ControlPlane>,
        auth: Arc<Authenticator>,
        drain: CancellationToken,
    ) -> Self {
        Api { plane, auth, drain }
    }

    /// Runs one unary call: authenticates, hands the message to `handler`
    /// with the caller and request id, and maps a domain error to its
    /// status.
    async fn unary<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Caller, Req, RequestId) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, DomainError>>,
    {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate);
        let caller = self.auth.caller(request.metadata())?;
        handler(caller, request.into_inner(), request_id.clone())
            .await
            .map(Response::new)
            .map_err(|err| status::to_status(&err, &request_id))
    }
}

/// The client token of `message`, with a digest of the rest of the request
/// (and of the RPC it was sent to), so a retry can be told from a reuse.
fn client_token<M: Message + Clone>(
    rpc: &str,
    message: &M,
    token: impl Fn(&mut M) -> &mut String,
) -> Result<Option<ClientToken>, DomainError> {
    let mut rest = message.clone();
    let value = std::mem::take(token(&mut rest));
    let mut digest = Sha256::new();
    digest.update(rpc.as_bytes());
    digest.update([0]);
    digest.update(rest.encode_to_vec());
    ClientToken::new(&value, hex::encode(digest.finalize()))
}
