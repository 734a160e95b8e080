//! A consistent view of one account at one revision, taken in O(1): the
//! persistent maps are cloned, not copied, and the live maps copy a node
//! only when a write touches one the snapshot still shares. A watcher walks
//! it a chunk at a time, so memory stays bounded whatever the fleet size.

use std::ops::Bound;

use imbl::OrdMap;

use super::{Entry, ServerEntry};
use crate::domain::{ReplicationJob, ReplicationJobId, SourceServer, SourceServerId};

/// One account's resources at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    revision: u64,
    servers: OrdMap<SourceServerId, Entry<SourceServer>>,
    jobs: OrdMap<ReplicationJobId, Entry<ReplicationJob>>,
    running: OrdMap<SourceServerId, u32>,
}

impl Snapshot {
    pub(super) fn new(
        revision: u64,
        servers: OrdMap<SourceServerId, Entry<SourceServer>>,
        jobs: OrdMap<ReplicationJobId, Entry<ReplicationJob>>,
        running: OrdMap<SourceServerId, u32>,
    ) -> Snapshot {
        Snapshot {
            revision,
            servers,
            jobs,
            running,
        }
    }

    pub(super) fn empty(revision: u64) -> Snapshot {
        Snapshot::new(revision, OrdMap::new(), OrdMap::new(), OrdMap::new())
    }

    /// The revision it reflects: every event up to it, none after.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn entry(&self, server: &Entry<SourceServer>) -> ServerEntry {
        ServerEntry {
            has_running_job: self.running.contains_key(&server.value.id),
            server: server.clone(),
        }
    }

    /// One source server, as of the snapshot.
    pub fn source_server(&self, id: &SourceServerId) -> Option<ServerEntry> {
        self.servers.get(id).map(|server| self.entry(server))
    }

    /// One replication job, as of the snapshot.
    pub fn replication_job(&self, id: &ReplicationJobId) -> Option<Entry<ReplicationJob>> {
        self.jobs.get(id).cloned()
    }

    /// Up to `limit` source servers after `after`, in id order.
    pub fn source_servers_after(
        &self,
        after: Option<&SourceServerId>,
        limit: usize,
    ) -> Vec<ServerEntry> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.servers
            .range::<_, SourceServerId>((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, server)| self.entry(server))
            .collect()
    }

    /// Up to `limit` replication jobs after `after`, in id order.
    pub fn replication_jobs_after(
        &self,
        after: Option<&ReplicationJobId>,
        limit: usize,
    ) -> Vec<Entry<ReplicationJob>> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.jobs
            .range::<_, ReplicationJobId>((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, job)| job.clone())
            .collect()
    }
}
