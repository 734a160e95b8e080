//! The gRPC transport: thin tonic handlers that decode and validate a
//! request, call the control plane, and encode the answer. Errors become
//! statuses only in [`status`].

mod account;
mod agent;
pub mod auth;
pub mod convert;
mod front;
mod lifecycle;
pub mod oversize;
mod replication_jobs;
mod source_servers;
pub mod status;

pub use lifecycle::LifecycleRoute;

use std::{future::Future, sync::Arc};

use futures_util::{Stream, StreamExt};

use prost::Message;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{
    api::envelope::{Call, Operation, UNKNOWN_OPERATION},
    control_plane::{Caller, ClientToken, ControlPlane, Failure, Tenant},
    domain::DomainError,
    metrics::{Metrics, Wire, OK},
    store::Fence,
    watch,
};
use cutover_proto::code_name;
use status::Failed;

pub use crate::api::request_id::{CallHead, RequestId, RequestIdLayer, RpcMethod};
pub use auth::Authenticator;
pub use front::FrontLayer;

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

    /// Runs one unary call of an initialised account: authenticates,
    /// checks the account is initialised, hands the message to `handler`
    /// with the tenant and request id, and answers through the envelope.
    async fn unary<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Tenant, Req, RequestId) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, Failure>>,
    {
        self.unary_of_caller(request, |caller, duty, message, request_id| async move {
            let tenant = self.tenant(caller, duty).await?;
            handler(tenant, message, request_id).await
        })
        .await
    }

    /// [`Api::unary`] before the account is known to be initialised: only
    /// InitializeService runs so.
    async fn unary_of_caller<Req, Resp, Fut>(
        &self,
        request: Request<Req>,
        handler: impl FnOnce(Caller, Option<Fence>, Req, RequestId) -> Fut,
    ) -> Result<Response<Resp>, Status>
    where
        Fut: Future<Output = Result<Resp, Failure>>,
    {
        let call = open_call(&request);
        let duty = request.extensions().get::<Fence>().copied();
        let caller = match self.caller(&request) {
            Ok(caller) => caller,
            Err(status) => return Err(self.refused(call, status)),
        };
        let request_id = call.request_id().clone();
        let work = handler(caller, duty, request.into_inner(), request_id);
        // The span is off below debug level: entering and leaving it on
        // every poll, and moving the work into `Instrumented`, would cost
        // for nothing.
        let outcome = match call.span().is_disabled() {
            true => work.await,
            false => work.instrument(call.span().clone()).await,
        };
        match outcome {
            Ok(message) => {
                call.finish(&self.metrics, OK, None);
                Ok(Response::new(message))
            }
            Err(err) => Err(self.failed(call, &err.into())),
        }
    }

    /// `caller` as a tenant, acting for the leased duty `duty` if the call
    /// came with one.
    async fn tenant(&self, caller: Caller, duty: Option<Fence>) -> Result<Tenant, Failure> {
        let tenant = self.plane.tenant(caller).await?;
        Ok(match duty {
            Some(fence) => tenant.on_duty(fence),
            None => tenant,
        })
    }

    /// Finishes `call` refused before any use case ran with `status`.
    fn refused(&self, call: Call, status: Status) -> Status {
        call.finish(&self.metrics, code_name(status.code()), None);
        status
    }

    /// Finishes `call` failed with `err`: its status.
    fn failed(&self, call: Call, err: &Failed) -> Status {
        let status = status::to_status(err, call.request_id());
        let failure = err.failure();
        call.finish(&self.metrics, code_name(status.code()), failure.as_deref());
        status
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
    /// checks the account, opens it with `open` and answers the open
    /// through the envelope; each later item's error is logged and mapped
    /// the same way.
    async fn stream<Req, Item, Msg, Fut, S, E>(
        &self,
        request: Request<Req>,
        open: impl FnOnce(Tenant, Req) -> Fut,
        encode: impl Fn(Item) -> Msg + Send + 'static,
    ) -> Result<Response<BoxStream<Msg>>, Status>
    where
        Fut: Future<Output = Result<S, Failed>>,
        S: Stream<Item = Result<Item, E>> + Send + 'static,
        E: Into<Failed>,
        Msg: Send + 'static,
    {
        let call = open_call(&request);
        let duty = request.extensions().get::<Fence>().copied();
        let caller = match self.caller(&request) {
            Ok(caller) => caller,
            Err(status) => return Err(self.refused(call, status)),
        };
        let opened = async {
            let tenant = self.tenant(caller, duty).await?;
            open(tenant, request.into_inner()).await
        }
        .instrument(call.span().clone())
        .await;
        let items = match opened {
            Ok(items) => items,
            Err(err) => return Err(self.failed(call, &err)),
        };
        let name = call.name().clone();
        call.finish(&self.metrics, OK, None);
        let stream = items.map(move |item| match item {
            Ok(item) => Ok(encode(item)),
            Err(err) => {
                let err: Failed = err.into();
                if let Some(failure) = err.failure() {
                    name.log_failure(&failure);
                }
                Err(status::to_status(&err, name.request_id()))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The envelope's call for `request`: its method and the request id the
/// tower layer gave it.
fn open_call<T>(request: &Request<T>) -> Call {
    let (request_id, method) = match request.extensions().get::<CallHead>() {
        Some(head) => (head.id.clone(), head.method.clone()),
        None => (RequestId::generate(), None),
    };
    let operation = match method {
        Some(method) => Operation::Grpc(method),
        None => Operation::Named(UNKNOWN_OPERATION),
    };
    Call::open(Wire::Grpc, operation, request_id)
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
