//! What runs before a gRPC handler, as one tower service rather than a
//! stack of four: it answers a browser's `GET` of the dashboard, gives the
//! call its request id (and the method it calls), sends grpc-web and
//! HTTP/1.1 requests through tonic-web and plain HTTP/2 gRPC straight to
//! the routes, and on the way back sets `x-request-id` and turns tonic's
//! oversize OUT_OF_RANGE into RESOURCE_EXHAUSTED. One unboxed future per
//! call: the stack it replaces boxed one future and re-boxed both bodies
//! of every plain gRPC call (about a tenth of GetSourceServer's CPU in
//! the profile in BENCHMARKS.md).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{header, HeaderValue, Method, Request, Response, Version};
use tonic::body::Body;
use tonic_web::GrpcWebLayer;
use tower::{Layer, Service};

use super::oversize::resource_exhausted_if_oversize;
use crate::api::{
    dashboard,
    request_id::{CallHead, REQUEST_ID_HEADER},
};

/// Tower layer putting [`Front`] before the gRPC routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrontLayer;

impl<S: Clone> Layer<S> for FrontLayer {
    type Service = Front<S>;

    fn layer(&self, routes: S) -> Self::Service {
        Front {
            web: GrpcWebLayer::new().layer(routes.clone()),
            plain: routes,
        }
    }
}

/// The service [`FrontLayer`] wraps around the gRPC routes.
#[derive(Debug, Clone)]
pub struct Front<S> {
    plain: S,
    web: tonic_web::GrpcWebService<S>,
}

impl<S> Service<Request<Body>> for Front<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone,
    tonic_web::GrpcWebService<S>:
        Service<Request<Body>, Response = Response<Body>, Error = S::Error>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future =
        FrontFuture<S::Future, <tonic_web::GrpcWebService<S> as Service<Request<Body>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.plain.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.web.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if matches!(*request.method(), Method::GET | Method::HEAD) {
            let head_only = request.method() == Method::HEAD;
            if let Some(page) = dashboard::page(request.uri().path(), head_only) {
                return FrontFuture::Page { page: Some(page) };
            }
        }
        let head = CallHead::of(&request);
        let header = head.id.header_value();
        request.extensions_mut().insert(head);
        if is_plain_grpc(&request) {
            FrontFuture::Plain {
                future: self.plain.call(request),
                header,
            }
        } else {
            FrontFuture::Web {
                future: self.web.call(request),
                header,
            }
        }
    }
}

/// Plain gRPC: HTTP/2 and not a grpc-web content type. Everything else
/// (grpc-web on either version, and HTTP/1.1, which tonic-web refuses as
/// gRPC) goes through tonic-web, as before.
fn is_plain_grpc<B>(request: &Request<B>) -> bool {
    request.version() == Version::HTTP_2
        && !request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc-web"))
}

pin_project_lite::pin_project! {
    /// The answer of [`Front`]: a page, or the routes' answer with the
    /// call's request id.
    #[project = FrontProjection]
    pub enum FrontFuture<P, W> {
        /// A dashboard page, answered at once.
        Page { page: Option<Response<Body>> },
        /// Plain gRPC.
        Plain { #[pin] future: P, header: Option<HeaderValue> },
        /// grpc-web, or anything tonic-web answers.
        Web { #[pin] future: W, header: Option<HeaderValue> },
    }
}

impl<P, W, E> Future for FrontFuture<P, W>
where
    P: Future<Output = Result<Response<Body>, E>>,
    W: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (answered, header) = match self.project() {
            FrontProjection::Page { page } => {
                return match page.take() {
                    Some(page) => Poll::Ready(Ok(page)),
                    // Polled again after it answered: nothing more to give.
                    None => Poll::Pending,
                };
            }
            FrontProjection::Plain { future, header } => (future.poll(cx), header),
            FrontProjection::Web { future, header } => (future.poll(cx), header),
        };
        match answered {
            Poll::Ready(Ok(response)) => {
                let mut response = resource_exhausted_if_oversize(response);
                if let Some(header) = header.take() {
                    response.headers_mut().insert(REQUEST_ID_HEADER, header);
                }
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}
