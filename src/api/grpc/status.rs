//! The one mapping from [`DomainError`] to `tonic::Status`, with
//! `google.rpc` details: `ErrorInfo` (reason = the cloud error code, domain
//! `cutover`, metadata), `BadRequest` for validation, `ResourceInfo` for
//! not-found.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::RequestId;
use crate::domain::DomainError;

/// `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "cutover";

/// The gRPC code of a domain error (contract §6).
pub fn code_of(err: &DomainError) -> Code {
    match err {
        DomainError::Validation(_) => Code::InvalidArgument,
        DomainError::NotFound { .. } => Code::NotFound,
        DomainError::Conflict { .. }
        | DomainError::UninitializedAccount { .. }
        | DomainError::JobInvalidStatus { .. }
        | DomainError::JobInvalidBusinessStatus { .. }
        | DomainError::SourceServerStateInvalid { .. } => Code::FailedPrecondition,
        DomainError::RevisionCompacted { .. } => Code::OutOfRange,
        DomainError::ShuttingDown { .. }
        | DomainError::StorageFull { .. }
        | DomainError::Internal {
            retryable: true, ..
        } => Code::Unavailable,
        DomainError::Internal {
            retryable: false, ..
        } => Code::Internal,
    }
}

/// The status a client sees for `err` in the request `request_id`.
pub fn to_status(err: &DomainError, request_id: &RequestId) -> Status {
    let mut metadata = HashMap::from([
        ("httpStatus".to_owned(), err.http_status().to_string()),
        ("requestId".to_owned(), request_id.to_string()),
    ]);
    let mut resource = |kind: &dyn ToString, id: &str, state: Option<&str>| {
        metadata.insert("resourceType".into(), kind.to_string());
        metadata.insert("resourceId".into(), id.to_owned());
        if let Some(state) = state {
            metadata.insert("currentState".into(), state.to_owned());
        }
    };
    match err {
        DomainError::NotFound { kind, id } => resource(kind, id, None),
        DomainError::Conflict {
            kind,
            id,
            current_state,
            ..
        } => resource(kind, id, Some(current_state)),
        DomainError::UninitializedAccount { account_id } => {
            resource(&"Account", account_id, Some("UNINITIALIZED"))
        }
        DomainError::JobInvalidStatus {
            job_id, current, ..
        } => resource(&"ReplicationJob", job_id, Some(current.as_str())),
        DomainError::JobInvalidBusinessStatus {
            job_id, current, ..
        } => resource(
            &"ReplicationJob",
            job_id,
            Some(current.map_or("None", |s| s.as_str())),
        ),
        DomainError::SourceServerStateInvalid {
            source_id, current, ..
        } => resource(&"SourceServer", source_id, Some(current.as_str())),
        DomainError::RevisionCompacted { requested, oldest } => {
            metadata.insert("requestedRevision".into(), requested.to_string());
            metadata.insert("oldestRevision".into(), oldest.to_string());
        }
        DomainError::ShuttingDown {
            resume_from: Some(resume_from),
        } => {
            metadata.insert("resumeRevision".into(), resume_from.to_string());
        }
        DomainError::ShuttingDown { resume_from: None } => {}
        DomainError::StorageFull { .. }
        | DomainError::Validation(_)
        | DomainError::Internal { .. } => {}
    }
    let mut details = ErrorDetails::with_error_info(err.code(), ERROR_DOMAIN, metadata);
    match err {
        DomainError::Validation(violations) => {
            for violation in violations {
                details.add_bad_request_violation(
                    violation.field.clone(),
                    violation.description.clone(),
                );
            }
        }
        DomainError::NotFound { kind, id } => {
            details.set_resource_info(
                kind.to_string(),
                id.clone(),
                "",
                format!("{kind} {id} does not exist in the caller's account"),
            );
        }
        _ => {}
    }
    Status::with_error_details(code_of(err), err.to_string(), details)
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::code_of;
    use crate::domain::DomainError;

    /// A command stream ended by a graceful shutdown tells its agent to
    /// reconnect elsewhere, not that the service failed.
    #[test]
    fn shutting_down_is_unavailable() {
        let err = DomainError::ShuttingDown { resume_from: None };
        assert_eq!(code_of(&err), Code::Unavailable);
    }
}
