//! The one error type of the service. Every failure a client can see is a
//! variant here; `api::grpc::status` maps each to a gRPC status in one place.

use std::fmt;

use super::{BusinessStatus, ReplicationJobStatus, SourceState};

/// Kind of resource an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ResourceKind {
    /// An account.
    Account,
    /// A source server.
    SourceServer,
    /// A replication job.
    ReplicationJob,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Account => "Account",
            ResourceKind::SourceServer => "SourceServer",
            ResourceKind::ReplicationJob => "ReplicationJob",
        })
    }
}

/// One invalid request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field, in the request's snake_case naming (`source_server_id`).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// Everything that can go wrong, in the cloud's own error vocabulary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// MGN `ValidationException`: the request is malformed.
    #[error("{}", validation_message(.0))]
    Validation(Vec<FieldViolation>),
    /// MGN `ResourceNotFoundException`.
    #[error("{kind} {id} was not found")]
    NotFound {
        /// Kind of the missing resource.
        kind: ResourceKind,
        /// Its id as given.
        id: String,
    },
    /// MGN `ConflictException`: the resource's state forbids the operation.
    #[error("{kind} {id} is in state {current_state}: {detail}")]
    Conflict {
        /// Kind of resource.
        kind: ResourceKind,
        /// Its id.
        id: String,
        /// Its current state.
        current_state: String,
        /// What the operation needed.
        detail: String,
    },
    /// MGN `UninitializedAccountException`.
    #[error("account {account_id} is not initialized; call InitializeService first")]
    UninitializedAccount {
        /// The caller's account.
        account_id: String,
    },
    /// SMC `ReplicationJob.InvalidStatus`.
    #[error(
        "The specified replication job status: {} is invalid. This operation can only be performed in the following status: {}.",
        current.as_str(), join(allowed.iter().map(|s| s.as_str()))
    )]
    JobInvalidStatus {
        /// The job.
        job_id: String,
        /// Its status.
        current: ReplicationJobStatus,
        /// The statuses the operation accepts.
        allowed: Vec<ReplicationJobStatus>,
    },
    /// SMC `ReplicationJob.InvalidBusinessStatus`.
    #[error(
        "The specified business status: {} of the replication job is invalid. This operation can only be performed in the following status: {}.",
        current.map_or("None", |s| s.as_str()), join(allowed.iter().map(|s| s.as_str()))
    )]
    JobInvalidBusinessStatus {
        /// The job.
        job_id: String,
        /// Its business status, if any.
        current: Option<BusinessStatus>,
        /// The business statuses the operation accepts.
        allowed: Vec<BusinessStatus>,
    },
    /// SMC `SourceServerState.Invalid`.
    #[error(
        "The specified source server status: {} is invalid. This operation can only be performed in the following status: {}.",
        current.as_str(), join(allowed.iter().map(|s| s.as_str()))
    )]
    SourceServerStateInvalid {
        /// The source server.
        source_id: String,
        /// Its derived SMC state.
        current: SourceState,
        /// The states the operation accepts.
        allowed: Vec<SourceState>,
    },
    /// A watch asked for revisions the log no longer keeps; the client
    /// re-lists (snapshot) and watches from the snapshot's revision.
    #[error("revision {requested} has been compacted; the oldest revision kept is {oldest}")]
    RevisionCompacted {
        /// The revision asked for.
        requested: u64,
        /// The oldest revision still kept.
        oldest: u64,
    },
    /// The server is shutting down: a watch resumes from `resume_from`
    /// elsewhere or after the restart; an agent's command stream (no
    /// revision) reconnects and is sent what is still pending.
    #[error(
        "the server is shutting down; {}",
        .resume_from.map_or("reconnect".to_owned(), |r| format!("resume from revision {r}"))
    )]
    ShuttingDown {
        /// The first revision a watcher has not seen.
        resume_from: Option<u64>,
    },
    /// The service's storage has no space left: writes are refused (nothing
    /// is written) until space is freed; reads go on.
    #[error(
        "the service's storage is full ({detail}): writes are refused until space is freed; \
         reads go on and nothing acknowledged was lost"
    )]
    StorageFull {
        /// What the storage said, for operators.
        detail: String,
    },
    /// SMC `InternalError`; `retryable` when trying again may help.
    #[error("An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.")]
    Internal {
        /// What went wrong, for logs only.
        cause: String,
        /// True when the same call may succeed later.
        retryable: bool,
    },
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn validation_message(violations: &[FieldViolation]) -> String {
    let parts: Vec<String> = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    format!("invalid request: {}", parts.join("; "))
}

impl DomainError {
    /// A validation error on one field.
    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldViolation {
            field: field.to_owned(),
            description: description.into(),
        }])
    }

    /// An internal error that a retry may cure.
    pub fn unavailable(cause: impl Into<String>) -> Self {
        DomainError::Internal {
            cause: cause.into(),
            retryable: true,
        }
    }

    /// An internal error that a retry will not cure.
    pub fn internal(cause: impl Into<String>) -> Self {
        DomainError::Internal {
            cause: cause.into(),
            retryable: false,
        }
    }

    /// The cloud error code, verbatim (`ErrorInfo.reason`).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation(_) => "ValidationException",
            DomainError::NotFound { .. } => "ResourceNotFoundException",
            DomainError::Conflict { .. } => "ConflictException",
            DomainError::UninitializedAccount { .. } => "UninitializedAccountException",
            DomainError::JobInvalidStatus { .. } => "ReplicationJob.InvalidStatus",
            DomainError::JobInvalidBusinessStatus { .. } => "ReplicationJob.InvalidBusinessStatus",
            DomainError::SourceServerStateInvalid { .. } => "SourceServerState.Invalid",
            DomainError::RevisionCompacted { .. } => "RevisionCompacted",
            DomainError::ShuttingDown { .. } => "ServiceShuttingDown",
            DomainError::StorageFull { .. } => "StorageFull",
            DomainError::Internal { .. } => "InternalError",
        }
    }

    /// The HTTP status the cloud answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            DomainError::Validation(_) => 400,
            DomainError::NotFound { .. } => 404,
            DomainError::Conflict { .. } => 409,
            DomainError::UninitializedAccount { .. }
            | DomainError::JobInvalidStatus { .. }
            | DomainError::JobInvalidBusinessStatus { .. }
            | DomainError::SourceServerStateInvalid { .. } => 400,
            DomainError::RevisionCompacted { .. } => 410,
            DomainError::ShuttingDown { .. } | DomainError::StorageFull { .. } => 503,
            DomainError::Internal { .. } => 500,
        }
    }
}
