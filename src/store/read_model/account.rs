//! One account's resources and the indexes its listings are served from.

use std::collections::{BTreeSet, HashMap};

use imbl::OrdMap;

use super::{snapshot::Snapshot, Entry, ServerEntry};
use crate::domain::{
    BusinessStatus, LifeCycleState, ReplicationJob, ReplicationJobId, ReplicationJobStatus,
    ReplicationType, SourceServer, SourceServerId,
};

/// Buckets of source servers: one per (lifecycle state, replication type,
/// archived), every combination DescribeSourceServers can filter on.
pub(super) const SERVER_BUCKETS: usize = LifeCycleState::ALL.len() * ReplicationType::ALL.len() * 2;

/// Business statuses a job can have, `None` included.
const BUSINESS_SLOTS: usize = BusinessStatus::ALL.len() + 1;

/// Buckets of jobs: one per (status, business status).
pub(super) const JOB_BUCKETS: usize = ReplicationJobStatus::ALL.len() * BUSINESS_SLOTS;

/// The bucket of a server with these indexed fields.
pub(super) fn server_bucket(
    state: LifeCycleState,
    replication_type: ReplicationType,
    archived: bool,
) -> usize {
    (state as usize * ReplicationType::ALL.len() + replication_type as usize) * 2
        + usize::from(archived)
}

fn bucket_of_server(server: &SourceServer) -> usize {
    server_bucket(
        server.life_cycle.state,
        server.replication_type,
        server.is_archived,
    )
}

/// The bucket of a job with these indexed fields.
pub(super) fn job_bucket(status: ReplicationJobStatus, business: Option<BusinessStatus>) -> usize {
    status as usize * BUSINESS_SLOTS + business.map_or(0, |b| b as usize + 1)
}

fn bucket_of_job(job: &ReplicationJob) -> usize {
    job_bucket(job.status, job.business_status)
}

/// An account's resources. The maps of resources and of running jobs are
/// persistent, for snapshots; the other indexes are only read under the
/// read model's lock.
#[derive(Debug)]
pub(super) struct AccountState {
    pub(super) servers: OrdMap<SourceServerId, Entry<SourceServer>>,
    pub(super) jobs: OrdMap<ReplicationJobId, Entry<ReplicationJob>>,
    /// Running jobs per source server (at most one in practice).
    pub(super) running: OrdMap<SourceServerId, u32>,
    pub(super) server_buckets: Vec<BTreeSet<SourceServerId>>,
    pub(super) job_buckets: Vec<BTreeSet<ReplicationJobId>>,
    pub(super) jobs_by_source: HashMap<SourceServerId, BTreeSet<ReplicationJobId>>,
    /// The unfinished job of each source server that has one.
    unfinished: HashMap<SourceServerId, ReplicationJobId>,
}

impl Default for AccountState {
    fn default() -> Self {
        AccountState {
            servers: OrdMap::new(),
            jobs: OrdMap::new(),
            running: OrdMap::new(),
            server_buckets: vec![BTreeSet::new(); SERVER_BUCKETS],
            job_buckets: vec![BTreeSet::new(); JOB_BUCKETS],
            jobs_by_source: HashMap::new(),
            unfinished: HashMap::new(),
        }
    }
}

impl AccountState {
    /// Stores `entry` and re-indexes it; returns what it replaced.
    pub(super) fn put_server(&mut self, entry: Entry<SourceServer>) -> Option<Entry<SourceServer>> {
        let server = &entry.value;
        let previous = self.servers.insert(server.id.clone(), entry.clone());
        let bucket = bucket_of_server(server);
        if let Some(old) = &previous {
            let old_bucket = bucket_of_server(&old.value);
            if old_bucket != bucket {
                self.server_buckets[old_bucket].remove(&server.id);
            }
        }
        self.server_buckets[bucket].insert(server.id.clone());
        previous
    }

    /// Stores `entry` and re-indexes it; returns what it replaced.
    pub(super) fn put_job(
        &mut self,
        entry: Entry<ReplicationJob>,
    ) -> Option<Entry<ReplicationJob>> {
        let job = &entry.value;
        let previous = self.jobs.insert(job.id.clone(), entry.clone());
        let bucket = bucket_of_job(job);
        if let Some(old) = &previous {
            let old_job = &old.value;
            let old_bucket = bucket_of_job(old_job);
            if old_bucket != bucket {
                self.job_buckets[old_bucket].remove(&job.id);
            }
            if old_job.status == ReplicationJobStatus::Running {
                self.count_running(&old_job.source_id, false);
            }
            if old_job.status.is_unfinished() {
                self.unfinished.remove(&old_job.source_id);
            }
            if old_job.source_id != job.source_id {
                if let Some(jobs) = self.jobs_by_source.get_mut(&old_job.source_id) {
                    jobs.remove(&job.id);
                }
            }
        }
        self.job_buckets[bucket].insert(job.id.clone());
        if job.status == ReplicationJobStatus::Running {
            self.count_running(&job.source_id, true);
        }
        if job.status.is_unfinished() {
            self.unfinished
                .insert(job.source_id.clone(), job.id.clone());
        }
        self.jobs_by_source
            .entry(job.source_id.clone())
            .or_default()
            .insert(job.id.clone());
        previous
    }

    fn count_running(&mut self, source: &SourceServerId, started: bool) {
        let count = self.running.get(source).copied().unwrap_or(0);
        let count = match started {
            true => count + 1,
            false => count.saturating_sub(1),
        };
        match count {
            0 => self.running.remove(source),
            n => self.running.insert(source.clone(), n),
        };
    }

    pub(super) fn has_running_job(&self, source: &SourceServerId) -> bool {
        self.running.contains_key(source)
    }

    pub(super) fn server_entry(&self, id: &SourceServerId) -> Option<ServerEntry> {
        let server = self.servers.get(id)?;
        Some(ServerEntry {
            server: server.clone(),
            has_running_job: self.has_running_job(id),
        })
    }

    pub(super) fn unfinished_job(&self, source: &SourceServerId) -> Option<Entry<ReplicationJob>> {
        let id = self.unfinished.get(source)?;
        self.jobs.get(id).cloned()
    }

    pub(super) fn snapshot(&self, revision: u64) -> Snapshot {
        Snapshot::new(
            revision,
            self.servers.clone(),
            self.jobs.clone(),
            self.running.clone(),
        )
    }
}
