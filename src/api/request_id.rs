//! Request ids: every call gets one, sent back as `x-request-id` metadata
//! (on success and on error) and in the response body's `request_id`.

use std::{
    fmt,
    task::{Context, Poll},
};

use http::{HeaderValue, Request, Response};
use rand::Rng;
use tower::{Layer, Service};

pub use cutover_proto::REQUEST_ID_HEADER;

/// The id of one request: 32 hex digits, random.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        RequestId(hex::encode(rand::thread_rng().gen::<[u8; 16]>()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same id spelt as Alibaba Cloud's services spell theirs: its 32
    /// hex digits in upper case, as a UUID (8-4-4-4-12).
    pub fn in_uuid_form(&self) -> RequestId {
        let hex = self.0.to_ascii_uppercase();
        RequestId(
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
        )
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The gRPC method a request calls (its HTTP path), for metrics. Holds the
/// request's own bytes: cloning it copies no string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcMethod(http::uri::PathAndQuery);

impl RpcMethod {
    /// The method a request to `path` calls.
    pub(crate) fn new(path: http::uri::PathAndQuery) -> RpcMethod {
        RpcMethod(path)
    }

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
        let id = RequestId::generate();
        let header = HeaderValue::from_str(id.as_str()).ok();
        request.extensions_mut().insert(id);
        if let Some(path) = request.uri().path_and_query().cloned() {
            request.extensions_mut().insert(RpcMethod(path));
        }
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
        let id = RequestId("0123456789abcdef0123456789abcdef".to_owned());
        assert_eq!(
            id.in_uuid_form().as_str(),
            "01234567-89AB-CDEF-0123-456789ABCDEF"
        );
        assert_eq!(
            RequestId("short".to_owned()).in_uuid_form().as_str(),
            "SHORT"
        );
    }
}
