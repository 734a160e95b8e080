//! Serving gRPC (and grpc-web and the dashboard) within the limits, and
//! draining it on shutdown.

use std::{future::Future, time::Duration};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{
    service::Routes,
    transport::{server::TcpIncoming, Server},
};
use tonic_health::{server::HealthReporter, ServingStatus};

use super::{routes, tls, ServeError};
use crate::{
    api::grpc::FrontLayer,
    config::{Limits, TlsFiles},
};

/// What shutdown sets off.
pub(super) struct Shutdown {
    /// Cancelled to shut down.
    pub(super) requested: CancellationToken,
    /// Reports every service NOT_SERVING once shutdown begins, so load
    /// balancers stop sending calls.
    pub(super) health: HealthReporter,
    /// Cancelled once shutdown begins: open streams end, so they never
    /// hold the server open.
    pub(super) drained: CancellationToken,
}

/// The server of `routes` on `listener`, until `shutdown.requested`; then
/// it stops taking calls and waits for the open ones (see [`drain`]).
pub(super) fn server(
    listener: TcpListener,
    tls: Option<TlsFiles>,
    limits: &Limits,
    routes: Routes,
    shutdown: Shutdown,
) -> Result<impl Future<Output = Result<(), tonic::transport::Error>>, ServeError> {
    let mut builder = Server::builder();
    if let Some(files) = &tls {
        builder = builder.tls_config(tls::server_config(files)?)?;
    }
    // Without TCP_NODELAY, a reply written in two segments waits for the
    // client's delayed ACK (about 40 ms on Linux).
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(limits.keepalive_interval));
    let Shutdown {
        requested,
        health,
        drained,
    } = shutdown;
    Ok(builder
        .accept_http1(true)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .concurrency_limit_per_connection(limits.max_calls_per_connection)
        .timeout(limits.request_timeout)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .layer(FrontLayer)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, async move {
            requested.cancelled().await;
            tracing::info!("shutting down");
            routes::set_health(&health, ServingStatus::NotServing).await;
            drained.cancel();
        }))
}

/// Runs `server` to its end, or, once `drained`, for at most `grace`:
/// `serve_with_incoming_shutdown` would wait for open calls forever.
pub(super) async fn drain(
    server: impl Future<Output = Result<(), tonic::transport::Error>>,
    drained: &CancellationToken,
    grace: Duration,
) -> Result<(), ServeError> {
    tokio::pin!(server);
    let outcome = tokio::select! {
        outcome = &mut server => outcome,
        () = async { drained.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("calls still open after the grace period; closing them");
            Ok(())
        }
    };
    outcome.map_err(Into::into)
}
