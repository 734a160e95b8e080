//! Assembles the service: store, control plane, background work, and the
//! gRPC server with health, reflection and request ids.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{server::TcpIncoming, Channel, Server};

use crate::{
    config::Config,
    control_plane::{run_scheduler, ControlPlane, Settings, SystemClock},
    dataplane::{Fleet, FleetCredentials},
    domain::{Millis, TimeScale},
    pb::{
        self,
        v1::{
            account_service_server::AccountServiceServer, agent_service_server::AgentServiceServer,
            lifecycle_service_server::LifecycleServiceServer,
            replication_job_service_server::ReplicationJobServiceServer,
            source_server_service_server::SourceServerServiceServer,
        },
    },
    store::{SqliteStore, Store},
    transport::{Api, Authenticator, RequestIdLayer},
    watch::{run_compaction, Retention},
};

/// Why the service could not start or stopped with an error.
pub type ServeError = Box<dyn std::error::Error + Send + Sync>;

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "cutover.db";

/// Serves on `listener` until `shutdown` is cancelled, then stops taking
/// calls and gives open ones the configured grace period.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.data_dir.join(DATABASE_FILE))?);
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
    let local = listener.local_addr()?;
    let (auth, fleet_credentials) = match &config.tokens_file {
        Some(path) => {
            let token = hex::encode(rand::random::<[u8; 32]>());
            let auth = Authenticator::from_tokens_file(path)?.with_data_plane_token(&token);
            (auth, FleetCredentials::DataPlane(token))
        }
        None => {
            let auth = Authenticator::disabled()?;
            if let Some(caller) = auth.built_in() {
                plane.initialize_service(caller).await?;
            }
            (auth, FleetCredentials::None)
        }
    };
    let drained = CancellationToken::new();
    // Without TCP_NODELAY, a reply written in two segments waits for the
    // client's delayed ACK (about 40 ms on Linux).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let api = Api::new(Arc::clone(&plane), Arc::new(auth), drained.clone());

    let background = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_scheduler(Arc::clone(&plane), background.clone()));
    let retention = Retention {
        max_events: config.event_retention_count,
        max_age: (config.event_retention_hours > 0).then(|| {
            Millis::hours(
                i64::try_from(config.event_retention_hours).unwrap_or(i64::MAX / 3_600_000),
            )
        }),
        interval: Duration::from_millis(config.compaction_interval_ms),
    };
    let clock = Arc::clone(&plane);
    tasks.spawn(run_compaction(
        Arc::clone(plane.store()),
        retention,
        move || clock.now(),
        background.clone(),
    ));
    if !config.no_simulator {
        let channel = Channel::from_shared(format!("http://{}", loopback(local)))?.connect_lazy();
        tasks.spawn(
            Fleet::new(Arc::clone(&plane), channel, fleet_credentials).run(background.clone()),
        );
    }

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AccountServiceServer<Api>>().await;
    health.set_serving::<SourceServerServiceServer<Api>>().await;
    health
        .set_serving::<ReplicationJobServiceServer<Api>>()
        .await;
    health.set_serving::<LifecycleServiceServer<Api>>().await;
    health.set_serving::<AgentServiceServer<Api>>().await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let server = Server::builder()
        .layer(RequestIdLayer)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(AccountServiceServer::new(api.clone()))
        .add_service(SourceServerServiceServer::new(api.clone()))
        .add_service(ReplicationJobServiceServer::new(api.clone()))
        .add_service(LifecycleServiceServer::new(api.clone()))
        .add_service(AgentServiceServer::new(api))
        .serve_with_incoming_shutdown(incoming, {
            let shutdown = shutdown.clone();
            let drained = drained.clone();
            async move {
                shutdown.cancelled().await;
                tracing::info!("shutting down");
                health
                    .set_service_status("", tonic_health::ServingStatus::NotServing)
                    .await;
                drained.cancel();
            }
        });
    tokio::pin!(server);
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

/// The address the built-in data plane reaches this server at: the
/// listening address, with a wildcard replaced by loopback.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}
