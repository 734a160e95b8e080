//! An in-process gRPC transport for the built-in data plane: its agents
//! speak the same protocol as a remote agent, over in-memory duplex pipes
//! instead of the network, so they need no port, address or certificate.

use std::io;

use hyper_util::rt::TokioIo;
use tokio::{io::DuplexStream, sync::mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

/// Buffer of each in-memory connection, each way.
const PIPE_BYTES: usize = 256 * 1024;

/// A channel whose connections arrive on the returned stream, for a server
/// to `serve_with_incoming` them.
pub(super) fn pair(
) -> Result<(Channel, ReceiverStream<Result<DuplexStream, io::Error>>), tonic::transport::Error> {
    let (connections, incoming) = mpsc::channel(16);
    let channel = Endpoint::from_static("http://in-process.cutover").connect_with_connector_lazy(
        service_fn(move |_: Uri| {
            let connections = connections.clone();
            async move {
                let (client, server) = tokio::io::duplex(PIPE_BYTES);
                connections.send(Ok(server)).await.map_err(|_| {
                    io::Error::new(io::ErrorKind::BrokenPipe, "the in-process server stopped")
                })?;
                Ok::<_, io::Error>(TokioIo::new(client))
            }
        }),
    );
    Ok((channel, ReceiverStream::new(incoming)))
}
