//! MGN's errors on the wire, in one place: `x-amzn-ErrorType` names the
//! exception (both SDKs map it to the operation's typed error), the JSON
//! body carries `message` and the exception's modelled members, and the
//! HTTP status is the model's. Every exception name and status of this
//! face stands here, and nowhere else.

use axum::response::{IntoResponse, Response};

use crate::api::native::json_response;
use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::{
    api::native::signature::SignatureError,
    control_plane::Failure,
    domain::{DomainError, FieldViolation},
};

/// Everything an MGN call can fail with.
#[derive(Debug)]
pub(super) enum MgnError {
    /// What the control plane refused or failed with.
    UseCase(Failure),
    /// The signature was missing, malformed, unknown, stale or wrong.
    Signature(SignatureError),
    /// Not a `POST /<Operation>` this listener serves.
    UnknownOperation(String),
    /// The body is not a JSON object.
    CannotParse(String),
    /// `accountID` names an account the caller cannot act for.
    AccessDenied(String),
    /// The body is over the listener's limit.
    TooLarge(usize),
}

impl From<Failure> for MgnError {
    fn from(err: Failure) -> Self {
        MgnError::UseCase(err)
    }
}

impl From<DomainError> for MgnError {
    fn from(err: DomainError) -> Self {
        MgnError::UseCase(err.into())
    }
}

/// An exception's wire form: status, name, message, modelled members.
struct Exception {
    status: StatusCode,
    name: &'static str,
    message: String,
    members: Value,
    retry_after: bool,
}

impl Exception {
    fn new(status: StatusCode, name: &'static str, message: String) -> Self {
        Exception {
            status,
            name,
            message,
            members: json!({}),
            retry_after: false,
        }
    }

    fn with(mut self, members: Value) -> Self {
        self.members = members;
        self
    }
}

fn validation(reason: &str, message: String, fields: &[FieldViolation]) -> Exception {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| json!({ "name": f.field, "message": f.description }))
        .collect();
    Exception::new(StatusCode::BAD_REQUEST, "ValidationException", message)
        .with(json!({ "reason": reason, "fieldList": fields }))
}

fn use_case(err: &Failure) -> Exception {
    let message = err.to_string();
    let refusal = match err {
        Failure::Refused(refusal) => refusal,
        Failure::StorageFull { .. } | Failure::ShuttingDown => return internal(message, true),
        Failure::Internal { retryable, .. } => return internal(message, *retryable),
    };
    match refusal {
        DomainError::Validation(fields) => validation("fieldValidationFailed", message, fields),
        DomainError::NotFound { kind, id } => {
            Exception::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
                .with(json!({ "resourceId": id, "resourceType": kind.to_string() }))
        }
        DomainError::Conflict {
            kind,
            id,
            current_state,
            ..
        } => conflict(message, id, &kind.to_string(), current_state),
        DomainError::JobInvalidStatus {
            job_id: id,
            current,
            ..
        } => conflict(message, id, "ReplicationJob", current.as_str()),
        DomainError::JobInvalidBusinessStatus { job_id: id, .. } => {
            conflict(message, id, "ReplicationJob", "Running")
        }
        DomainError::SourceServerStateInvalid {
            source_id, current, ..
        } => conflict(message, source_id, "SourceServer", current.as_str()),
        DomainError::UninitializedAccount { .. } => Exception::new(
            StatusCode::BAD_REQUEST,
            "UninitializedAccountException",
            message,
        ),
        DomainError::Inconsistent { .. } => internal(message, false),
    }
}

/// A failure inside the service: MGN has one exception for all, with
/// `Retry-After` when a retry may help.
fn internal(message: String, retryable: bool) -> Exception {
    let mut exception = Exception::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerException",
        message,
    );
    exception.retry_after = retryable;
    exception
}

fn conflict(message: String, id: &str, kind: &str, state: &str) -> Exception {
    Exception::new(StatusCode::CONFLICT, "ConflictException", message.clone()).with(json!({
        "resourceId": id,
        "resourceType": kind,
        "errors": [{ "message": message, "code": state, "resourceId": id, "resourceType": kind }],
    }))
}

/// The message and status AWS answers each signature failure with.
fn signature(err: &SignatureError) -> Exception {
    let forbidden = |name, message: String| Exception::new(StatusCode::FORBIDDEN, name, message);
    match err {
        SignatureError::Missing => forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ),
        SignatureError::Malformed(why) => Exception::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            why.clone(),
        ),
        SignatureError::UnknownKey(_) => forbidden(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".into(),
        ),
        SignatureError::Expired(why) => forbidden(
            "InvalidSignatureException",
            format!("Signature expired: {why}"),
        ),
        SignatureError::Mismatch(_) => forbidden(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method."
                .into(),
        ),
    }
}

impl MgnError {
    /// The exception's name, such as `ConflictException`: the call's code.
    pub(super) fn name(&self) -> &'static str {
        self.exception().name
    }

    /// The use case's failure behind the error, if it is one: what the
    /// envelope logs.
    pub(super) fn failure(&self) -> Option<&Failure> {
        match self {
            MgnError::UseCase(err) => Some(err),
            _ => None,
        }
    }

    fn exception(&self) -> Exception {
        match self {
            MgnError::UseCase(err) => use_case(err),
            MgnError::Signature(err) => signature(err),
            MgnError::UnknownOperation(what) => validation(
                "unknownOperation",
                format!("{what} is not an operation of this MGN endpoint"),
                &[],
            ),
            MgnError::CannotParse(why) => validation("cannotParse", why.clone(), &[]),
            MgnError::AccessDenied(why) => {
                Exception::new(StatusCode::FORBIDDEN, "AccessDeniedException", why.clone())
            }
            MgnError::TooLarge(limit) => validation(
                "other",
                format!("the request body is over {limit} bytes"),
                &[],
            ),
        }
    }
}

impl IntoResponse for MgnError {
    fn into_response(self) -> Response {
        let exception = self.exception();
        let mut body = json!({ "message": exception.message, "code": exception.name });
        if let (Value::Object(body), Value::Object(members)) = (&mut body, exception.members) {
            body.extend(members);
        }
        let mut response = json_response(exception.status, &body);
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(exception.name));
        if exception.retry_after {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
