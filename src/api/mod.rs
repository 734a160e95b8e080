//! The service's faces: gRPC ([`grpc`]), the clouds' own wire protocols
//! beside it (MGN restJson1 in [`mgn`], SMC RPC in [`smc`], sharing
//! [`native`]) and the live wave page ([`dashboard`]). Each face parses its
//! wire into the control plane's calls and renders the answer back; what
//! every face shares (request ids, listing files) lives here.

pub mod dashboard;
pub mod envelope;
pub mod grpc;
pub mod listing_file;
pub mod mgn;
pub mod native;
pub mod request_id;
pub mod smc;

use std::sync::Arc;

use axum::Router;

use self::native::NativeApi;

/// Which cloud protocol a native listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS MGN, restJson1.
    Mgn,
    /// Alibaba Cloud SMC, RPC style.
    Smc,
}

/// The HTTP service of `protocol` over `api`: every method and path goes
/// to the protocol's handler, which answers unknown operations in the
/// cloud's own words. [`native::serve`] runs it on a listener; tests and
/// fuzzers call it in process.
pub fn router(api: Arc<NativeApi>, protocol: Protocol) -> Router {
    match protocol {
        Protocol::Mgn => mgn::router(api),
        Protocol::Smc => smc::router(api),
    }
}
