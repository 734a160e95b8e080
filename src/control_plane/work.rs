//! What the data plane and the scheduler must act on.

use super::ControlPlane;
use crate::{
    domain::{ReplicationJob, SourceServer},
    store::Entry,
};

/// Resources with work pending: servers replicating or with pending
/// follow-up tasks, and jobs Running or Waiting.
#[derive(Debug, Clone, Default)]
pub struct PendingWork {
    /// Source servers.
    pub servers: Vec<Entry<SourceServer>>,
    /// Replication jobs.
    pub jobs: Vec<Entry<ReplicationJob>>,
}

impl ControlPlane {
    /// Up to `limit` servers and `limit` jobs with work pending.
    pub fn pending_work(&self, limit: usize) -> PendingWork {
        let model = self.store.read_model();
        PendingWork {
            servers: model.active_source_servers(limit),
            jobs: model.active_replication_jobs(limit),
        }
    }
}
