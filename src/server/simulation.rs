//! The built-in simulator: its fleet calls the service's own gRPC routes
//! over an in-process link, while this replica holds the simulator's lease.

use std::sync::Arc;

use tonic::{service::Routes, transport::Server};

use super::{work::Tasks, ServeError};
use crate::{
    api::request_id::RequestIdLayer,
    background::{self, Duties},
    control_plane::ControlPlane,
    simulator::{Fleet, FleetCredentials, Simulated},
    store::LeaseName,
};

/// Starts the in-process link to `routes` and the fleet simulating
/// `simulated` over it. The link's calls carry the simulator lease's
/// fence, so a replica that lost the lease cannot apply a step.
pub(super) fn start(
    tasks: &mut Tasks,
    plane: &Arc<ControlPlane>,
    routes: Routes,
    duties: &Duties,
    credentials: FleetCredentials,
    simulated: Simulated,
) -> Result<(), ServeError> {
    let (channel, connections) = background::simulator::pair()?;
    let in_process = Server::builder()
        .layer(RequestIdLayer)
        .layer(background::simulator::FenceLayer(duties.clone()))
        .add_routes(routes);
    let stop = tasks.stopping();
    tasks.spawn(async move {
        if let Err(err) = in_process
            .serve_with_incoming_shutdown(connections, stop.cancelled())
            .await
        {
            tracing::error!(%err, "the simulator's in-process link failed");
        }
    });
    let plane = Arc::clone(plane);
    let fleet = move || {
        Fleet::new(
            Arc::clone(&plane),
            channel.clone(),
            credentials.clone(),
            simulated,
        )
    };
    if let Some(lease) = duties.watch(LeaseName::Simulator) {
        tasks.spawn(background::simulator::run_while_leased(
            fleet,
            lease,
            tasks.stopping(),
        ));
    }
    Ok(())
}
