//! The domain's refusals, in the clouds' own vocabulary (MGN's exceptions,
//! SMC's codes): a client that knows AWS or Alibaba recognises each one.
//! Only refusals live here; what fails inside the service belongs to the
//! layer that fails (`store::StoreError`, `control_plane::Failure`,
//! `watch::WatchError`), and each face owns the status numbers it answers
//! with.

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

/// Why the domain refuses a request, in the cloud's own error vocabulary.
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
    /// The resource breaks an invariant the domain keeps (a bug or a
    /// damaged store, never the caller's doing), so no decision can be
    /// made. The control plane answers it as a failure inside the service,
    /// which says nothing of `detail`.
    #[error("An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.")]
    Inconsistent {
        /// What is broken, for logs only.
        detail: String,
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
            DomainError::Inconsistent { .. } => "InternalError",
        }
    }
}
