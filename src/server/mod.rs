//! Assembles the service: store, control plane, background work, the
//! built-in simulator, and the gRPC server with its limits, TLS,
//! grpc-web, health, reflection, request ids and the wave dashboard.
//! [`serve`] runs the phases in order; each takes the typed settings its
//! section of the [`Config`] produced.

mod access;
mod endpoints;
mod grpc;
mod routes;
mod simulation;
mod store;
mod tls;
mod work;

use std::{net::SocketAddr, sync::Arc};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{grpc::Api, Protocol},
    config::Config,
    control_plane::{ControlPlane, SystemClock},
    metrics::Metrics,
};

pub use access::{check_exposure, check_native_exposure};
pub use store::DATABASE_FILE;

/// Why the service could not start or stopped with an error.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// The sockets the service answers on.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC (and grpc-web).
    pub grpc: TcpListener,
    /// Prometheus metrics, when enabled.
    pub metrics: Option<TcpListener>,
    /// The AWS MGN endpoint, when enabled.
    pub mgn: Option<TcpListener>,
    /// The Alibaba Cloud SMC endpoint, when enabled.
    pub smc: Option<TcpListener>,
}

impl Listeners {
    /// `grpc` with the optional listeners `config` asks for (metrics, MGN,
    /// SMC), each checked against exposure without authentication.
    pub async fn bind(config: &Config, grpc: TcpListener) -> Result<Listeners, String> {
        async fn bind(name: &str, addr: Option<SocketAddr>) -> Result<Option<TcpListener>, String> {
            match addr {
                Some(addr) => TcpListener::bind(addr)
                    .await
                    .map(Some)
                    .map_err(|err| format!("cannot serve {name} on {addr}: {err}")),
                None => Ok(None),
            }
        }
        let listeners = Listeners {
            grpc,
            metrics: bind("metrics", config.listen.metrics_listen).await?,
            mgn: bind("mgn", config.cloud.mgn_listen).await?,
            smc: bind("smc", config.cloud.smc_listen).await?,
        };
        check_native_exposure(&config.auth, &listeners)?;
        Ok(listeners)
    }
}

/// Serves on `listeners` until `shutdown` is cancelled, then stops taking
/// calls, ends open streams, and gives open calls the grace period.
pub async fn serve(
    config: Config,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    check_exposure(&config.auth, listeners.grpc.local_addr()?)?;
    check_native_exposure(&config.auth, &listeners)?;
    let storage = config.storage.settings();
    let limits = config.limits.settings();

    // Open the store.
    let store = store::open(storage.database).await?;

    // Build the control plane, who may call it, and the gRPC services.
    let plane = Arc::new(ControlPlane::new(
        store,
        Arc::new(SystemClock),
        config.control_plane(),
    ));
    let access =
        access::Access::new(&config.auth, config.cloud.serves_native_endpoints(), &plane).await?;
    // Cancelled when shutdown begins: open streams end, native endpoints
    // stop taking requests.
    let drained = CancellationToken::new();
    let metrics = Metrics::new();
    let api = Api::new(
        Arc::clone(&plane),
        Arc::new(access.auth),
        drained.clone(),
        Arc::clone(&metrics),
    );
    let (routes, health) = routes::routes(&api, limits.max_message_bytes).await?;

    // Start background work: leased duties, retention, metrics.
    let mut tasks = work::Tasks::new();
    let duties = work::start(
        &mut tasks,
        &plane,
        &metrics,
        storage.leases,
        config.retention.settings(),
    );
    // Start the native endpoints, then the metrics endpoint.
    endpoints::start_native(
        &mut tasks,
        &plane,
        &metrics,
        access.signers,
        limits.max_message_bytes,
        [
            (Protocol::Mgn, listeners.mgn),
            (Protocol::Smc, listeners.smc),
        ],
        &drained,
    );
    endpoints::start_metrics(&mut tasks, metrics, listeners.metrics);

    // Start the simulator.
    if let Some(simulated) = config.simulated() {
        simulation::start(
            &mut tasks,
            &plane,
            routes.clone(),
            &duties,
            access.fleet,
            simulated,
        )?;
    }

    // Serve gRPC until shutdown.
    let server = grpc::server(
        listeners.grpc,
        config.listen.tls(),
        &limits,
        routes,
        grpc::Shutdown {
            requested: shutdown,
            health,
            drained: drained.clone(),
        },
    )?;

    // Drain: open calls get the grace period, then background work stops.
    let outcome = grpc::drain(server, &drained, limits.shutdown_grace).await;
    tasks.stop().await;
    outcome
}
