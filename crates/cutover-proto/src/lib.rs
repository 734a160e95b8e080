//! The `cutover.v1` gRPC contract, shared by the service (`cutoverd`), its
//! command line (`cutoverctl`) and the replication agent
//! (`cutover-agent`): the code generated from `proto/cutover/v1`, the
//! encoded descriptor set (for reflection and proto3 JSON), and the names
//! clients rely on beside the messages: metadata keys and gRPC code names.

/// `cutover.v1`: messages, clients and servers.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("cutover.v1");
}

/// The encoded file descriptor set of every `cutover.v1` proto, for
/// reflection and JSON.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cutover_descriptor");

/// Response metadata key carrying a call's request id (on success and on
/// error).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Request metadata key naming the account a data-plane credential acts
/// for (the built-in simulated data plane acts for every account).
pub const ACCOUNT_HEADER: &str = "x-cutover-account";

/// The name the gRPC specification gives `code` (`FAILED_PRECONDITION`):
/// what metrics label calls with, and what `cutoverctl` prints.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
