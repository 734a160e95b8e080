//! The envelope around every call, whatever its wire: the call's request
//! id, one span, one metrics record and one log line for a failure inside
//! the service. A face opens a [`Call`] as soon as it knows the operation,
//! runs the use case inside [`Call::span`], and hands the answer's code to
//! [`Call::finish`]; so the three wires cannot drift apart in what they
//! measure or log.

use std::time::Instant;

use tracing::Span;

use super::request_id::{RequestId, RpcMethod};
use crate::{
    control_plane::Failure,
    metrics::{Metrics, Wire},
};

/// The label of an operation a wire does not serve: one fixed value, so
/// that made-up names cannot fill the metrics' label cap.
pub const UNKNOWN_OPERATION: &str = "unknown";

/// The operation a call invokes, by its name on its wire.
#[derive(Debug, Clone)]
pub enum Operation {
    /// A name the wire knows statically (MGN's and SMC's operations).
    Named(&'static str),
    /// A gRPC method: its name is the last segment of the path the call
    /// was sent to, read without copying.
    Grpc(RpcMethod),
}

impl Operation {
    /// The name: `FinalizeCutover`, `CutOverReplicationJob`, ….
    pub fn name(&self) -> &str {
        match self {
            Operation::Named(name) => name,
            Operation::Grpc(method) => {
                let path = method.path();
                path.rsplit_once('/').map_or(path, |(_, name)| name)
            }
        }
    }
}

/// What names a call in the logs: its wire, operation and request id.
#[derive(Debug, Clone)]
pub struct CallName {
    wire: Wire,
    operation: Operation,
    request_id: RequestId,
}

impl CallName {
    /// The call's request id.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// Logs `err` if it is a failure inside the service (not a refusal,
    /// nor a shutdown), with the call's request id so a customer's report
    /// can be found: the one place this happens, for an answer and for a
    /// stream's later item alike.
    pub fn log_failure(&self, err: &Failure) {
        let (wire, operation) = (self.wire.as_str(), self.operation.name());
        let request_id = self.request_id.as_str();
        match err {
            Failure::Internal { cause, retryable } => tracing::error!(
                wire,
                operation,
                request_id,
                %cause,
                retryable,
                "internal error"
            ),
            Failure::StorageFull { detail } => tracing::error!(
                wire,
                operation,
                request_id,
                %detail,
                "the storage is full"
            ),
            Failure::Refused(_) | Failure::ShuttingDown => {}
        }
    }
}

/// One call, from the moment its wire named the operation until it was
/// answered.
#[derive(Debug)]
pub struct Call {
    name: CallName,
    started: Instant,
    span: Span,
}

impl Call {
    /// Opens the call of `operation` on `wire` with `request_id`.
    pub fn open(wire: Wire, operation: Operation, request_id: RequestId) -> Call {
        let span = tracing::debug_span!(
            "call",
            wire = wire.as_str(),
            operation = operation.name(),
            request_id = %request_id,
            path = tracing::field::Empty,
        );
        if let Operation::Grpc(method) = &operation {
            span.record("path", method.path());
        }
        Call {
            name: CallName {
                wire,
                operation,
                request_id,
            },
            started: Instant::now(),
            span,
        }
    }

    /// Names the call's operation once the wire has read it (SMC's action
    /// may stand in the body, read after the call opened).
    pub fn set_operation(&mut self, operation: Operation) {
        self.span.record("operation", operation.name());
        self.name.operation = operation;
    }

    /// What names the call.
    pub fn name(&self) -> &CallName {
        &self.name
    }

    /// The call's request id.
    pub fn request_id(&self) -> &RequestId {
        &self.name.request_id
    }

    /// The span the call runs in.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The call was answered with the wire's `code` (`metrics::OK` for a
    /// success), having failed with `failure` if it did: records it in
    /// `metrics`, and logs a failure inside the service once.
    pub fn finish(self, metrics: &Metrics, code: &str, failure: Option<&Failure>) {
        let elapsed = self.started.elapsed();
        if let Some(err) = failure {
            self.name.log_failure(err);
        }
        tracing::debug!(
            parent: &self.span,
            code,
            elapsed_us = elapsed.as_micros() as u64,
            "call finished"
        );
        let CallName {
            wire, operation, ..
        } = &self.name;
        metrics.request_finished(*wire, operation.name(), code, elapsed);
    }
}
