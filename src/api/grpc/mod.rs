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
mod source_servers;
pub mod status;

pub use lifecycle::LifecycleRoute;

use std::{future::Future, sync::Arc, time::Instant};

use futures_util::{Stream, StreamExt};

use prost::Message;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::{
    control_plane::{Caller, ClientToken, ControlPlane, Tenant},
    domain::DomainError,
    metrics::Metrics,
    watch,
};

pub use crate::api::request_id::{RequestId, RequestIdLayer, RpcMethod};
pub use auth::Authenticator;
pub use oversize::oversize_layer;

/// What every handler shares: the control plane, the authenticator, the
/// drain signal and the metrics.
#[derive(Clone)]
pub struct Api {
    plane: Arc<ControlPlane>,
    auth: Arc<Authenticator>,
    /// Cancelled when the server starts shutting down: open watches end
    /// with UNAVAILABLE so that shutdown never waits on them.
    drain: CancellationToken,
    metrics: Arc<Metrics>,
    /// Live events to watchers, grouped by connection.
    fanout: watch::Fanout,
}

impl Api {
    /// Handlers over `plane`, authenticating callers with `auth`; streams
    /// end when `drain` is cancelled; calls are counted in `metrics`.
    pub fn new(
        plane: Arc<ControlPlane>,
        auth: Arc<Authenticator>,
        drain: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Self {
        Api {
            fanout: watch::Fanout::new(
                Arc::clone(plane.store()),
                drain.clone(),
                metrics.watchers_fell_behind(),
            ),
            plane,
            auth,
            drain,
            metrics,
        }
    }

    /// Records a finished unary call or stream open.
    fn record<T>(&self, method: Option<&RpcMethod>, started: Instant, outcome: &Result<T, Status>) {
        let code = outcome
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        let method = method.map_or("unknown", RpcMethod::path);
        let elapsed = started.elapsed();
        tracing::debug!(
            ?code,
            elapsed_us = elapsed.as_micros() as u64,
            "call finished"
        );
        self.metrics.rpc_finished(method, code, elapsed);
    }

    /// Runs one unary call of an initialised account: authenticates,
    /// checks the account is initialised, hands the message to `handler`
    /// with the tenant and request id, maps a domain error to its status,
    /// and records the call.
    async fn unary<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Tenant, Req, RequestId) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, DomainError>>,
    {
        self.unary_of_caller(request, |caller, message, request_id| async move {
            let tenant = self.plane.tenant(caller).await?;
            handler(tenant, message, request_id).await
        })
        .await
    }

    /// [`Api::unary`] before the account is known to be initialised: only
    /// InitializeService runs so.
    async fn unary_of_caller<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Caller, Req, RequestId) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, DomainError>>,
    {
        let (started, method, request_id) = call_context(&request);
        let outcome = match self.caller(&request) {
            Ok(caller) => handler(caller, request.into_inner(), request_id.clone())
                .await
                .map(Response::new)
                .map_err(|err| status::to_status(&err, &request_id)),
            Err(status) => Err(status),
        };
        self.record(method.as_ref(), started, &outcome);
        outcome
    }

    /// Who sent `request`: by its metadata, or by its connection's client
    /// certificate.
    fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let certificates = request.peer_certs();
        self.auth.caller(
            request.metadata(),
            certificates.as_deref().map(Vec::as_slice),
        )
    }

    /// Opens a server stream of an initialised account: authenticates,
    /// checks the account, opens it with `open`, maps an error to its
    /// status, records the open, and ends each item's error the same way.
    async fn stream<Req, Item, Msg, Fut, S>(
        &self,
        request: Request<Req>,
        open: impl FnOnce(Tenant, Req) -> Fut,
        encode: impl Fn(Item) -> Msg + Send + 'static,
    ) -> Result<Response<BoxStream<Msg>>, Status>
    where
        Fut: Future<Output = Result<S, DomainError>>,
        S: Stream<Item = Result<Item, DomainError>> + Send + 'static,
        Msg: Send + 'static,
    {
        let (started, method, request_id) = call_context(&request);
        let opened = match self.caller(&request) {
            Ok(caller) => {
                let opened = match self.plane.tenant(caller).await {
                    Ok(tenant) => open(tenant, request.into_inner()).await,
                    Err(err) => Err(err),
                };
                opened.map_err(|err| status::to_status(&err, &request_id))
            }
            Err(status) => Err(status),
        };
        self.record(method.as_ref(), started, &opened);
        let items = opened?;
        let stream = items.map(move |item| match item {
            Ok(item) => Ok(encode(item)),
            Err(err) => Err(status::to_status(&err, &request_id)),
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// When a call started, its method and its request id.
fn call_context<T>(request: &Request<T>) -> (Instant, Option<RpcMethod>, RequestId) {
    let extensions = request.extensions();
    let request_id = extensions
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate);
    (
        Instant::now(),
        extensions.get::<RpcMethod>().cloned(),
        request_id,
    )
}

/// A boxed server stream of `T`.
type BoxStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

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
