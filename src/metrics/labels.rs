//! Label sets of the RPC metrics, the gRPC code names, and the cap that keeps
//! the `method` label's cardinality bounded.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;

/// The `method` label value that stands for every method seen after the cap
/// of distinct values was reached.
pub(crate) const OTHER_METHOD: &str = "other";

/// How many distinct `method` label values are kept before the rest are
/// recorded as `other`; far above the service's own method count.
pub const MAX_METHODS: usize = 64;

/// Labels of `cutover_rpc_requests_total` and `cutover_rpc_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RpcLabels {
    /// The gRPC path, e.g. `/cutover.v1.SourceServerService/FinalizeCutover`.
    pub(crate) method: String,
    /// The gRPC status code name, e.g. `OK`, `FAILED_PRECONDITION`.
    pub(crate) code: &'static str,
}

/// Labels of `cutover_rpc_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MethodLabels {
    /// The gRPC path.
    pub(crate) method: String,
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
