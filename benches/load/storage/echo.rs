//! The `--serve-echo` mode: a bare tonic server whose one unary method
//! returns its request. It is what the same stack (tokio, hyper, tonic,
//! prost) serves with no work behind it, so the ratio of cutoverd's rate
//! to its rate on the same machine, in the same run, says how much of the
//! ceiling the store leaves.

use std::{
    convert::Infallible,
    future::Future,
    io::Write,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::net::TcpListener;
use tonic::{
    body::Body,
    server::{Grpc, NamedService},
    transport::{server::TcpIncoming, Server},
    Request, Response, Status,
};

use crate::storage::BoxError;

/// The echoed message. Its one field has the tag and wire type of
/// `GetSourceServerRequest.source_server_id`, so the load generator sends
/// byte-for-byte the same request to both servers.
#[derive(Clone, PartialEq, prost::Message)]
struct Echo {
    /// Whatever the caller sent.
    #[prost(bytes = "vec", tag = "1")]
    payload: Vec<u8>,
}

/// Answers every method of the service it is mounted as by echoing. It is
/// mounted as `cutover.v1.SourceServerService` so that even the request
/// path (and so the HPACK-encoded headers) matches cutoverd's
/// GetSourceServer.
#[derive(Clone)]
struct EchoService;

impl NamedService for EchoService {
    const NAME: &'static str = "cutover.v1.SourceServerService";
}

impl tower::Service<http::Request<Body>> for EchoService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::<Echo, Echo>::default());
            let echo = tower::service_fn(|request: Request<Echo>| async move {
                Ok::<_, Status>(Response::new(request.into_inner()))
            });
            Ok(grpc.unary(echo, request).await)
        })
    }
}

/// Serves the echo on a free loopback port until killed, on a
/// multi-threaded runtime configured like cutoverd's; prints `listening
/// on ADDR`.
pub(crate) fn serve() -> Result<(), BoxError> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // cutoverd turns tokio's LIFO slot off, which lets a connection batch
    // the frames of many streams into one write; a ceiling without it
    // measured about 10% under cutoverd's own Get, which says more about
    // the runtime setting than about the store.
    #[cfg(tokio_unstable)]
    runtime.disable_lifo_slot();
    let runtime = runtime.enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {}", listener.local_addr()?)?;
        stdout.flush()?;
        // As in cutoverd: without TCP_NODELAY a reply written in two
        // segments waits for the client's delayed ACK.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        Server::builder()
            .add_service(EchoService)
            .serve_with_incoming(incoming)
            .await?;
        Ok(())
    })
}
