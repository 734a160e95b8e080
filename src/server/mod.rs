//! Assembles the service: store, control plane, background work, the
//! built-in simulator, and the gRPC server with its limits, TLS,
//! grpc-web, health, reflection, request ids and the wave dashboard.

mod routes;
mod tls;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{server::TcpIncoming, Server};

use crate::{
    api::{
        self,
        dashboard::DashboardLayer,
        grpc::{oversize_layer, Api, Authenticator},
        native::{self, NativeApi, Signers},
        request_id::RequestIdLayer,
        Protocol,
    },
    background::{self, run_retention, run_scheduler, Duties, Retention},
    config::Config,
    control_plane::{ControlPlane, Settings, SystemClock},
    domain::{Millis, TimeScale},
    metrics::Metrics,
    simulator::{Fleet, FleetCredentials},
    store::{LeaseName, PostgresOptions, PostgresStore, SqliteStore, Store},
};

pub use tls::TlsFiles;

/// Why the service could not start or stopped with an error.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "cutover.db";

/// Refuses to expose an unauthenticated service beyond this machine:
/// without a tokens file, only a loopback address is served, unless the
/// operator says `--insecure`.
pub fn check_exposure(config: &Config, addr: SocketAddr) -> Result<(), String> {
    if !config.authenticates() && !config.insecure && !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to serve {addr} without authentication: give --tokens-file or --client-identities-file, \
             listen on a loopback address, or pass --insecure"
        ));
    }
    Ok(())
}

fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

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

/// Refuses MGN and SMC endpoints beyond this machine without access keys,
/// as [`check_exposure`] does for gRPC without tokens.
pub fn check_native_exposure(config: &Config, listeners: &Listeners) -> Result<(), String> {
    for (name, listener) in [("MGN", &listeners.mgn), ("SMC", &listeners.smc)] {
        if let Some(listener) = listener {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            native::check_exposure(
                name,
                addr,
                config.access_keys_file.is_some(),
                config.insecure,
            )?;
        }
    }
    Ok(())
}

/// Serves on `listeners` until `shutdown` is cancelled, then stops taking
/// calls, ends open streams, and gives open calls the grace period.
pub async fn serve(
    config: Config,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    check_exposure(&config, listeners.grpc.local_addr()?)?;
    check_native_exposure(&config, &listeners)?;
    let Listeners {
        grpc: listener,
        metrics: metrics_listener,
        mgn,
        smc,
    } = listeners;
    let store = open_store(&config).await?;
    let settings = Settings {
        time_scale: TimeScale::new(config.sim_speed),
        agent_silence: Millis(
            i64::try_from(config.agent_silence_seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        ),
        partition: config.partition.clone(),
        region: config.region.clone(),
        ..Settings::default()
    };
    let plane = Arc::new(ControlPlane::new(store, Arc::new(SystemClock), settings));
    let (auth, fleet_credentials) = match config.authenticates() {
        true => {
            let token = hex::encode(rand::random::<[u8; 32]>());
            let auth = Authenticator::from_files(
                config.tokens_file.as_deref(),
                config.client_identities_file.as_deref(),
            )?
            .with_simulator_token(&token);
            (auth, FleetCredentials::SimulatorToken(token))
        }
        false => {
            let auth = Authenticator::disabled()?;
            if let Some(caller) = auth.built_in() {
                plane.initialize_service(caller).await?;
            }
            (auth, FleetCredentials::None)
        }
    };
    let signers = native_signers(&config, &auth)?;
    let drained = CancellationToken::new();
    let metrics = Metrics::new();
    let api = Api::new(
        Arc::clone(&plane),
        Arc::new(auth),
        drained.clone(),
        Arc::clone(&metrics),
    );
    let (routes, health) = routes::routes(&api, config.max_message_bytes as usize).await?;

    let background = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let duties = Duties::default();
    tasks.spawn(duties.clone().keep(
        Arc::clone(plane.store()),
        config.replica_id.clone().unwrap_or_else(default_replica_id),
        Duration::from_millis(config.lease_ttl_ms),
        background.clone(),
    ));
    tasks.spawn(run_scheduler(
        Arc::clone(&plane),
        duties.clone(),
        background.clone(),
    ));
    tasks.spawn(observe(
        Arc::clone(&plane),
        Arc::clone(&metrics),
        background.clone(),
    ));
    if let Some(listener) = metrics_listener {
        let (metrics, background) = (Arc::clone(&metrics), background.clone());
        tasks.spawn(async move {
            if let Err(err) = metrics.serve(listener, background).await {
                tracing::error!(%err, "the metrics endpoint failed");
            }
        });
    }
    let native = NativeApi::new(
        Arc::clone(&plane),
        signers,
        config.max_message_bytes as usize,
        Arc::clone(&metrics),
    );
    for (protocol, listener) in [(Protocol::Mgn, mgn), (Protocol::Smc, smc)] {
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
    let retention = Retention {
        max_events: config.event_retention_count,
        max_age: (config.event_retention_hours > 0).then(|| {
            Millis::hours(
                i64::try_from(config.event_retention_hours).unwrap_or(i64::MAX / 3_600_000),
            )
        }),
        client_tokens: Millis(
            i64::try_from(config.client_token_retention_seconds.saturating_mul(1000))
                .unwrap_or(i64::MAX),
        ),
        interval: Duration::from_millis(config.compaction_interval_ms),
    };
    let clock = Arc::clone(&plane);
    tasks.spawn(run_retention(
        Arc::clone(plane.store()),
        retention,
        duties.clone(),
        move || clock.now(),
        background.clone(),
    ));
    if let Some(simulated) = config.simulated() {
        let (channel, connections) = background::simulator::pair()?;
        let in_process = Server::builder()
            .layer(RequestIdLayer)
            .layer(background::simulator::FenceLayer(duties.clone()))
            .add_routes(routes.clone());
        tasks.spawn({
            let background = background.clone();
            async move {
                if let Err(err) = in_process
                    .serve_with_incoming_shutdown(connections, background.cancelled())
                    .await
                {
                    tracing::error!(%err, "the simulator's in-process link failed");
                }
            }
        });
        let plane = Arc::clone(&plane);
        let fleet = move || {
            Fleet::new(
                Arc::clone(&plane),
                channel.clone(),
                fleet_credentials.clone(),
                simulated,
            )
        };
        if let Some(lease) = duties.watch(LeaseName::Simulator) {
            tasks.spawn(background::simulator::run_while_leased(
                fleet,
                lease,
                background.clone(),
            ));
        }
    }

    let mut builder = Server::builder();
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: config.tls_client_ca.clone(),
        };
        builder = builder.tls_config(files.config()?)?;
    }
    // Without TCP_NODELAY, a reply written in two segments waits for the
    // client's delayed ACK (about 40 ms on Linux).
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(seconds(config.keepalive_seconds)));
    let server = builder
        .accept_http1(true)
        .max_concurrent_streams(config.max_concurrent_streams)
        .concurrency_limit_per_connection(
            usize::try_from(config.max_calls_per_connection).unwrap_or(usize::MAX),
        )
        .timeout(seconds(config.request_timeout_seconds))
        .http2_keepalive_interval(Some(seconds(config.keepalive_seconds)))
        .http2_keepalive_timeout(Some(seconds(config.keepalive_seconds.min(20))))
        .layer(RequestIdLayer)
        // In front of grpc-web, which refuses a browser's plain GET.
        .layer(DashboardLayer)
        .layer(oversize_layer())
        .layer(tonic_web::GrpcWebLayer::new())
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, {
            let shutdown = shutdown.clone();
            let drained = drained.clone();
            async move {
                shutdown.cancelled().await;
                tracing::info!("shutting down");
                routes::set_health(&health, tonic_health::ServingStatus::NotServing).await;
                drained.cancel();
            }
        });
    tokio::pin!(server);
    let grace = seconds(config.shutdown_grace_seconds);
    let outcome = tokio::select! {
        outcome = &mut server => outcome,
        () = async { drained.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("calls still open after the grace period; closing them");
            Ok(())
        }
    };
    background.cancel();
    while tasks.join_next().await.is_some() {}
    outcome.map_err(Into::into)
}

/// Who may sign MGN and SMC requests: the keys file's keys; without one,
/// the built-in account, which exists only while gRPC authenticates no
/// one.
fn native_signers(config: &Config, auth: &Authenticator) -> Result<Signers, String> {
    match (&config.access_keys_file, auth.built_in()) {
        (Some(path), _) => Signers::from_file(path),
        (None, Some(caller)) => Ok(Signers::BuiltIn(caller.clone())),
        (None, None) if config.mgn_listen.is_none() && config.smc_listen.is_none() => {
            Ok(Signers::Keys(Default::default()))
        }
        (None, None) => Err(
            "the MGN and SMC endpoints need --access-keys-file when gRPC callers authenticate"
                .to_owned(),
        ),
    }
}

/// The store `config` names: PostgreSQL with `--database-url`, else the
/// embedded SQLite database in the data directory.
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, ServeError> {
    if let Some(url) = &config.database_url {
        let options = PostgresOptions {
            url: url.clone(),
            poll_interval: Duration::from_millis(config.log_poll_ms),
        };
        return Ok(Arc::new(PostgresStore::open(options).await?));
    }
    // Opening loads the read model: seconds for a million servers, off the
    // async workers.
    let path = config.data_dir.join(DATABASE_FILE);
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await?
    };
    // Opening never rewrites a database it refuses: say so, with the path.
    let store = opened.map_err(|err| {
        format!(
            "cannot open the database {}: {err}; the file was left as it was",
            path.display()
        )
    })?;
    Ok(Arc::new(store))
}

/// A name for this replica in the leases, unique per process.
fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "cutoverd".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Feeds the metrics that come from the event log and the task rows: events
/// as they commit, and the pending and overdue follow-up tasks once a
/// second.
async fn observe(plane: Arc<ControlPlane>, metrics: Arc<Metrics>, shutdown: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = plane.store().read_model().subscribe();
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            received = events.recv() => match received {
                Ok(_) => metrics.events_committed(1),
                Err(RecvError::Lagged(missed)) => metrics.events_committed(missed),
                Err(RecvError::Closed) => return,
            },
            _ = interval.tick() => {
                let (pending, overdue) = plane.store().read_model().follow_up_task_counts();
                metrics.set_follow_up_tasks(pending, overdue);
            }
        }
    }
}
