//! The services the server exposes, with their limits: the five cutover
//! services, health per service, and reflection v1 and v1alpha.

use tonic::{server::NamedService, service::Routes};
use tonic_health::{server::HealthReporter, ServingStatus};

use crate::{
    api::grpc::{Api, LifecycleRoute},
    pb::{
        self,
        v1::{
            account_service_server::AccountServiceServer, agent_service_server::AgentServiceServer,
            replication_job_service_server::ReplicationJobServiceServer,
            source_server_service_server::SourceServerServiceServer,
        },
    },
};

/// Why the routes could not be built.
pub(super) type RoutesError = tonic_reflection::server::Error;

/// Sets the health of every service, and the server's overall health
/// (the empty service name), to `status`.
pub(super) async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for service in [
        "",
        <AccountServiceServer<Api> as NamedService>::NAME,
        <SourceServerServiceServer<Api> as NamedService>::NAME,
        <ReplicationJobServiceServer<Api> as NamedService>::NAME,
        <LifecycleRoute as NamedService>::NAME,
        <AgentServiceServer<Api> as NamedService>::NAME,
    ] {
        health.set_service_status(service, status).await;
    }
}

/// Every service, each decoding at most `max_message_bytes` per message.
pub(super) async fn routes(
    api: &Api,
    max_message_bytes: usize,
) -> Result<(Routes, HealthReporter), RoutesError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, ServingStatus::Serving).await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let limit = max_message_bytes;
    let routes = Routes::new(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(AccountServiceServer::new(api.clone()).max_decoding_message_size(limit))
        .add_service(SourceServerServiceServer::new(api.clone()).max_decoding_message_size(limit))
        .add_service(ReplicationJobServiceServer::new(api.clone()).max_decoding_message_size(limit))
        .add_service(LifecycleRoute::new(api.clone(), limit))
        .add_service(AgentServiceServer::new(api.clone()).max_decoding_message_size(limit));
    Ok((routes, health))
}
