//! The control plane: each use case loads resources from the [`Store`],
//! lets the domain decide, and commits the result with its event, retrying
//! on a concurrent write so that no update is lost.

mod agent;
mod aggregate;
#[cfg(test)]
mod answer_tests;
mod clock;
mod delivery;
#[cfg(test)]
mod delivery_tests;
mod failure;
#[cfg(test)]
pub(crate) mod harness;

mod page_token;
#[cfg(test)]
mod replay_tests;
mod replication_jobs;
pub mod requests;
mod source_servers;
mod work;
mod write_loop;

use std::{
    collections::HashSet,
    sync::{Arc, PoisonError, RwLock},
};

use tokio::sync::OnceCell;

use crate::{
    domain::{AccountId, DomainError, Millis, SourceServer, SourceState, TimeScale, Timestamp},
    store::{Fence, Store},
};

pub use agent::Listener;
pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::Delivery;
pub use failure::Failure;
pub use page_token::Page;
pub use replication_jobs::{JobCutOver, NumberedPage};
pub use source_servers::{LaunchOutcome, ServerView};
pub use work::PendingWork;
pub use write_loop::ClientToken;

/// Deployment settings the control plane applies.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Compression of every duration the service applies.
    pub time_scale: TimeScale,
    /// How recently an agent must have been seen for its server to count as
    /// reachable (before compression by `time_scale`).
    pub heartbeat_window: Millis,
    /// How long an agent may be silent before its replication is STALLED
    /// (before compression by `time_scale`).
    pub agent_silence: Millis,
    /// ARN partition, such as `aws`.
    pub partition: String,
    /// ARN region, such as `us-east-1`.
    pub region: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_scale: TimeScale::REAL,
            heartbeat_window: Millis::minutes(5),
            agent_silence: Millis::minutes(5),
            partition: "aws".into(),
            region: "us-east-1".into(),
        }
    }
}

/// Who is calling: the account the caller is authenticated to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's account.
    pub account_id: AccountId,
}

/// The acting principal: a caller whose account is initialised, the proof
/// every use case but InitializeService takes, so none can forget the
/// check, and the leased duty it acts for, if any. Only
/// [`ControlPlane::tenant`] makes one for a caller; the control plane makes
/// its own for the owners of stored resources (whose accounts were
/// initialised to create them). Dereferences to the [`Caller`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    caller: Caller,
    duty: Option<Fence>,
}

impl std::ops::Deref for Tenant {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl Tenant {
    /// The owner of a stored resource, acting through the service's own
    /// background work (the simulator, the scheduler) for the duty `duty`.
    fn owner(account_id: AccountId, duty: Option<Fence>) -> Tenant {
        Tenant {
            caller: Caller { account_id },
            duty,
        }
    }

    /// The tenant acting as a step of the leased duty `fence`: its writes
    /// commit only while the lease still carries that fence, so a replica
    /// that lost the lease cannot apply the step.
    pub fn on_duty(self, fence: Fence) -> Tenant {
        Tenant {
            duty: Some(fence),
            ..self
        }
    }

    /// The leased duty the tenant acts for, if any.
    pub fn duty(&self) -> Option<Fence> {
        self.duty
    }
}

/// The use cases of the service, shared by every transport and by the data
/// plane.
pub struct ControlPlane {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    /// Accounts known to be initialised; initialisation is never undone,
    /// so a positive answer can be remembered.
    initialized: RwLock<HashSet<AccountId>>,
    /// Signing key of pagination tokens, loaded from the store once.
    page_key: OnceCell<Vec<u8>>,
}

/// How many times a mutation is decided again after losing a race before
/// the caller is told to retry.
const MAX_ATTEMPTS: usize = 64;

impl ControlPlane {
    /// A control plane over `store`, reading time from `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        ControlPlane {
            store,
            clock,
            settings,
            initialized: RwLock::new(HashSet::new()),
            page_key: OnceCell::new(),
        }
    }

    /// The store, for the watch stream and the data plane.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The deployment settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The heartbeat window after time compression.
    pub fn heartbeat_window(&self) -> Millis {
        self.settings
            .time_scale
            .compress(self.settings.heartbeat_window)
    }

    /// InitializeService: idempotent; true when this call initialised it.
    pub async fn initialize_service(&self, caller: &Caller) -> Result<bool, Failure> {
        let created = self
            .store
            .initialize_account(&caller.account_id, self.now())
            .await?;
        self.remember_initialized(&caller.account_id);
        Ok(created)
    }

    fn remember_initialized(&self, account: &AccountId) {
        self.initialized
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account.clone());
    }

    /// `caller` as a tenant, once InitializeService ran for its account;
    /// UninitializedAccountException until then.
    pub async fn tenant(&self, caller: Caller) -> Result<Tenant, Failure> {
        let known = self
            .initialized
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&caller.account_id);
        if known {
            return Ok(Tenant { caller, duty: None });
        }
        if self
            .store
            .is_account_initialized(&caller.account_id)
            .await?
        {
            self.remember_initialized(&caller.account_id);
            return Ok(Tenant { caller, duty: None });
        }
        Err(DomainError::UninitializedAccount {
            account_id: caller.account_id.to_string(),
        }
        .into())
    }

    /// The ARN of a source server.
    pub fn arn(&self, server: &SourceServer) -> String {
        // Concatenated, not formatted: every server a call returns gets
        // one, and `format!` showed in the Get profile.
        [
            "arn:",
            &self.settings.partition,
            ":mgn:",
            &self.settings.region,
            ":",
            server.account_id.as_str(),
            ":source-server/",
            server.id.as_str(),
        ]
        .concat()
    }

    /// SMC's derived state of `server` now.
    pub fn source_state(&self, server: &SourceServer, has_running_job: bool) -> SourceState {
        server.source_state(self.now(), self.heartbeat_window(), has_running_job)
    }
}
