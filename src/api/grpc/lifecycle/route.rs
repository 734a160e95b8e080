//! The route of `cutover.v1.LifecycleService`, written by hand rather than
//! generated: its codec writes an event's bytes as encoded once for every
//! watcher (see [`crate::store::SharedEvent`]), which the
//! generated service, bound to prost's codec, cannot do.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use tonic::{
    body::Body,
    codec::{BufferSettings, Codec, EncodeBuf, Encoder},
    server::{Grpc, NamedService, ServerStreamingService},
    Request, Response, Status,
};
use tonic_prost::ProstDecoder;

use crate::{
    api::grpc::{Api, BoxStream},
    pb::v1::WatchLifecycleEventsRequest,
    watch::WatchItem,
};

/// A watch stream's initial encode buffer. tonic's default, 8 KiB, was most
/// of an idle watcher's memory; the buffer grows when a message or a batch
/// of them needs more (measured: 8.1 -> 5.1 KiB per idle watcher, same CPU).
const ENCODE_BUFFER_BYTES: usize = 2048;
/// Encoded bytes gathered before a frame is handed to HTTP/2 (tonic's
/// default).
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

const WATCH_PATH: &str = "/cutover.v1.LifecycleService/WatchLifecycleEvents";

/// `cutover.v1.LifecycleService`, ready to add to the server's routes.
#[derive(Clone)]
pub struct LifecycleRoute {
    api: Api,
    max_decoding_message_size: usize,
}

impl LifecycleRoute {
    /// The service over `api`, decoding requests of at most
    /// `max_decoding_message_size` bytes.
    #[must_use]
    pub fn new(api: Api, max_decoding_message_size: usize) -> Self {
        LifecycleRoute {
            api,
            max_decoding_message_size,
        }
    }
}

impl std::fmt::Debug for LifecycleRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifecycleRoute").finish_non_exhaustive()
    }
}

impl NamedService for LifecycleRoute {
    const NAME: &'static str = "cutover.v1.LifecycleService";
}

impl tower::Service<http::Request<Body>> for LifecycleRoute {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != WATCH_PATH {
            return Box::pin(async {
                Ok(
                    Status::unimplemented("no such method in cutover.v1.LifecycleService")
                        .into_http(),
                )
            });
        }
        let method = WatchMethod(self.api.clone());
        let mut grpc = Grpc::new(WatchCodec(self.api.clone()))
            .apply_max_message_size_config(Some(self.max_decoding_message_size), None);
        Box::pin(async move { Ok(grpc.server_streaming(method, request).await) })
    }
}

struct WatchMethod(Api);

impl ServerStreamingService<WatchLifecycleEventsRequest> for WatchMethod {
    type Response = WatchItem;
    type ResponseStream = BoxStream<WatchItem>;
    type Future =
        futures_util::future::BoxFuture<'static, Result<Response<Self::ResponseStream>, Status>>;

    fn call(&mut self, request: Request<WatchLifecycleEventsRequest>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move { api.watch_lifecycle_events(request).await })
    }
}

/// Decodes requests with prost; encodes watch items with the API.
struct WatchCodec(Api);

impl Codec for WatchCodec {
    type Encode = WatchItem;
    type Decode = WatchLifecycleEventsRequest;
    type Encoder = WatchEncoder;
    type Decoder = ProstDecoder<WatchLifecycleEventsRequest>;

    fn encoder(&mut self) -> WatchEncoder {
        WatchEncoder(self.0.clone())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder::default()
    }
}

/// Encodes watch items.
struct WatchEncoder(Api);

impl Encoder for WatchEncoder {
    type Item = WatchItem;
    type Error = Status;

    fn encode(&mut self, item: WatchItem, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        // EncodeBuf grows as needed, so prost's "not enough room" cannot
        // happen; mapped all the same rather than unwrapped.
        self.0
            .encode_watch_item(item, buf)
            .map_err(|err| Status::internal(err.to_string()))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(ENCODE_BUFFER_BYTES, YIELD_THRESHOLD_BYTES)
    }
}
