//! SMC's errors on the wire, in one place: a JSON body of `RequestId`,
//! `HostId`, `Code`, `Message` and `Recommend` with the HTTP status the
//! code has at Alibaba's gateway. Both Python SDKs raise on the status and
//! show `Code` as the error code. Every code and status of this face stands
//! here, and nowhere else.

use http::StatusCode;
use serde_json::json;

use crate::{
    api::native::signature::SignatureError,
    control_plane::Failure,
    domain::{DomainError, ResourceKind},
};

/// Everything an SMC call can fail with.
#[derive(Debug)]
pub(crate) enum SmcError {
    /// What the control plane refused or failed with.
    UseCase(Failure),
    /// The signature was missing, malformed, unknown, stale or wrong.
    Signature(SignatureError),
    /// No such action on this endpoint.
    UnknownAction(String),
    /// A `Version` other than 2019-06-01.
    InvalidVersion(String),
    /// A required parameter is absent.
    Missing(String),
    /// A parameter's value is not acceptable.
    Invalid {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The body is over the listener's limit.
    TooLarge(usize),
}

impl From<Failure> for SmcError {
    fn from(err: Failure) -> Self {
        SmcError::UseCase(err)
    }
}

impl From<DomainError> for SmcError {
    fn from(err: DomainError) -> Self {
        SmcError::UseCase(err.into())
    }
}

impl SmcError {
    /// Parameter `name` is invalid: `why`.
    pub(super) fn invalid(name: &str, why: &str) -> SmcError {
        SmcError::Invalid {
            name: name.to_owned(),
            why: why.to_owned(),
        }
    }

    /// Status, code and message.
    fn parts(&self) -> (StatusCode, String, String) {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            SmcError::UseCase(err) => use_case(err),
            SmcError::Signature(err) => signature(err),
            SmcError::UnknownAction(action) => (
                StatusCode::NOT_FOUND,
                "InvalidAction.NotFound".into(),
                format!("Specified api {action:?} is not found, please check your url and method."),
            ),
            SmcError::InvalidVersion(version) => (
                bad,
                "InvalidVersion".into(),
                format!("Specified parameter Version {version:?} is not valid; this endpoint serves 2019-06-01."),
            ),
            SmcError::Missing(name) => (
                bad,
                format!("Missing{name}"),
                format!("{name} is mandatory for this action."),
            ),
            SmcError::Invalid { name, why } => (
                bad,
                "InvalidParameter".into(),
                format!("The specified parameter {name} is not valid: {why}"),
            ),
            SmcError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "InvalidParameter".into(),
                format!("The request body is over {limit} bytes."),
            ),
        }
    }

    /// The error's answer, with the call's `request_id`.
    pub(super) fn answer(&self, request_id: &str, host: &str) -> Answer {
        let (status, code, message) = self.parts();
        let body = json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": code,
            "Message": message,
            "Recommend": "See the cutover README, section \"Alibaba Cloud SMC SDKs\".",
        });
        Answer { status, code, body }
    }

    /// The use case's failure behind the error, if it is one: what the
    /// envelope logs.
    pub(super) fn failure(&self) -> Option<&Failure> {
        match self {
            SmcError::UseCase(err) => Some(err),
            _ => None,
        }
    }
}

/// An error as SMC answers it.
pub(super) struct Answer {
    /// The HTTP status.
    pub(super) status: StatusCode,
    /// SMC's error code, such as `ReplicationJob.InvalidStatus`.
    pub(super) code: String,
    /// The JSON body.
    pub(super) body: serde_json::Value,
}

fn use_case(err: &Failure) -> (StatusCode, String, String) {
    let message = err.to_string();
    let bad = StatusCode::BAD_REQUEST;
    let internal = |status, code: &str| (status, code.to_owned(), err.to_string());
    let refusal = match err {
        Failure::Refused(refusal) => refusal,
        Failure::Internal {
            retryable: true, ..
        }
        | Failure::StorageFull { .. }
        | Failure::ShuttingDown => {
            return internal(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
        }
        Failure::Internal {
            retryable: false, ..
        } => return internal(StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
    };
    match refusal {
        DomainError::Validation(fields) => {
            let why: Vec<String> = fields
                .iter()
                .map(|f| format!("{} {}", f.field, f.description))
                .collect();
            (
                bad,
                "InvalidParameter".into(),
                format!("The specified parameter is not valid: {}", why.join("; ")),
            )
        }
        DomainError::NotFound { kind, .. } => {
            let code = match kind {
                ResourceKind::ReplicationJob => "InvalidJobId.NotFound",
                ResourceKind::SourceServer => "InvalidSourceId.NotFound",
                ResourceKind::Account => "InvalidAccount.NotFound",
            };
            (StatusCode::NOT_FOUND, code.into(), message)
        }
        DomainError::Conflict { .. }
        | DomainError::JobInvalidStatus { .. }
        | DomainError::JobInvalidBusinessStatus { .. }
        | DomainError::SourceServerStateInvalid { .. }
        | DomainError::UninitializedAccount { .. } => (bad, refusal.code().into(), message),
        DomainError::Inconsistent { .. } => {
            internal(StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
        }
    }
}

/// The codes Alibaba's gateway answers each signature failure with.
fn signature(err: &SignatureError) -> (StatusCode, String, String) {
    let bad = StatusCode::BAD_REQUEST;
    match err {
        SignatureError::Missing => (
            bad,
            "MissingSignature".into(),
            "The request is not signed: Signature (v1) or an ACS3-HMAC-SHA256 Authorization header is mandatory.".into(),
        ),
        SignatureError::Malformed(why) => (
            bad,
            "IncompleteSignature".into(),
            format!("The request signature does not conform to Aliyun standards: {why}"),
        ),
        SignatureError::UnknownKey(_) => (
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound".into(),
            "Specified access key is not found.".into(),
        ),
        SignatureError::Expired(why) => (
            bad,
            "InvalidTimeStamp.Expired".into(),
            format!("Specified time stamp or date value is expired: {why}"),
        ),
        // Alibaba's gateway names the string it signed after the colon;
        // the older SDK compares it with its own to tell a wrong secret
        // (InvalidAccessKeySecret) from a wrong signature.
        SignatureError::Mismatch(string_to_sign) => (
            bad,
            "SignatureDoesNotMatch".into(),
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
        ),
    }
}
