//! The resources the control plane mutates, and the one way it does so:
//! load at a version, let the domain decide, commit the change with its
//! event, deciding again if a concurrent write won.

use std::future::Future;

use serde::{de::DeserializeOwned, Serialize};

use super::{Caller, ClientToken, ControlPlane};
use crate::{
    domain::{
        AccountId, DomainError, ReplicationJob, ReplicationJobId, Resource, ResourceKind,
        SourceServer, SourceServerId, Timestamp, Transition,
    },
    store::{Store, StoreError, Versioned, WriteBatch},
};

/// A resource kind the control plane loads and commits.
pub(super) trait Aggregate:
    Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Its id.
    type Id: std::fmt::Display + Sync;
    /// Its kind, for not-found errors.
    const KIND: ResourceKind;
    /// Reads it from the store.
    fn fetch<'a>(
        store: &'a dyn Store,
        account: &'a AccountId,
        id: &'a Self::Id,
    ) -> impl Future<Output = Result<Option<Versioned<Self>>, StoreError>> + Send + 'a;
    /// Wraps it for a write.
    fn into_resource(self) -> Resource;
}

impl Aggregate for SourceServer {
    type Id = SourceServerId;
    const KIND: ResourceKind = ResourceKind::SourceServer;

    fn fetch<'a>(
        store: &'a dyn Store,
        account: &'a AccountId,
        id: &'a SourceServerId,
    ) -> impl Future<Output = Result<Option<Versioned<Self>>, StoreError>> + Send + 'a {
        store.source_server(account, id)
    }

    fn into_resource(self) -> Resource {
        Resource::SourceServer(self)
    }
}

impl Aggregate for ReplicationJob {
    type Id = ReplicationJobId;
    const KIND: ResourceKind = ResourceKind::ReplicationJob;

    fn fetch<'a>(
        store: &'a dyn Store,
        account: &'a AccountId,
        id: &'a ReplicationJobId,
    ) -> impl Future<Output = Result<Option<Versioned<Self>>, StoreError>> + Send + 'a {
        store.replication_job(account, id)
    }

    fn into_resource(self) -> Resource {
        Resource::ReplicationJob(self)
    }
}

impl ControlPlane {
    /// One resource of `account`, or ResourceNotFoundException.
    pub(super) async fn load<A: Aggregate>(
        &self,
        account: &AccountId,
        id: &A::Id,
    ) -> Result<Versioned<A>, DomainError> {
        A::fetch(self.store.as_ref(), account, id)
            .await?
            .ok_or_else(|| DomainError::NotFound {
                kind: A::KIND,
                id: id.to_string(),
            })
    }

    /// Applies `decide` to the current state of a resource and commits the
    /// change, as one idempotent, race-free mutation; returns the resource
    /// after it (for a replayed client token, as the first call left it).
    pub(super) async fn command<A: Aggregate>(
        &self,
        caller: &Caller,
        id: &A::Id,
        token: Option<&ClientToken>,
        decide: impl Fn(&A, Timestamp) -> Result<Transition<A>, DomainError>,
    ) -> Result<A, DomainError> {
        let decide = &decide;
        self.mutate(caller, token, move || async move {
            let current = self.load::<A>(&caller.account_id, id).await?;
            let change = decide(&current.value, self.now())?;
            let batch = WriteBatch::single(
                change.resource.clone().into_resource(),
                Some(current.version),
                change.event,
            );
            Ok((batch, change.resource))
        })
        .await
    }

    /// [`ControlPlane::command`] on behalf of the data plane or the
    /// scheduler: acting for `account`, without a client token.
    pub(super) async fn data_plane_command<A: Aggregate>(
        &self,
        account: &AccountId,
        id: &A::Id,
        decide: impl Fn(&A, Timestamp) -> Result<Transition<A>, DomainError>,
    ) -> Result<A, DomainError> {
        let caller = Caller {
            account_id: account.clone(),
        };
        self.command(&caller, id, None, decide).await
    }
}
