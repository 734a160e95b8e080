//! An in-process gRPC transport for the built-in data plane: its agents
//! speak the same protocol as a remote agent, over in-memory duplex pipes
//! instead of the network, so they need no port, address or certificate.

use std::{
    io,
    task::{Context, Poll},
};

use hyper_util::rt::TokioIo;
use tokio::{io::DuplexStream, sync::mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::{service_fn, Layer, Service};

use crate::{
    control_plane::Duties,
    store::{Fence, LeaseName, DUTY},
};

/// Buffer of each in-memory connection, each way.
const PIPE_BYTES: usize = 256 * 1024;

/// A channel whose connections arrive on the returned stream, for a server
/// to `serve_with_incoming` them.
pub(super) fn pair(
) -> Result<(Channel, ReceiverStream<Result<DuplexStream, io::Error>>), tonic::transport::Error> {
    let (connections, incoming) = mpsc::channel(16);
    let channel = Endpoint::from_static("http://in-process.cutover").connect_with_connector_lazy(
        service_fn(move |_: Uri| {
            let connections = connections.clone();
            async move {
                let (client, server) = tokio::io::duplex(PIPE_BYTES);
                connections.send(Ok(server)).await.map_err(|_| {
                    io::Error::new(io::ErrorKind::BrokenPipe, "the in-process server stopped")
                })?;
                Ok::<_, io::Error>(TokioIo::new(client))
            }
        }),
    );
    Ok((channel, ReceiverStream::new(incoming)))
}

/// Runs every call of the built-in data plane as a step of its leased
/// duty: its writes carry the data-plane lease's fence as this replica
/// holds it when the call arrives (fence 0, which no lease ever has, when
/// it does not), so a replica that lost the lease cannot apply a step.
#[derive(Debug, Clone)]
pub(super) struct FenceLayer(pub(super) Duties);

impl<S> Layer<S> for FenceLayer {
    type Service = Fenced<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Fenced {
            inner,
            duties: self.0.clone(),
        }
    }
}

/// The service [`FenceLayer`] wraps around the in-process routes.
#[derive(Debug, Clone)]
pub(super) struct Fenced<S> {
    inner: S,
    duties: Duties,
}

impl<S, B> Service<http::Request<B>> for Fenced<S>
where
    S: Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let fence = self.duties.fence(LeaseName::DataPlane).unwrap_or(Fence {
            lease: LeaseName::DataPlane,
            token: 0,
        });
        let future = DUTY.sync_scope(fence, || self.inner.call(request));
        Box::pin(DUTY.scope(fence, future))
    }
}
