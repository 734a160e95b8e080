//! Label sets of the request metrics, the wires, and the cap that keeps
//! the `operation` label's cardinality bounded.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// The `operation` label value that stands for every operation seen after the cap
/// of distinct values was reached.
pub(crate) const OTHER_METHOD: &str = "other";

/// How many distinct `operation` label values each wire keeps before the
/// rest are recorded as `other`; far above the service's own operation
/// count.
pub const MAX_METHODS: usize = 64;

/// The `code` of a call that succeeded, on every wire.
pub const OK: &str = "OK";

/// The wire a call came in on.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Wire {
    /// gRPC (and grpc-web), `cutover.v1`.
    Grpc,
    /// AWS MGN's restJson1.
    Mgn,
    /// Alibaba Cloud SMC's RPC style.
    Smc,
}

impl Wire {
    /// How many wires there are.
    pub(crate) const COUNT: usize = 3;

    /// The label value: `grpc`, `mgn` or `smc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Wire::Grpc => "grpc",
            Wire::Mgn => "mgn",
            Wire::Smc => "smc",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Wire::Grpc => 0,
            Wire::Mgn => 1,
            Wire::Smc => 2,
        }
    }
}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EncodeLabelValue for Wire {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Labels of `cutover_requests_total` and `cutover_request_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The wire.
    pub(crate) wire: Wire,
    /// The operation's name on its wire, e.g. `FinalizeCutover`.
    pub(crate) operation: String,
    /// The wire's code, e.g. `OK`, `FAILED_PRECONDITION`, `ConflictException`.
    pub(crate) code: String,
}

/// Labels of `cutover_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    /// The wire.
    pub(crate) wire: Wire,
    /// The operation.
    pub(crate) operation: String,
}

/// Admits at most `limit` distinct method names as label values; every name
/// first seen after that maps to [`OTHER_METHOD`].
#[derive(Debug)]
pub(crate) struct MethodCap {
    seen: RwLock<HashSet<Box<str>>>,
    limit: usize,
}

impl MethodCap {
    /// A cap admitting `limit` distinct names.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            seen: RwLock::new(HashSet::new()),
            limit,
        }
    }

    /// The label value to record `method` under: `method` itself if it was
    /// admitted already or there is still room, else [`OTHER_METHOD`].
    pub(crate) fn label(&self, method: &str) -> String {
        // The set is only ever inserted into, so a poisoned lock still holds
        // a consistent set.
        {
            let seen = self.seen.read().unwrap_or_else(PoisonError::into_inner);
            if seen.contains(method) {
                return method.to_owned();
            }
            if seen.len() >= self.limit {
                return OTHER_METHOD.to_owned();
            }
        }
        let mut seen = self.seen.write().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(method) {
            return method.to_owned();
        }
        if seen.len() >= self.limit {
            return OTHER_METHOD.to_owned();
        }
        seen.insert(method.into());
        method.to_owned()
    }
}
