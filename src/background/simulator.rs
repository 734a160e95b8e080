//! The built-in simulator as a leased duty: it runs while this replica
//! holds the data-plane lease, and its agents speak the same protocol as a
//! remote agent over an in-process gRPC link (in-memory duplex pipes, no
//! port, address or certificate) whose every call carries the lease's
//! fence.

use std::{
    io,
    task::{Context, Poll},
};

use hyper_util::rt::TokioIo;
use tokio::{io::DuplexStream, sync::mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::{service_fn, Layer, Service};

use crate::{
    background::Duties,
    simulator::Fleet,
    store::{Fence, LeaseName},
};

/// Buffer of each in-memory connection, each way.
const PIPE_BYTES: usize = 256 * 1024;

/// A channel whose connections arrive on the returned stream, for a server
/// to `serve_with_incoming` them.
pub fn pair(
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

/// Runs every call of the built-in simulator as a step of its leased
/// duty: the call carries the simulator lease's fence as this replica
/// holds it when the call arrives (a request extension, which the gRPC
/// face makes part of the acting tenant and so of every write) (fence 0, which no lease ever has, when
/// it does not), so a replica that lost the lease cannot apply a step.
#[derive(Debug, Clone)]
pub struct FenceLayer(pub Duties);

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
pub struct Fenced<S> {
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let fence = self.duties.fence(LeaseName::Simulator).unwrap_or(Fence {
            lease: LeaseName::Simulator,
            token: 0,
        });
        request.extensions_mut().insert(fence);
        Box::pin(self.inner.call(request))
    }
}

/// Runs the built-in simulator while this replica holds its lease: starts
/// a fleet when the lease is taken, stops it when the lease is lost (or
/// taken again under another fence), until `shutdown`.
pub async fn run_while_leased(
    fleet: impl Fn() -> Fleet,
    mut lease: tokio::sync::watch::Receiver<Option<u64>>,
    shutdown: CancellationToken,
) {
    loop {
        let held = loop {
            if let Some(fence) = *lease.borrow_and_update() {
                break fence;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = lease.changed() => if changed.is_err() { return },
            }
        };
        let stop = shutdown.child_token();
        let running = tokio::spawn(fleet().run(stop.clone()));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = lease.changed() => {
                    if changed.is_err() || *lease.borrow() != Some(held) {
                        break;
                    }
                }
            }
        }
        stop.cancel();
        let _ = running.await;
    }
}
