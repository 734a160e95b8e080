//! What the data plane and the scheduler must act on.

use super::ControlPlane;
use crate::{
    domain::{DomainError, ReplicationJob, SourceServer},
    store::Versioned,
};

/// Resources with work pending: servers replicating or with pending
/// follow-up tasks, and jobs Running or Waiting.
#[derive(Debug, Clone, Default)]
pub struct DataPlaneWork {
    /// Source servers.
    pub servers: Vec<Versioned<SourceServer>>,
    /// Replication jobs.
    pub jobs: Vec<Versioned<ReplicationJob>>,
}

impl ControlPlane {
    /// Up to `limit` servers and `limit` jobs with work pending.
    pub async fn pending_work(&self, limit: usize) -> Result<DataPlaneWork, DomainError> {
        Ok(DataPlaneWork {
            servers: self.store.active_source_servers(limit).await?,
            jobs: self.store.active_replication_jobs(limit).await?,
        })
    }
}
