//! The read model: the current state of every resource, in memory, kept by
//! applying committed events in revision order, like the Kubernetes API
//! server's watch cache.
//!
//! Every Get, Describe page and watch snapshot is served from here, at one
//! revision and consistent at it, without touching the database. Events
//! reach it through one path, [`ReadModel::apply`], in revision order and
//! gap-free: the embedded store calls it from its committer right after a
//! group commit is durable, and a store shared by several replicas calls it
//! from the reader that follows the shared log, so local and remote commits
//! are applied, and published to watchers, the same way.
//!
//! Indexes make every filtered page cost in proportion to the page:
//! source servers are grouped into buckets by (lifecycle state, replication
//! type, archived) and jobs by (status, business status), each bucket an
//! ordered set of ids, so a page is a merge of the selected buckets from
//! the page token on. The maps of resources are persistent (clones share
//! structure), so a watch snapshot holds its revision's view in O(1) and
//! walks it while writes go on.

mod account;
mod listing;
mod snapshot;
#[cfg(test)]
mod tests;
mod work;

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::Duration,
};

use tokio::sync::{broadcast, watch};

use crate::domain::{
    AccountId, FollowUpTaskId, LifecycleEvent, ReplicationJob, ReplicationJobId, Resource,
    SourceServer, SourceServerId, Timestamp,
};
use crate::store::{ReplicationJobFilter, SharedEvent, SourceServerFilter, Versioned};

use account::AccountState;
pub use snapshot::Snapshot;
use work::PendingWork;

/// A resource as the read model holds it: shared, never copied on read.
pub type Entry<T> = Versioned<Arc<T>>;

/// Capacity of the channel committed events are published on; a
/// subscriber further behind than this sees `Lagged` and must catch up
/// from the stored log.
const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// A source server with what SMC's derived state needs from its jobs.
#[derive(Debug, Clone)]
pub struct ServerEntry {
    /// The server.
    pub server: Entry<SourceServer>,
    /// A replication job of this server is Running (SMC's InUse).
    pub has_running_job: bool,
}

/// Items read at one revision.
#[derive(Debug, Clone)]
pub struct AtRevision<T> {
    /// Every event up to this revision is reflected, none after it.
    pub revision: u64,
    /// What was read.
    pub items: T,
}

/// Why events could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {got} cannot follow revision {applied}: the log must be applied in order, gap-free")]
pub struct OutOfOrder {
    /// The last revision applied.
    pub applied: u64,
    /// The revision offered.
    pub got: u64,
}

/// The in-memory state of every resource, and the channel its changes are
/// published on. Shared by every reader; written only by [`ReadModel::apply`].
#[derive(Debug)]
pub struct ReadModel {
    state: RwLock<State>,
    events: broadcast::Sender<Arc<SharedEvent>>,
    /// The last revision applied, for [`ReadModel::until_applied`].
    applied: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct State {
    revision: u64,
    accounts: HashMap<AccountId, AccountState>,
    work: PendingWork,
}

impl ReadModel {
    /// A read model of `resources` as stored at `revision`, for a store
    /// opening its data.
    pub fn load(
        revision: u64,
        resources: impl IntoIterator<Item = Versioned<Resource>>,
    ) -> ReadModel {
        let mut state = State {
            revision,
            ..State::default()
        };
        for stored in resources {
            let Versioned {
                value,
                version,
                revision,
            } = stored;
            match value {
                Resource::SourceServer(server) => state.put_server(Versioned {
                    value: Arc::new(server),
                    version,
                    revision,
                }),
                Resource::ReplicationJob(job) => state.put_job(Versioned {
                    value: Arc::new(job),
                    version,
                    revision,
                }),
            }
        }
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let (applied, _) = watch::channel(state.revision);
        ReadModel {
            state: RwLock::new(state),
            events,
            applied,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the
        // state it left is still the best answer there is.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies committed `events`, which must continue the revisions
    /// applied so far without a gap, and publishes each to subscribers in
    /// the same critical section, so a subscriber that looked at the state
    /// after subscribing misses nothing.
    pub fn apply(&self, events: Vec<LifecycleEvent>) -> Result<(), OutOfOrder> {
        let mut state = self.write();
        for event in events {
            if event.revision != state.revision + 1 {
                return Err(OutOfOrder {
                    applied: state.revision,
                    got: event.revision,
                });
            }
            state.apply(&event);
            // No subscriber is not an error.
            let _ = self.events.send(Arc::new(SharedEvent::new(event)));
        }
        self.applied.send_replace(state.revision);
        Ok(())
    }

    /// Waits until the model has applied `revision`, for at most `limit`;
    /// false if it had not by then. What a reader found in the database
    /// (an agent's binding, a client token's record) is committed a moment
    /// before the model applies it: a use case waits here before it looks
    /// the resource up in the model.
    pub async fn until_applied(&self, revision: u64, limit: Duration) -> bool {
        if self.revision() >= revision {
            return true;
        }
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(limit, applied.wait_for(|at| *at >= revision)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Committed events from now on, in revision order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<SharedEvent>> {
        self.events.subscribe()
    }

    /// The last revision applied.
    pub fn revision(&self) -> u64 {
        self.read().revision
    }

    /// One source server of `account`.
    pub fn source_server(&self, account: &AccountId, id: &SourceServerId) -> Option<ServerEntry> {
        let state = self.read();
        let account = state.accounts.get(account)?;
        account.server_entry(id)
    }

    /// One replication job of `account`.
    pub fn replication_job(
        &self,
        account: &AccountId,
        id: &ReplicationJobId,
    ) -> Option<Entry<ReplicationJob>> {
        let state = self.read();
        state.accounts.get(account)?.jobs.get(id).cloned()
    }

    /// The unfinished job of `source`, if it has one.
    pub fn unfinished_job(
        &self,
        account: &AccountId,
        source: &SourceServerId,
    ) -> Option<Entry<ReplicationJob>> {
        let state = self.read();
        state.accounts.get(account)?.unfinished_job(source)
    }

    /// A page of `account`'s source servers matching `filter`, in id
    /// order, after `after`: at most `limit`, read from the indexes.
    pub fn list_source_servers(
        &self,
        account: &AccountId,
        filter: &SourceServerFilter,
        after: Option<&SourceServerId>,
        limit: usize,
    ) -> AtRevision<Vec<ServerEntry>> {
        let state = self.read();
        let items = state
            .accounts
            .get(account)
            .map(|account| account.list_servers(filter, after, limit))
            .unwrap_or_default();
        AtRevision {
            revision: state.revision,
            items,
        }
    }

    /// A page of `account`'s replication jobs matching `filter`, in id
    /// order, after `after`: at most `limit`, read from the indexes.
    pub fn list_replication_jobs(
        &self,
        account: &AccountId,
        filter: &ReplicationJobFilter,
        after: Option<&ReplicationJobId>,
        limit: usize,
    ) -> AtRevision<Vec<Entry<ReplicationJob>>> {
        let state = self.read();
        let items = state
            .accounts
            .get(account)
            .map(|account| account.list_jobs(filter, after, limit))
            .unwrap_or_default();
        AtRevision {
            revision: state.revision,
            items,
        }
    }

    /// Every resource of `account` at the current revision, to walk at
    /// leisure: taking it copies no resource.
    pub fn snapshot(&self, account: &AccountId) -> Snapshot {
        let state = self.read();
        match state.accounts.get(account) {
            Some(account) => account.snapshot(state.revision),
            None => Snapshot::empty(state.revision),
        }
    }

    /// Source servers, of any account, that the data plane or scheduler
    /// must act on: not yet cut over, disconnected or archived, or with a
    /// pending follow-up task. At most `limit`, oldest change first.
    pub fn active_source_servers(&self, limit: usize) -> Vec<Entry<SourceServer>> {
        let state = self.read();
        state
            .work
            .active_servers(limit)
            .filter_map(|(account, id)| state.accounts.get(account)?.servers.get(id).cloned())
            .collect()
    }

    /// The source servers of `account` with a pending task the replication
    /// infrastructure carries out (a teardown), in id order.
    pub fn awaiting_infrastructure(&self, account: &AccountId) -> Vec<Entry<SourceServer>> {
        let state = self.read();
        let Some(servers) = state.accounts.get(account).map(|a| &a.servers) else {
            return Vec::new();
        };
        state
            .work
            .awaiting_infrastructure(account)
            .filter_map(|id| servers.get(id).cloned())
            .collect()
    }

    /// Replication jobs, of any account, that are Running or Waiting; at
    /// most `limit`, oldest change first.
    pub fn active_replication_jobs(&self, limit: usize) -> Vec<Entry<ReplicationJob>> {
        let state = self.read();
        state
            .work
            .active_jobs(limit)
            .filter_map(|(account, id)| state.accounts.get(account)?.jobs.get(id).cloned())
            .collect()
    }

    /// Pending follow-up tasks whose deadline is at or before `now` and
    /// that are not flagged overdue yet, oldest deadline first, as
    /// (account, source server, task).
    pub fn overdue_follow_up_tasks(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Vec<(AccountId, SourceServerId, FollowUpTaskId)> {
        self.read().work.overdue_tasks(now, limit)
    }

    /// How many follow-up tasks are pending, and how many of those are
    /// overdue.
    pub fn follow_up_task_counts(&self) -> (u64, u64) {
        self.read().work.task_counts()
    }
}

impl State {
    fn apply(&mut self, event: &LifecycleEvent) {
        match &event.resource {
            Resource::SourceServer(server) => {
                let version = self.current_version_of_server(&server.account_id, &server.id);
                self.put_server(Versioned {
                    value: Arc::new(server.clone()),
                    version: version + 1,
                    revision: event.revision,
                });
            }
            Resource::ReplicationJob(job) => {
                let version = self.current_version_of_job(&job.account_id, &job.id);
                self.put_job(Versioned {
                    value: Arc::new(job.clone()),
                    version: version + 1,
                    revision: event.revision,
                });
            }
        }
        self.revision = event.revision;
    }

    fn current_version_of_server(&self, account: &AccountId, id: &SourceServerId) -> u64 {
        self.accounts
            .get(account)
            .and_then(|a| a.servers.get(id))
            .map_or(0, |entry| entry.version)
    }

    fn current_version_of_job(&self, account: &AccountId, id: &ReplicationJobId) -> u64 {
        self.accounts
            .get(account)
            .and_then(|a| a.jobs.get(id))
            .map_or(0, |entry| entry.version)
    }

    fn put_server(&mut self, entry: Entry<SourceServer>) {
        let account = self
            .accounts
            .entry(entry.value.account_id.clone())
            .or_default();
        let previous = account.put_server(entry.clone());
        self.work.server_changed(previous.as_ref(), &entry);
    }

    fn put_job(&mut self, entry: Entry<ReplicationJob>) {
        let account = self
            .accounts
            .entry(entry.value.account_id.clone())
            .or_default();
        let previous = account.put_job(entry.clone());
        self.work.job_changed(previous.as_ref(), &entry);
    }
}
