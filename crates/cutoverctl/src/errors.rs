//! Errors, how they print (cloud error code, message, `google.rpc` details)
//! and the exit code each one maps to.

use std::fmt::Write as _;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Exit code: any other error.
pub(crate) const EXIT_OTHER: u8 = 1;
/// Exit code: usage error (clap's own code).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code: NOT_FOUND.
pub(crate) const EXIT_NOT_FOUND: u8 = 3;
/// Exit code: FAILED_PRECONDITION (conflict, invalid state).
pub(crate) const EXIT_CONFLICT: u8 = 4;
/// Exit code: INVALID_ARGUMENT (validation).
pub(crate) const EXIT_VALIDATION: u8 = 5;
/// Exit code: UNAVAILABLE or DEADLINE_EXCEEDED.
pub(crate) const EXIT_UNAVAILABLE: u8 = 6;
/// Exit code: UNAUTHENTICATED or PERMISSION_DENIED.
pub(crate) const EXIT_UNAUTHENTICATED: u8 = 7;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The server answered with an error status.
    Status(Status),
    /// The flags or arguments cannot be used.
    Usage(String),
    /// The server could not be reached.
    Unavailable(String),
    /// A wait (`watch --until`) ran out of time.
    Timeout(String),
    /// A resource named on the command line does not exist.
    NotFound(String),
    /// Anything else (output could not be written, a message not decoded).
    Other(String),
}

impl CliError {
    /// The process exit code (documented in `--help`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Status(status) => exit_code_of(status.code()),
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Unavailable(_) | CliError::Timeout(_) => EXIT_UNAVAILABLE,
            CliError::NotFound(_) => EXIT_NOT_FOUND,
            CliError::Other(_) => EXIT_OTHER,
        }
    }

    /// Prints the error on stderr.
    pub(crate) fn print(&self) {
        eprint!("{}", self.render());
    }

    /// The error as printed: one headline, then one indented line per detail.
    pub(crate) fn render(&self) -> String {
        match self {
            CliError::Status(status) => render_status(status),
            CliError::Usage(message) => format!("error: {message}\n"),
            CliError::Unavailable(message) => format!("error: UNAVAILABLE: {message}\n"),
            CliError::Timeout(message) => format!("error: DEADLINE_EXCEEDED: {message}\n"),
            CliError::NotFound(message) => format!("error: NOT_FOUND: {message}\n"),
            CliError::Other(message) => format!("error: {message}\n"),
        }
    }
}

/// The exit code of a gRPC status code.
pub(crate) fn exit_code_of(code: Code) -> u8 {
    match code {
        Code::Ok => 0,
        Code::NotFound => EXIT_NOT_FOUND,
        Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => EXIT_CONFLICT,
        Code::InvalidArgument => EXIT_VALIDATION,
        Code::Unavailable | Code::DeadlineExceeded => EXIT_UNAVAILABLE,
        Code::Unauthenticated | Code::PermissionDenied => EXIT_UNAUTHENTICATED,
        _ => EXIT_OTHER,
    }
}

/// A status as printed:
///
/// ```text
/// error: ConflictException: SourceServer s-... is in state CUTOVER: ...
///   grpc code: FAILED_PRECONDITION (exit 4)
///   currentState: CUTOVER
///   ...
/// ```
fn render_status(status: &Status) -> String {
    let details = status.get_error_details();
    let code = cutover_proto::code_name(status.code());
    let mut out = String::new();
    let message = if status.message().is_empty() {
        "(no message)"
    } else {
        status.message()
    };
    match details.error_info() {
        Some(info) => {
            let _ = writeln!(out, "error: {}: {message}", info.reason);
        }
        None => {
            let _ = writeln!(out, "error: {code}: {message}");
        }
    }
    let _ = writeln!(
        out,
        "  grpc code: {code} (exit {})",
        exit_code_of(status.code())
    );
    if let Some(info) = details.error_info() {
        if !info.domain.is_empty() {
            let _ = writeln!(out, "  domain: {}", info.domain);
        }
        let mut metadata: Vec<_> = info.metadata.iter().collect();
        metadata.sort();
        for (key, value) in metadata {
            let _ = writeln!(out, "  {key}: {value}");
        }
    } else if let Some(id) = status
        .metadata()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
    {
        let _ = writeln!(out, "  requestId: {id}");
    }
    if let Some(bad_request) = details.bad_request() {
        for violation in &bad_request.field_violations {
            let _ = writeln!(
                out,
                "  field violation: {}: {}",
                violation.field, violation.description
            );
        }
    }
    if let Some(resource) = details.resource_info() {
        let _ = writeln!(
            out,
            "  resource: {} {}: {}",
            resource.resource_type, resource.resource_name, resource.description
        );
    }
    out
}

/// An error and its sources, joined with `: ` (transport errors hide the
/// useful part in their sources).
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    #[test]
    fn codes_map_to_documented_exit_codes() {
        assert_eq!(exit_code_of(Code::NotFound), 3);
        assert_eq!(exit_code_of(Code::FailedPrecondition), 4);
        assert_eq!(exit_code_of(Code::InvalidArgument), 5);
        assert_eq!(exit_code_of(Code::Unavailable), 6);
        assert_eq!(exit_code_of(Code::DeadlineExceeded), 6);
        assert_eq!(exit_code_of(Code::Unauthenticated), 7);
        assert_eq!(exit_code_of(Code::Internal), 1);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn a_status_prints_its_reason_metadata_and_violations() {
        let mut details = ErrorDetails::with_error_info(
            "ValidationException",
            "cutover",
            HashMap::from([("httpStatus".to_owned(), "400".to_owned())]),
        );
        details.add_bad_request_violation("source_server_id", "must start with s-");
        let status = Status::with_error_details(Code::InvalidArgument, "bad id", details);
        let text = CliError::Status(status).render();
        assert!(
            text.starts_with("error: ValidationException: bad id\n"),
            "{text}"
        );
        assert!(
            text.contains("grpc code: INVALID_ARGUMENT (exit 5)"),
            "{text}"
        );
        assert!(text.contains("  httpStatus: 400\n"), "{text}");
        assert!(
            text.contains("field violation: source_server_id: must start with s-"),
            "{text}"
        );
    }
}
