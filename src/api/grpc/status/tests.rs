//! The gRPC face's table, row by row: what clients of the previous
//! release saw, unchanged.

use tonic::Code;
use tonic_types::StatusExt;

use super::{code_of, to_status, Failed, RequestId};
use crate::{
    control_plane::Failure,
    domain::{DomainError, ReplicationJobStatus, ResourceKind, SourceState},
    store::StoreError,
    watch::WatchError,
};

/// Code, reason, `httpStatus` metadata and message a client sees for
/// `err`.
fn answer(err: impl Into<Failed>) -> (Code, String, String, String) {
    let status = to_status(&err.into(), &RequestId::generate());
    let info = status.get_details_error_info().expect("ErrorInfo");
    (
        status.code(),
        info.reason,
        info.metadata["httpStatus"].clone(),
        status.message().to_owned(),
    )
}

/// A command stream ended by a graceful shutdown tells its agent to
/// reconnect elsewhere, not that the service failed.
#[test]
fn shutting_down_is_unavailable() {
    let err = Failure::ShuttingDown.into();
    assert_eq!(code_of(&err), Code::Unavailable);
    let (_, reason, http, _) = answer(err);
    assert_eq!(
        (reason.as_str(), http.as_str()),
        ("ServiceShuttingDown", "503")
    );
}

/// Each refusal answers with the cloud's HTTP status (contract §6),
/// which this face alone knows.
#[test]
fn refusals_carry_the_clouds_http_status() {
    let conflict = DomainError::Conflict {
        kind: ResourceKind::SourceServer,
        id: "s-1234567890abcdef0".into(),
        current_state: "CUTOVER".into(),
        detail: "FinalizeCutover needs CUTTING_OVER".into(),
    };
    let not_found = DomainError::NotFound {
        kind: ResourceKind::ReplicationJob,
        id: "j-1".into(),
    };
    let job_status = DomainError::JobInvalidStatus {
        job_id: "j-1".into(),
        current: ReplicationJobStatus::Ready,
        allowed: vec![ReplicationJobStatus::Waiting],
    };
    let source_state = DomainError::SourceServerStateInvalid {
        source_id: "s-1".into(),
        current: SourceState::Unavailable,
        allowed: vec![SourceState::Available],
    };
    let cases = [
        (
            DomainError::invalid_field("f", "bad"),
            Code::InvalidArgument,
            "ValidationException",
            "400",
        ),
        (
            not_found,
            Code::NotFound,
            "ResourceNotFoundException",
            "404",
        ),
        (
            conflict,
            Code::FailedPrecondition,
            "ConflictException",
            "409",
        ),
        (
            DomainError::UninitializedAccount {
                account_id: "123456789012".into(),
            },
            Code::FailedPrecondition,
            "UninitializedAccountException",
            "400",
        ),
        (
            job_status,
            Code::FailedPrecondition,
            "ReplicationJob.InvalidStatus",
            "400",
        ),
        (
            DomainError::JobInvalidBusinessStatus {
                job_id: "j-1".into(),
                current: None,
                allowed: vec![],
            },
            Code::FailedPrecondition,
            "ReplicationJob.InvalidBusinessStatus",
            "400",
        ),
        (
            source_state,
            Code::FailedPrecondition,
            "SourceServerState.Invalid",
            "400",
        ),
    ];
    for (refusal, code, reason, http) in cases {
        let message = refusal.to_string();
        assert_eq!(
            answer(refusal),
            (code, reason.to_owned(), http.to_owned(), message)
        );
    }
}

/// Failures inside the service say nothing of their cause; the
/// watch's own two say where to go on from.
#[test]
fn failures_inside_the_service_and_of_a_watch() {
    const INTERNAL: &str = "An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.";
    let internal = |code: Code, http: &str| {
        (
            code,
            "InternalError".to_owned(),
            http.to_owned(),
            INTERNAL.to_owned(),
        )
    };
    assert_eq!(
        answer(Failure::internal("bug")),
        internal(Code::Internal, "500")
    );
    assert_eq!(
        answer(Failure::unavailable("busy")),
        internal(Code::Unavailable, "500")
    );
    assert_eq!(
        answer(Failure::from(DomainError::Inconsistent {
            detail: "bug".into()
        })),
        internal(Code::Internal, "500")
    );
    assert_eq!(
        answer(WatchError::Store(StoreError::Corrupt("json".into()))),
        internal(Code::Internal, "500")
    );
    let (code, reason, http, message) = answer(Failure::from(StoreError::Full("disk".into())));
    assert_eq!(
        (code, reason.as_str(), http.as_str()),
        (Code::Unavailable, "StorageFull", "503")
    );
    assert!(
        message.starts_with("the service's storage is full (disk)"),
        "{message}"
    );

    let compacted = to_status(
        &WatchError::RevisionCompacted {
            requested: 3,
            oldest: 7,
        }
        .into(),
        &RequestId::generate(),
    );
    let info = compacted.get_details_error_info().expect("ErrorInfo");
    assert_eq!(compacted.code(), Code::OutOfRange);
    assert_eq!(info.reason, "RevisionCompacted");
    assert_eq!(info.metadata["httpStatus"], "410");
    assert_eq!(info.metadata["oldestRevision"], "7");
    assert_eq!(
        compacted.message(),
        "revision 3 has been compacted; the oldest revision kept is 7"
    );
    let drained = to_status(
        &WatchError::ShuttingDown { resume_from: 9 }.into(),
        &RequestId::generate(),
    );
    let info = drained.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.metadata["resumeRevision"], "9");
    assert_eq!(info.metadata["httpStatus"], "503");
    assert_eq!(
        drained.message(),
        "the server is shutting down; resume from revision 9"
    );
}
