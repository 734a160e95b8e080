//! Client tokens: a retried mutation with the same token and request gets
//! the first call's answer and changes nothing; the same token with another
//! request is a validation error.

use std::future::Future;

use super::{ControlPlane, Failure, Tenant, MAX_ATTEMPTS};
use crate::{
    domain::{DomainError, Resource},
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

impl ControlPlane {
    /// Runs a mutation: replays a recorded outcome for a known token, else
    /// decides with `plan` and commits, deciding again (on fresh state) when
    /// a concurrent write won the race.
    pub(super) async fn mutate<T, Plan, Fut>(
        &self,
        caller: &Tenant,
        token: Option<&ClientToken>,
        mut plan: Plan,
    ) -> Result<T, Failure>
    where
        T: Recordable,
        Plan: FnMut() -> Fut,
        Fut: Future<Output = Result<(WriteBatch, T), Failure>>,
    {
        if let Some(outcome) = self.replay(caller, token).await? {
            return Ok(outcome);
        }
        for _ in 0..MAX_ATTEMPTS {
            let (mut batch, outcome) = plan().await?;
            self.record_source_states(&mut batch);
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
                Ok(_) => return Ok(outcome),
                Err(StoreError::Conflict(_)) => {
                    if let Some(outcome) = self.replay(caller, token).await? {
                        return Ok(outcome);
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(Failure::unavailable(
            "too much contention on this resource; retry",
        ))
    }

    /// Records in each source server's event SMC's state of the server as
    /// the change leaves it: at the event's time, with the jobs the read
    /// model holds.
    fn record_source_states(&self, batch: &mut WriteBatch) {
        let model = self.store.read_model();
        for write in &mut batch.writes {
            if let Resource::SourceServer(server) = &write.resource {
                let running = model
                    .source_server(&server.account_id, &server.id)
                    .is_some_and(|entry| entry.has_running_job);
                write.event.source_state =
                    Some(server.source_state(write.event.time, self.heartbeat_window(), running));
            }
        }
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
