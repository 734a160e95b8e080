//! What the service answers, checked: request ids, and error statuses with
//! their `google.rpc` details (contract §6).

use std::collections::HashMap;

use tonic::{metadata::MetadataMap, Code, Status};
use tonic_types::StatusExt;

/// The `x-request-id` response metadata of a call.
pub fn request_id_header(metadata: &MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("x-request-id metadata")
        .to_str()
        .expect("ascii request id")
        .to_owned()
}

/// The `ErrorInfo.reason` of a status.
pub fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
}

/// The `ErrorInfo.metadata` of a status.
pub fn error_metadata(status: &Status) -> HashMap<String, String> {
    status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
        .metadata
}

/// Asserts a status's code and cloud error code, and returns it.
pub fn expect_error(status: Status, code: Code, cloud_code: &str) -> Status {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(&status), cloud_code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.domain, "cutover");
    assert!(info.metadata.contains_key("httpStatus"));
    assert_eq!(
        info.metadata.get("requestId"),
        Some(&request_id_header(status.metadata())),
        "x-request-id on an error is ErrorInfo's requestId: {status:?}"
    );
    status
}

/// Asserts `ErrorInfo.metadata` holds every `(key, value)` of `expected`.
fn assert_metadata(status: &Status, expected: &[(&str, &str)]) {
    let metadata = error_metadata(status);
    for (key, value) in expected {
        assert_eq!(
            metadata.get(*key).map(String::as_str),
            Some(*value),
            "{key} of {status:?}"
        );
    }
}

/// A ValidationException naming `field` in a BadRequest violation.
pub fn expect_violation(status: Status, field: &str) -> Status {
    let status = expect_error(status, Code::InvalidArgument, "ValidationException");
    assert_metadata(&status, &[("httpStatus", "400")]);
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    assert!(
        bad.field_violations
            .iter()
            .any(|v| v.field == field && !v.description.is_empty()),
        "expected a violation of {field}: {bad:?}"
    );
    status
}

/// A ResourceNotFoundException about `id` of `kind`, with ResourceInfo.
pub fn expect_not_found(status: Status, kind: &str, id: &str) -> Status {
    let status = expect_error(status, Code::NotFound, "ResourceNotFoundException");
    let info = status
        .get_details_resource_info()
        .unwrap_or_else(|| panic!("no ResourceInfo in {status:?}"));
    assert_eq!(info.resource_type, kind, "{status:?}");
    assert_eq!(info.resource_name, id, "{status:?}");
    assert_metadata(
        &status,
        &[
            ("resourceId", id),
            ("resourceType", kind),
            ("httpStatus", "404"),
        ],
    );
    status
}

/// A ConflictException about source server `id` in `state`.
pub fn expect_conflict(status: Status, id: &str, state: &str) -> Status {
    let status = expect_error(status, Code::FailedPrecondition, "ConflictException");
    assert_metadata(
        &status,
        &[
            ("currentState", state),
            ("resourceId", id),
            ("resourceType", "SourceServer"),
            ("httpStatus", "409"),
        ],
    );
    status
}

/// One of SMC's FAILED_PRECONDITION errors (`reason`) about `kind` `id` in
/// `state`.
pub fn expect_smc(status: Status, reason: &str, kind: &str, id: &str, state: &str) -> Status {
    let status = expect_error(status, Code::FailedPrecondition, reason);
    assert_metadata(
        &status,
        &[
            ("currentState", state),
            ("resourceId", id),
            ("resourceType", kind),
            ("httpStatus", "400"),
        ],
    );
    status
}
