//! The one mapping from what a gRPC call failed with to `tonic::Status`,
//! with `google.rpc` details: `ErrorInfo` (reason = the cloud error code,
//! domain `cutover`, metadata), `BadRequest` for validation, `ResourceInfo`
//! for not-found. The gRPC code, reason and `httpStatus` of every failure
//! stand in one table, `row`: the HTTP status is this face's (the clouds'
//! status for each error, told to gRPC clients in metadata), no lower
//! layer's.

use std::{borrow::Cow, collections::HashMap, fmt};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::RequestId;
use crate::{control_plane::Failure, domain::DomainError, watch::WatchError};

/// `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "cutover";

/// What a gRPC call or stream failed with, by the layer that raised it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failed {
    /// A use case did not complete (the domain's refusals included).
    UseCase(Failure),
    /// A watch could not open, or ended.
    Watch(WatchError),
}

impl From<Failure> for Failed {
    fn from(err: Failure) -> Self {
        Failed::UseCase(err)
    }
}

impl From<DomainError> for Failed {
    fn from(err: DomainError) -> Self {
        Failed::UseCase(err.into())
    }
}

impl From<WatchError> for Failed {
    fn from(err: WatchError) -> Self {
        Failed::Watch(err)
    }
}

impl Failed {
    /// The use case's failure it is, or is answered as: a store failure
    /// under a watch is the service's failure like any other. What the
    /// envelope logs.
    pub fn failure(&self) -> Option<Cow<'_, Failure>> {
        match self {
            Failed::UseCase(err) => Some(Cow::Borrowed(err)),
            Failed::Watch(WatchError::Store(err)) => Some(Cow::Owned(err.clone().into())),
            Failed::Watch(_) => None,
        }
    }
}

impl fmt::Display for Failed {
    /// The message a client reads: a store failure under a watch reads as
    /// any failure inside the service does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failed::UseCase(err) => err.fmt(f),
            Failed::Watch(WatchError::Store(err)) => Failure::from(err.clone()).fmt(f),
            Failed::Watch(err) => err.fmt(f),
        }
    }
}

/// How gRPC answers one kind of failure.
struct Row {
    code: Code,
    /// `ErrorInfo.reason`: the cloud's error code for a refusal.
    reason: &'static str,
    /// `ErrorInfo.metadata.httpStatus`: what the cloud answers over HTTP.
    http_status: u16,
}

/// The table: gRPC code, reason and HTTP status of every failure (contract
/// §6).
fn row(err: &Failed) -> Row {
    let answer = |code, reason, http_status| Row {
        code,
        reason,
        http_status,
    };
    match err {
        Failed::UseCase(Failure::Refused(refusal)) => match refusal {
            DomainError::Validation(_) => answer(Code::InvalidArgument, refusal.code(), 400),
            DomainError::NotFound { .. } => answer(Code::NotFound, refusal.code(), 404),
            DomainError::Conflict { .. } => answer(Code::FailedPrecondition, refusal.code(), 409),
            DomainError::UninitializedAccount { .. }
            | DomainError::JobInvalidStatus { .. }
            | DomainError::JobInvalidBusinessStatus { .. }
            | DomainError::SourceServerStateInvalid { .. } => {
                answer(Code::FailedPrecondition, refusal.code(), 400)
            }
            DomainError::Inconsistent { .. } => answer(Code::Internal, "InternalError", 500),
        },
        Failed::UseCase(Failure::Internal {
            retryable: false, ..
        }) => answer(Code::Internal, "InternalError", 500),
        Failed::UseCase(Failure::Internal {
            retryable: true, ..
        }) => answer(Code::Unavailable, "InternalError", 500),
        Failed::UseCase(Failure::StorageFull { .. }) => {
            answer(Code::Unavailable, "StorageFull", 503)
        }
        Failed::UseCase(Failure::ShuttingDown) | Failed::Watch(WatchError::ShuttingDown { .. }) => {
            answer(Code::Unavailable, "ServiceShuttingDown", 503)
        }
        Failed::Watch(WatchError::RevisionCompacted { .. }) => {
            answer(Code::OutOfRange, "RevisionCompacted", 410)
        }
        Failed::Watch(WatchError::Store(err)) => row(&Failed::UseCase(err.clone().into())),
    }
}

/// The gRPC code of a failure (contract §6).
pub fn code_of(err: &Failed) -> Code {
    row(err).code
}

/// The status a client sees for `err` in the request `request_id`.
pub fn to_status(err: &Failed, request_id: &RequestId) -> Status {
    let Row {
        code,
        reason,
        http_status,
    } = row(err);
    let mut metadata = HashMap::from([
        ("httpStatus".to_owned(), http_status.to_string()),
        ("requestId".to_owned(), request_id.to_string()),
    ]);
    let mut resource = |kind: &dyn ToString, id: &str, state: Option<&str>| {
        metadata.insert("resourceType".into(), kind.to_string());
        metadata.insert("resourceId".into(), id.to_owned());
        if let Some(state) = state {
            metadata.insert("currentState".into(), state.to_owned());
        }
    };
    let refusal = match err {
        Failed::UseCase(Failure::Refused(refusal)) => Some(refusal),
        _ => None,
    };
    match refusal {
        Some(DomainError::NotFound { kind, id }) => resource(kind, id, None),
        Some(DomainError::Conflict {
            kind,
            id,
            current_state,
            ..
        }) => resource(kind, id, Some(current_state)),
        Some(DomainError::UninitializedAccount { account_id }) => {
            resource(&"Account", account_id, Some("UNINITIALIZED"))
        }
        Some(DomainError::JobInvalidStatus {
            job_id, current, ..
        }) => resource(&"ReplicationJob", job_id, Some(current.as_str())),
        Some(DomainError::JobInvalidBusinessStatus {
            job_id, current, ..
        }) => resource(
            &"ReplicationJob",
            job_id,
            Some(current.map_or("None", |s| s.as_str())),
        ),
        Some(DomainError::SourceServerStateInvalid {
            source_id, current, ..
        }) => resource(&"SourceServer", source_id, Some(current.as_str())),
        Some(DomainError::Validation(_) | DomainError::Inconsistent { .. }) | None => {}
    }
    match err {
        Failed::Watch(WatchError::RevisionCompacted { requested, oldest }) => {
            metadata.insert("requestedRevision".into(), requested.to_string());
            metadata.insert("oldestRevision".into(), oldest.to_string());
        }
        Failed::Watch(WatchError::ShuttingDown { resume_from }) => {
            metadata.insert("resumeRevision".into(), resume_from.to_string());
        }
        Failed::Watch(WatchError::Store(_)) | Failed::UseCase(_) => {}
    }
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    match refusal {
        Some(DomainError::Validation(violations)) => {
            for violation in violations {
                details.add_bad_request_violation(
                    violation.field.clone(),
                    violation.description.clone(),
                );
            }
        }
        Some(DomainError::NotFound { kind, id }) => {
            details.set_resource_info(
                kind.to_string(),
                id.clone(),
                "",
                format!("{kind} {id} does not exist in the caller's account"),
            );
        }
        _ => {}
    }
    Status::with_error_details(code, err.to_string(), details)
}

#[cfg(test)]
mod tests;
