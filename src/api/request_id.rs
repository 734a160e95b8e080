//! Request ids: every call gets one, sent back as `x-request-id` metadata
//! (on success and on error) and in the response body's `request_id`.

use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderValue, Request, Response};
use rand::Rng;
use tower::{Layer, Service};

pub use cutover_proto::REQUEST_ID_HEADER;

/// The id of one request: 32 hex digits, random. Shared, not copied: a
/// call hands it to its span, its answer's header and body, and its log
/// lines (each a `String` copy once, a fifth of the request-id layer's
/// time in the GetSourceServer profile).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let mut digits = [0u8; 32];
        // `hex::encode` goes through a char iterator (0.4% of the profile);
        // the slice form is a table lookup per byte.
        let encoded = hex::encode_to_slice(rand::thread_rng().gen::<[u8; 16]>(), &mut digits)
            .ok()
            .and_then(|()| std::str::from_utf8(&digits).ok());
        RequestId(Arc::from(
            encoded.unwrap_or("00000000000000000000000000000000"),
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an `x-request-id` value, marked never to be indexed by
    /// HPACK: a value that never repeats would only churn the connection's
    /// dynamic table, evicting the headers that do repeat (inserting and
    /// evicting were 7% of GetSourceServer's instructions under
    /// callgrind).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// The same id spelt as Alibaba Cloud's services spell theirs: its 32
    /// hex digits in upper case, as a UUID (8-4-4-4-12).
    pub fn in_uuid_form(&self) -> RequestId {
        let hex = self.0.to_ascii_uppercase();
        RequestId(Arc::from(
            match (
                hex.get(0..8),
                hex.get(8..12),
                hex.get(12..16),
                hex.get(16..20),
                hex.get(20..32),
            ) {
                (Some(a), Some(b), Some(c), Some(d), Some(e)) => format!("{a}-{b}-{c}-{d}-{e}"),
                _ => hex,
            },
        ))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the front of the gRPC port hands a call: its request id and the
/// method it calls. One extension, not two: each insert into a request's
/// extensions allocates.
#[derive(Debug, Clone)]
pub struct CallHead {
    /// The call's request id.
    pub id: RequestId,
    /// The method, when the request had a path.
    pub method: Option<RpcMethod>,
}

impl CallHead {
    /// A fresh request id for `request`, with the method it calls.
    pub fn of<B>(request: &Request<B>) -> CallHead {
        CallHead {
            id: RequestId::generate(),
            method: request.uri().path_and_query().cloned().map(RpcMethod),
        }
    }
}

/// The gRPC method a request calls (its HTTP path), for metrics. Holds the
/// request's own bytes: cloning it copies no string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcMethod(http::uri::PathAndQuery);

impl RpcMethod {
    /// The path, such as `/cutover.v1.SourceServerService/GetSourceServer`.
    pub fn path(&self) -> &str {
        self.0.path()
    }
}

/// Tower layer that assigns every request its id.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

/// The service [`RequestIdLayer`] wraps around each gRPC service.
#[derive(Debug, Clone)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for RequestIdService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let head = CallHead::of(&request);
        let header = head.id.header_value();
        request.extensions_mut().insert(head);
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            if let Some(header) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, header);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn request_ids_look_like_alibabas() {
        let id = RequestId("0123456789abcdef0123456789abcdef".into());
        assert_eq!(
            id.in_uuid_form().as_str(),
            "01234567-89AB-CDEF-0123-456789ABCDEF"
        );
        assert_eq!(RequestId("short".into()).in_uuid_form().as_str(), "SHORT");
    }

    #[test]
    fn generated_ids_are_32_lower_case_hex_digits_and_differ() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_eq!(a.as_str().len(), 32);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }
}
