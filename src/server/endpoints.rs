//! The endpoints beside gRPC: Prometheus metrics, and the native MGN and
//! SMC protocols.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::work::Tasks;
use crate::{
    api::{
        self,
        native::{self, NativeApi, Signers},
        Protocol,
    },
    control_plane::ControlPlane,
    metrics::Metrics,
};

/// Serves `metrics` on `listener`, when there is one, until the tasks
/// stop: scrapes go on while gRPC drains.
pub(super) fn start_metrics(
    tasks: &mut Tasks,
    metrics: Arc<Metrics>,
    listener: Option<TcpListener>,
) {
    let Some(listener) = listener else {
        return;
    };
    let stop = tasks.stopping();
    tasks.spawn(async move {
        if let Err(err) = metrics.serve(listener, stop).await {
            tracing::error!(%err, "the metrics endpoint failed");
        }
    });
}

/// Serves each native protocol that has a listener, decoding bodies of at
/// most `max_body_bytes` and recording calls in `metrics`, until
/// `drained`: they stop taking requests when gRPC does.
pub(super) fn start_native(
    tasks: &mut Tasks,
    plane: &Arc<ControlPlane>,
    metrics: &Arc<Metrics>,
    signers: Signers,
    max_body_bytes: usize,
    endpoints: [(Protocol, Option<TcpListener>); 2],
    drained: &CancellationToken,
) {
    let native = NativeApi::new(
        Arc::clone(plane),
        signers,
        max_body_bytes,
        Arc::clone(metrics),
    );
    for (protocol, listener) in endpoints {
        if let Some(listener) = listener {
            let (native, stop) = (Arc::clone(&native), drained.clone());
            tasks.spawn(async move {
                if let Err(err) = native::serve(api::router(native, protocol), listener, stop).await
                {
                    tracing::error!(%err, ?protocol, "a native protocol endpoint failed");
                }
            });
        }
    }
}
