//! The clouds' native wire protocols beside gRPC, so that automation
//! written against the clouds' own SDKs drives `cutover` unchanged: MGN's
//! restJson1 ([`mgn`]) and SMC's RPC style ([`smc`]), each on a listener of
//! its own, over the same control plane, store and event log as gRPC.
//! Requests are signed as the clouds sign them ([`signature`]) with the
//! access keys of a keys file ([`access_keys`]).

pub mod access_keys;
pub mod mgn;
pub mod signature;
pub mod smc;
mod wire_time;

use std::{net::SocketAddr, sync::Arc};

use axum::{body::Body, extract::State, response::Response, Router};
use bytes::Bytes;
use http::{request::Parts, HeaderMap, Method};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::control_plane::ControlPlane;
pub use access_keys::Signers;
use signature::SignedRequest;

/// What the native listeners share: the control plane, who may sign, and
/// the largest body taken.
pub struct NativeApi {
    plane: Arc<ControlPlane>,
    signers: Signers,
    max_body_bytes: usize,
}

impl NativeApi {
    /// Listeners over `plane`, authenticating with `signers`, refusing
    /// bodies over `max_body_bytes`.
    pub fn new(plane: Arc<ControlPlane>, signers: Signers, max_body_bytes: usize) -> Arc<Self> {
        Arc::new(NativeApi {
            plane,
            signers,
            max_body_bytes,
        })
    }
}

/// A request as read off the connection, body included.
pub(crate) struct RawRequest {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
}

impl RawRequest {
    /// The parts a signature covers.
    fn signed(&self) -> SignedRequest<'_> {
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
async fn read(request: http::Request<Body>, limit: usize) -> Option<RawRequest> {
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

/// Which cloud protocol a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS MGN, restJson1.
    Mgn,
    /// Alibaba Cloud SMC, RPC style.
    Smc,
}

/// The HTTP service of `protocol` over `api`: every method and path goes
/// to the protocol's handler, which answers unknown operations in the
/// cloud's own words. [`serve`] runs it on a listener; tests and fuzzers
/// call it in process.
pub fn router(api: Arc<NativeApi>, protocol: Protocol) -> Router {
    match protocol {
        Protocol::Mgn => Router::new().fallback(mgn_request),
        Protocol::Smc => Router::new().fallback(smc_request),
    }
    .with_state(api)
}

/// Serves `protocol` on `listener` until `shutdown`, then lets requests
/// in flight finish.
pub async fn serve(
    api: Arc<NativeApi>,
    protocol: Protocol,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let router = router(api, protocol);
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

async fn mgn_request(State(api): State<Arc<NativeApi>>, request: http::Request<Body>) -> Response {
    match read(request, api.max_body_bytes).await {
        Some(request) => mgn::handle(&api, request).await,
        None => mgn::too_large(api.max_body_bytes),
    }
}

async fn smc_request(State(api): State<Arc<NativeApi>>, request: http::Request<Body>) -> Response {
    match read(request, api.max_body_bytes).await {
        Some(request) => smc::handle(&api, request).await,
        None => smc::too_large(api.max_body_bytes),
    }
}

/// `body` as a JSON response with `status`.
fn json_response(status: http::StatusCode, body: &serde_json::Value) -> Response {
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
