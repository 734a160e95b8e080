//! What the clouds' native wire protocols share beside gRPC, so that
//! automation written against the clouds' own SDKs drives `cutover`
//! unchanged: MGN's restJson1 ([`crate::api::mgn`]) and SMC's RPC style
//! ([`crate::api::smc`]), each on a listener of its own, over the same
//! control plane, store and event log as gRPC. Requests are signed as the
//! clouds sign them ([`signature`]) with the access keys of a keys file
//! ([`access_keys`]).

pub mod access_keys;
pub mod signature;
pub(crate) mod wire_time;

use std::{net::SocketAddr, sync::Arc};

use axum::{body::Body, response::Response, Router};
use bytes::Bytes;
use http::{request::Parts, HeaderMap, Method};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{control_plane::ControlPlane, metrics::Metrics};
pub use access_keys::Signers;
use signature::SignedRequest;

/// What the native listeners share: the control plane, who may sign, and
/// the largest body taken.
pub struct NativeApi {
    pub(crate) plane: Arc<ControlPlane>,
    pub(crate) signers: Signers,
    pub(crate) max_body_bytes: usize,
    pub(crate) metrics: Arc<Metrics>,
}

impl NativeApi {
    /// Listeners over `plane`, authenticating with `signers`, refusing
    /// bodies over `max_body_bytes`, recording calls in `metrics`.
    pub fn new(
        plane: Arc<ControlPlane>,
        signers: Signers,
        max_body_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(NativeApi {
            plane,
            signers,
            max_body_bytes,
            metrics,
        })
    }
}

/// A request as read off the connection, body included.
pub(crate) struct RawRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl RawRequest {
    /// The parts a signature covers.
    pub(crate) fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: self.method.as_str(),
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Reads `request` whole; `None` when its body is over `limit` bytes.
pub(crate) async fn read(request: http::Request<Body>, limit: usize) -> Option<RawRequest> {
    let (parts, body): (Parts, Body) = request.into_parts();
    let body = axum::body::to_bytes(body, limit).await.ok()?;
    Some(RawRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    })
}

/// Serves `router` on `listener` until `shutdown`, then lets requests in
/// flight finish.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY a reply written in two segments waits for the
    // client's delayed ACK, as on the gRPC listener.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// `body` as a JSON response with `status`.
pub(crate) fn json_response(status: http::StatusCode, body: &serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The address a native listener may serve without keys: loopback only,
/// unless the operator says `--insecure`, as for gRPC.
pub fn check_exposure(
    name: &str,
    addr: SocketAddr,
    has_keys: bool,
    insecure: bool,
) -> Result<(), String> {
    if !has_keys && !insecure && !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to serve {name} on {addr} without access keys: give --access-keys-file, \
             listen on a loopback address, or pass --insecure"
        ));
    }
    Ok(())
}
