//! Client tokens: a retried mutation with the same token and request gets
//! the first call's answer and changes nothing; the same token with another
//! request is a validation error.

use std::future::Future;

use super::{ControlPlane, Failure, Tenant, MAX_ATTEMPTS};
use crate::{
    domain::{DomainError, Resource, SourceServerId, SourceState},
    store::{IdempotencyRecord, Recordable, StoreError, WriteBatch},
};

/// Longest client token accepted (MGN allows 64 characters; SMC 64).
const MAX_TOKEN_LEN: usize = 64;

/// A client token with a digest of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken {
    token: String,
    fingerprint: String,
}

impl ClientToken {
    /// `token` (empty means none) sent with a request whose digest,
    /// token excluded, is `fingerprint`.
    pub fn new(token: &str, fingerprint: String) -> Result<Option<ClientToken>, DomainError> {
        if token.is_empty() {
            return Ok(None);
        }
        if token.chars().count() > MAX_TOKEN_LEN || token.chars().any(char::is_control) {
            return Err(DomainError::invalid_field(
                "client_token",
                format!("must be 1-{MAX_TOKEN_LEN} printable characters"),
            ));
        }
        Ok(Some(ClientToken {
            token: token.to_owned(),
            fingerprint,
        }))
    }
}

/// What a mutation answers: its outcome, and SMC's state of each source
/// server it wrote as the commit's events record it, so that the answer
/// needs no second read of the model.
#[derive(Debug)]
pub(super) struct Mutated<T> {
    /// The outcome the plan decided, or the one a client token recorded.
    pub(super) outcome: T,
    /// Empty when a client token replayed a recorded outcome.
    recorded: Recorded,
}

impl<T> Mutated<T> {
    /// The same answer with its outcome mapped.
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> Mutated<U> {
        Mutated {
            outcome: f(self.outcome),
            recorded: self.recorded,
        }
    }

    /// The outcome, and what the commit recorded.
    pub(super) fn split(self) -> (T, Recorded) {
        (self.outcome, self.recorded)
    }
}

/// SMC's state of each source server a commit wrote, as its last event of
/// the server recorded it.
#[derive(Debug, Default)]
pub(super) struct Recorded(Vec<(SourceServerId, SourceState)>);

impl Recorded {
    /// `server`'s recorded state; `None` for a replayed outcome.
    pub(super) fn source_state(&self, server: &SourceServerId) -> Option<SourceState> {
        self.0
            .iter()
            .rev()
            .find(|(id, _)| id == server)
            .map(|(_, state)| *state)
    }
}

impl ControlPlane {
    /// Runs a mutation: replays a recorded outcome for a known token, else
    /// decides with `plan` and commits, deciding again (on fresh state) when
    /// a concurrent write won the race.
    pub(super) async fn mutate<T, Plan, Fut>(
        &self,
        caller: &Tenant,
        token: Option<&ClientToken>,
        mut plan: Plan,
    ) -> Result<Mutated<T>, Failure>
    where
        T: Recordable,
        Plan: FnMut() -> Fut,
        Fut: Future<Output = Result<(WriteBatch, T), Failure>>,
    {
        if let Some(outcome) = self.replay(caller, token).await? {
            return Ok(Mutated {
                outcome,
                recorded: Recorded::default(),
            });
        }
        for _ in 0..MAX_ATTEMPTS {
            let (mut batch, outcome) = plan().await?;
            let recorded = Recorded(recorded_source_states(&batch)?);
            // A step of a leased duty commits only under its fence.
            batch.fence = caller.duty();
            if let Some(token) = token {
                batch.idempotency = Some(IdempotencyRecord {
                    account_id: caller.account_id.clone(),
                    token: token.token.clone(),
                    created: self.now(),
                    fingerprint: token.fingerprint.clone(),
                    outcome: outcome.to_outcome(),
                });
            }
            match self.store.commit(batch).await {
                Ok(_) => return Ok(Mutated { outcome, recorded }),
                Err(StoreError::Conflict(_)) => {
                    if let Some(outcome) = self.replay(caller, token).await? {
                        return Ok(Mutated {
                            outcome,
                            recorded: Recorded::default(),
                        });
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(Failure::unavailable(
            "too much contention on this resource; retry",
        ))
    }

    async fn replay<T: Recordable>(
        &self,
        caller: &Tenant,
        token: Option<&ClientToken>,
    ) -> Result<Option<T>, Failure> {
        let Some(token) = token else { return Ok(None) };
        let Some(record) = self
            .store
            .idempotency_record(&caller.account_id, &token.token)
            .await?
        else {
            return Ok(None);
        };
        if record.fingerprint != token.fingerprint {
            return Err(DomainError::invalid_field(
                "client_token",
                "this client token was already used with a different request",
            )
            .into());
        }
        Ok(Some(T::from_outcome(record.outcome)?))
    }
}

/// The state each source server's event of `batch` records. Every write
/// of a server is made by [`ControlPlane::server_write`], which records
/// it; a write without one is a plan that bypassed it.
fn recorded_source_states(
    batch: &WriteBatch,
) -> Result<Vec<(SourceServerId, SourceState)>, Failure> {
    batch
        .writes
        .iter()
        .filter_map(|write| match &write.resource {
            Resource::SourceServer(server) => Some((server, write.event.source_state)),
            Resource::ReplicationJob(_) => None,
        })
        .map(|(server, state)| {
            state
                .map(|state| (server.id.clone(), state))
                .ok_or_else(|| {
                    Failure::internal(format!("a write of {} records no source state", server.id))
                })
        })
        .collect()
}
