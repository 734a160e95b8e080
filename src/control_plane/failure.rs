//! Why a use case did not complete: the domain refused it, or something
//! inside the service failed. The second kind is the control plane's: it
//! meets the store's failures and its own (lost races, broken invariants,
//! a drained command stream), and tells the faces only what they answer
//! differently: a full disk, whether a retry may help, a shutdown. The
//! faces own the status numbers.

use crate::{domain::DomainError, store::StoreError};

/// What a use case failed with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The domain refused: the request, or the state of what it names,
    /// must change before it can succeed.
    #[error(transparent)]
    Refused(DomainError),
    /// The service's storage has no space left: writes are refused
    /// (nothing is written) until space is freed; reads go on.
    #[error(
        "the service's storage is full ({detail}): writes are refused until space is freed; \
         reads go on and nothing acknowledged was lost"
    )]
    StorageFull {
        /// What the storage said, for operators.
        detail: String,
    },
    /// Something failed inside the service; the answer says nothing of
    /// `cause`, which is logged.
    #[error("An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.")]
    Internal {
        /// What went wrong, for logs only.
        cause: String,
        /// True when the same call may succeed later.
        retryable: bool,
    },
    /// The server is shutting down: an agent's command stream ends, and
    /// the agent reconnects and is sent what is still pending.
    #[error("the server is shutting down; reconnect")]
    ShuttingDown,
}

impl Failure {
    /// A failure inside the service that a retry may cure.
    pub fn unavailable(cause: impl Into<String>) -> Self {
        Failure::Internal {
            cause: cause.into(),
            retryable: true,
        }
    }

    /// A failure inside the service that a retry will not cure.
    pub fn internal(cause: impl Into<String>) -> Self {
        Failure::Internal {
            cause: cause.into(),
            retryable: false,
        }
    }
}

impl From<DomainError> for Failure {
    /// A refusal as such; a broken invariant is the service's failure, not
    /// the caller's.
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Inconsistent { detail } => Failure::internal(detail),
            refusal => Failure::Refused(refusal),
        }
    }
}

impl From<StoreError> for Failure {
    /// The store's failures as clients meet them: a lost race, a busy store
    /// or a lost lease may pass; unreadable data will not.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(cause)
            | StoreError::Unavailable(cause)
            | StoreError::Fenced(cause) => Failure::unavailable(cause),
            StoreError::Corrupt(cause) => Failure::internal(cause),
            StoreError::Full(detail) => Failure::StorageFull { detail },
        }
    }
}
