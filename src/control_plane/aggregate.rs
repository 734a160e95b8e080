//! The resources the control plane mutates, and the one way it does so:
//! load at a version, let the domain decide, commit the change with its
//! event, deciding again if a concurrent write won.

use std::sync::Arc;

use super::{write_loop::Mutated, ClientToken, ControlPlane, Failure, Tenant};
use crate::{
    domain::{
        AccountId, DomainError, ReplicationJob, ReplicationJobId, Resource, ResourceKind,
        SourceServer, SourceServerId, Timestamp, Transition,
    },
    store::{Entry, Fence, ReadModel, Recordable, ResourceWrite, ServerEntry, WriteBatch},
};

/// A resource kind the control plane loads and commits.
pub(super) trait Aggregate: Clone + Recordable + Send + Sync + 'static {
    /// Its id.
    type Id: std::fmt::Display + Sync;
    /// What one read of the model gives about it: the resource at its
    /// version, and whatever else its writes record.
    type Loaded: Send + Sync;
    /// Its kind, for not-found errors.
    const KIND: ResourceKind;
    /// Reads it from the read model.
    fn fetch(model: &ReadModel, account: &AccountId, id: &Self::Id) -> Option<Self::Loaded>;
    /// The resource and its version in what was loaded.
    fn entry(loaded: &Self::Loaded) -> &Entry<Self>;
    /// The write of `change`, decided on `loaded`.
    fn write(
        plane: &ControlPlane,
        loaded: &Self::Loaded,
        change: Transition<Self>,
    ) -> ResourceWrite;
}

impl Aggregate for SourceServer {
    type Id = SourceServerId;
    type Loaded = ServerEntry;
    const KIND: ResourceKind = ResourceKind::SourceServer;

    fn fetch(model: &ReadModel, account: &AccountId, id: &SourceServerId) -> Option<ServerEntry> {
        model.source_server(account, id)
    }

    fn entry(loaded: &ServerEntry) -> &Entry<Self> {
        &loaded.server
    }

    fn write(
        plane: &ControlPlane,
        loaded: &ServerEntry,
        change: Transition<Self>,
    ) -> ResourceWrite {
        plane.server_write(change, Some(loaded.server.version), loaded.has_running_job)
    }
}

impl Aggregate for ReplicationJob {
    type Id = ReplicationJobId;
    type Loaded = Entry<ReplicationJob>;
    const KIND: ResourceKind = ResourceKind::ReplicationJob;

    fn fetch(model: &ReadModel, account: &AccountId, id: &ReplicationJobId) -> Option<Entry<Self>> {
        model.replication_job(account, id)
    }

    fn entry(loaded: &Entry<Self>) -> &Entry<Self> {
        loaded
    }

    fn write(_: &ControlPlane, loaded: &Entry<Self>, change: Transition<Self>) -> ResourceWrite {
        ResourceWrite {
            resource: Resource::ReplicationJob(change.resource),
            expected_version: Some(loaded.version),
            event: change.event,
        }
    }
}

impl ControlPlane {
    /// One resource of `account`, or ResourceNotFoundException.
    pub(super) fn load<A: Aggregate>(
        &self,
        account: &AccountId,
        id: &A::Id,
    ) -> Result<A::Loaded, DomainError> {
        A::fetch(self.store.read_model(), account, id).ok_or_else(|| DomainError::NotFound {
            kind: A::KIND,
            id: id.to_string(),
        })
    }

    /// The write of a change to a source server decided at version
    /// `expected` (`None`: a new server), its event recording SMC's state
    /// of the server as the change leaves it, at the event's time;
    /// `running_job` is what the decision read about the server's jobs.
    pub(super) fn server_write(
        &self,
        change: Transition<SourceServer>,
        expected: Option<u64>,
        running_job: bool,
    ) -> ResourceWrite {
        let mut write = ResourceWrite {
            resource: Resource::SourceServer(change.resource),
            expected_version: expected,
            event: change.event,
        };
        self.record_source_state(&mut write, running_job);
        write
    }

    /// [`ControlPlane::server_write`] for successive changes of one server,
    /// the first decided at version `expected`.
    pub(super) fn server_chain(
        &self,
        changes: Vec<Transition<SourceServer>>,
        expected: Option<u64>,
        running_job: bool,
    ) -> WriteBatch {
        let mut batch = WriteBatch::chain(changes, expected, Resource::SourceServer);
        for write in &mut batch.writes {
            self.record_source_state(write, running_job);
        }
        batch
    }

    fn record_source_state(&self, write: &mut ResourceWrite, running_job: bool) {
        if let Resource::SourceServer(server) = &write.resource {
            let state = server.source_state(write.event.time, self.heartbeat_window(), running_job);
            write.event.source_state = Some(state);
        }
    }

    /// Applies `decide` to the current state of a resource and commits the
    /// change, as one idempotent, race-free mutation; answers the resource
    /// after it (for a replayed client token, as the first call left it).
    pub(super) async fn command<A: Aggregate>(
        &self,
        caller: &Tenant,
        id: &A::Id,
        token: Option<&ClientToken>,
        decide: impl Fn(&A, Timestamp) -> Result<Transition<A>, DomainError>,
    ) -> Result<Mutated<Arc<A>>, Failure> {
        let decide = &decide;
        let mutated = self
            .mutate(caller, token, move || async move {
                let loaded = self.load::<A>(&caller.account_id, id)?;
                let change = decide(A::entry(&loaded).value.as_ref(), self.now())?;
                let after = change.resource.clone();
                let batch = WriteBatch {
                    writes: vec![A::write(self, &loaded, change)],
                    ..WriteBatch::default()
                };
                Ok((batch, after))
            })
            .await?;
        Ok(mutated.map(Arc::new))
    }

    /// [`ControlPlane::command`] on behalf of the scheduler: acting for
    /// `account` as a step of the leased duty `duty`, without a client
    /// token.
    pub(super) async fn owner_command<A: Aggregate>(
        &self,
        account: &AccountId,
        id: &A::Id,
        duty: Option<Fence>,
        decide: impl Fn(&A, Timestamp) -> Result<Transition<A>, DomainError>,
    ) -> Result<Arc<A>, Failure> {
        let owner = Tenant::owner(account.clone(), duty);
        Ok(self.command(&owner, id, None, decide).await?.outcome)
    }
}
