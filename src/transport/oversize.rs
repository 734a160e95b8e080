//! tonic rejects a request message over the size limit with OUT_OF_RANGE,
//! which this API uses for compacted watch revisions; the client must be
//! able to tell them apart, so an oversize message becomes
//! RESOURCE_EXHAUSTED (what gRPC itself uses for message limits).

use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use tower::{Layer, Service};

/// How tonic's decoder words the error, percent-encoded in `grpc-message`.
const TOO_LARGE: &str = "Error, decoded message length too large";

/// Tower layer that rewrites tonic's oversize-message status.
#[derive(Debug, Clone, Copy, Default)]
pub struct OversizeLayer;

impl<S> Layer<S> for OversizeLayer {
    type Service = Oversize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Oversize { inner }
    }
}

/// The service [`OversizeLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Oversize<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for Oversize<S>
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

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            let headers = response.headers_mut();
            let oversize = headers.get("grpc-status").is_some_and(|s| s == "11")
                && headers
                    .get("grpc-message")
                    .and_then(|m| m.to_str().ok())
                    .is_some_and(|m| m.replace("%20", " ").starts_with(TOO_LARGE));
            if oversize {
                headers.insert("grpc-status", HeaderValue::from_static("8"));
            }
            Ok(response)
        })
    }
}
