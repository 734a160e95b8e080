//! The resources the control plane mutates, and the one way it does so:
//! load at a version, let the domain decide, commit the change with its
//! event, deciding again if a concurrent write won.

use std::sync::Arc;

use super::{ClientToken, ControlPlane, Failure, Tenant};
use crate::{
    domain::{
        AccountId, DomainError, ReplicationJob, ReplicationJobId, Resource, ResourceKind,
        SourceServer, SourceServerId, Timestamp, Transition,
    },
    store::{Entry, Fence, ReadModel, Recordable, WriteBatch},
};

/// A resource kind the control plane loads and commits.
pub(super) trait Aggregate: Clone + Recordable + Send + Sync + 'static {
    /// Its id.
    type Id: std::fmt::Display + Sync;
    /// Its kind, for not-found errors.
    const KIND: ResourceKind;
    /// Reads it from the read model.
    fn fetch(model: &ReadModel, account: &AccountId, id: &Self::Id) -> Option<Entry<Self>>;
    /// Wraps it for a write.
    fn into_resource(self) -> Resource;
}

impl Aggregate for SourceServer {
    type Id = SourceServerId;
    const KIND: ResourceKind = ResourceKind::SourceServer;

    fn fetch(model: &ReadModel, account: &AccountId, id: &SourceServerId) -> Option<Entry<Self>> {
        model.source_server(account, id).map(|entry| entry.server)
    }

    fn into_resource(self) -> Resource {
        Resource::SourceServer(self)
    }
}

impl Aggregate for ReplicationJob {
    type Id = ReplicationJobId;
    const KIND: ResourceKind = ResourceKind::ReplicationJob;

    fn fetch(model: &ReadModel, account: &AccountId, id: &ReplicationJobId) -> Option<Entry<Self>> {
        model.replication_job(account, id)
    }

    fn into_resource(self) -> Resource {
        Resource::ReplicationJob(self)
    }
}

impl ControlPlane {
    /// One resource of `account`, or ResourceNotFoundException.
    pub(super) fn load<A: Aggregate>(
        &self,
        account: &AccountId,
        id: &A::Id,
    ) -> Result<Entry<A>, DomainError> {
        A::fetch(self.store.read_model(), account, id).ok_or_else(|| DomainError::NotFound {
            kind: A::KIND,
            id: id.to_string(),
        })
    }

    /// Applies `decide` to the current state of a resource and commits the
    /// change, as one idempotent, race-free mutation; returns the resource
    /// after it (for a replayed client token, as the first call left it).
    pub(super) async fn command<A: Aggregate>(
        &self,
        caller: &Tenant,
        id: &A::Id,
        token: Option<&ClientToken>,
        decide: impl Fn(&A, Timestamp) -> Result<Transition<A>, DomainError>,
    ) -> Result<Arc<A>, Failure> {
        let decide = &decide;
        self.mutate(caller, token, move || async move {
            let current = self.load::<A>(&caller.account_id, id)?;
            let change = decide(current.value.as_ref(), self.now())?;
            let batch = WriteBatch::single(
                change.resource.clone().into_resource(),
                Some(current.version),
                change.event,
            );
            Ok((batch, change.resource))
        })
        .await
        .map(Arc::new)
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
        self.command(&owner, id, None, decide).await
    }
}
