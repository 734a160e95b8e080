//! The input of the MGN and SMC targets: an HTTP/1.1 request as text, so
//! that seeds are readable and mutations stay close to requests.
//!
//! ```text
//! POST /FinalizeCutover?a=b HTTP/1.1
//! host: 127.0.0.1:8080
//! x-fuzz-now: 1795996875000
//!
//! {"sourceServerID":"@0"}
//! ```
//!
//! The first line is the method and the target; header lines follow up to
//! an empty line; the rest is the body. `@N`, `#N` and `$N` in the target
//! and the body name known ids ([`crate::Known`]). Header `x-fuzz-now`
//! (milliseconds since the epoch) is not sent: it is the `now` the target
//! passes when it calls the signature verifiers directly. A line or header
//! that hyper would refuse makes the input uninteresting (`None`).

use std::sync::Arc;

use axum::body::Body;
use cutover::{
    api::{
        self,
        native::{
            access_keys::AccessKey,
            signature::{SignatureError, SignedRequest},
            NativeApi, Signers,
        },
        Protocol,
    },
    control_plane::Caller,
    domain::{AccountId, Timestamp},
    metrics::Metrics,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use tower::ServiceExt;

use crate::{runtime, World, NOW};

/// Largest body the native endpoints take here: small, so that inputs
/// reach the too-large answer.
pub const MAX_BODY_BYTES: usize = 2048;

/// The access key the direct signature checks know.
pub const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";

/// One parsed input.
#[derive(Debug)]
pub struct HttpInput {
    /// The method.
    pub method: Method,
    /// The target, ids filled in.
    pub uri: Uri,
    /// The headers, without `x-fuzz-now`.
    pub headers: HeaderMap,
    /// The body, ids filled in.
    pub body: Vec<u8>,
    /// `now` for the direct signature checks.
    pub now: Timestamp,
}

/// Latest instant the direct checks are given: 9999-12-31T23:59:59Z (the
/// service's clock reads no later, and RFC 3339 goes no further).
const LATEST: i64 = 253_402_300_799_000;

impl HttpInput {
    /// `data` as a request to `world`; `None` when no HTTP server would
    /// pass it on.
    pub fn parse(world: &World, data: &[u8]) -> Option<HttpInput> {
        let (head, body) = split_head(data);
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split('\n').map(|line| line.trim_end_matches('\r'));
        let mut first = lines.next()?.split(' ');
        let method = Method::from_bytes(first.next()?.as_bytes()).ok()?;
        let known = world.known();
        let target = known.substitute(first.next()?);
        let uri: Uri = target.parse().ok()?;
        uri.path_and_query()?;
        let mut headers = HeaderMap::new();
        let mut now = NOW;
        for line in lines {
            let (name, value) = line.split_once(':')?;
            let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
            let value = value.trim();
            if name == "x-fuzz-now" {
                now = Timestamp(value.parse::<i64>().ok()?.clamp(0, LATEST));
                continue;
            }
            headers.append(name, HeaderValue::from_str(value).ok()?);
        }
        let body = match std::str::from_utf8(body) {
            Ok(text) => known.substitute(text).into_bytes(),
            Err(_) => body.to_vec(),
        };
        Some(HttpInput {
            method,
            uri,
            headers,
            body,
            now,
        })
    }

    /// The parts a signature covers.
    pub fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: self.method.as_str(),
            path: self.uri.path(),
            query: self.uri.query().unwrap_or_default(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// The request to send.
    pub fn request(&self) -> http::Request<Body> {
        let mut request = http::Request::new(Body::from(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// The head and the body of `data`, split at the first empty line.
fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    for (i, window) in data.windows(2).enumerate() {
        if window == b"\n\n" {
            return (&data[..i], &data[i + 2..]);
        }
        if window == b"\n\r" && data.get(i + 2) == Some(&b'\n') {
            return (&data[..i], &data[i + 3..]);
        }
    }
    (data, &[])
}

/// Keys for the direct signature checks: [`ACCESS_KEY_ID`] with `secret`,
/// for account 111122223333.
pub fn keys(secret: &str) -> Signers {
    let key = AccessKey {
        secret: secret.to_owned(),
        caller: Caller {
            account_id: AccountId::parse("account", "111122223333").expect("account id"),
        },
    };
    Signers::Keys([(ACCESS_KEY_ID.to_owned(), key)].into_iter().collect())
}

/// A signature check's answer, checked for what every answer must be: a
/// refusal names what is wrong.
pub fn check_signature<T: std::fmt::Debug>(outcome: Result<T, SignatureError>) {
    if crate::debug() {
        eprintln!("signature: {outcome:?}");
    }
    if let Err(SignatureError::Malformed(why) | SignatureError::Expired(why)) = outcome {
        assert!(!why.is_empty(), "a signature refusal without a reason");
    }
}

/// The router of `protocol` over `world`'s control plane, taking any
/// well-formed signature as the built-in account.
pub fn router(world: &World, protocol: Protocol) -> &axum::Router {
    let slot = match protocol {
        Protocol::Mgn => 0,
        Protocol::Smc => 1,
    };
    world.router(slot, |world| {
        let api = NativeApi::new(
            Arc::clone(&world.plane),
            Signers::BuiltIn(Caller::clone(&world.tenant)),
            MAX_BODY_BYTES,
            Metrics::new(),
        );
        api::router(api, protocol)
    })
}

/// What a native endpoint answered.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as JSON when there is one.
    pub body: Option<serde_json::Value>,
}

/// Sends `input` through the router of `protocol` over `world`, and
/// checks what every answer must be: not a server error, and JSON when it
/// has a body.
pub fn send(world: &World, protocol: Protocol, input: &HttpInput) -> Answer {
    runtime().block_on(async {
        let response = router(world, protocol)
            .clone()
            .oneshot(input.request())
            .await
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("a response body is readable");
        assert!(
            !parts.status.is_server_error(),
            "{protocol:?} answered {} to {input:?}: {}",
            parts.status,
            String::from_utf8_lossy(&bytes)
        );
        if crate::debug() {
            eprintln!(
                "{} {} -> {} {}",
                input.method,
                input.uri,
                parts.status,
                String::from_utf8_lossy(&bytes)
            );
        }
        let body = match bytes.is_empty() {
            true => None,
            false => Some(serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                panic!(
                    "{protocol:?} answered a body that is not JSON ({err}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })),
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    })
}
