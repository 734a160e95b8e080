//! Every error of contract §6 provoked over real gRPC: the gRPC code, the cloud
//! error code in `ErrorInfo.reason`, its metadata, and the details each
//! kind carries (`BadRequest` field violations, `ResourceInfo`); plus
//! accounts (authentication, initialisation, isolation) and request ids.
//!
//! [`call`] names every RPC as a [`call::Call`] and [`api`] makes it, so
//! that a case is a row of a table: the call, the id it is aimed at, and
//! what the refusal must say. This file holds what several themes share:
//! SMC's precondition errors.

mod accounts;
mod api;
mod call;
mod conflict;
mod internal;
mod jobs;
mod limits;
mod not_found;
mod request_ids;
mod tokens;
mod validation;

use std::collections::HashSet;

use cutover_testkit::expect_smc;
use tonic::Status;

const NO_SIMULATOR: &[&str] = &["--no-simulator"];
/// Ten times real speed: a simulator tick is 100 ms.
const WATCHABLE: &[&str] = &["--sim-speed", "10"];

const UNKNOWN_SERVER: &str = "s-00000000000000000";
const UNKNOWN_JOB: &str = "j-00000000000000000000";

/// Asserts `message` is SMC's: `head`, then the statuses the operation
/// needs, exactly `allowed` (in any order).
fn assert_smc_message(message: &str, head: &str, allowed: &[&str]) {
    let (said, list) = message
        .split_once(" This operation can only be performed in the following status: ")
        .unwrap_or_else(|| panic!("not SMC's template: {message}"));
    assert_eq!(said, head, "{message}");
    let list = list
        .strip_suffix('.')
        .unwrap_or_else(|| panic!("no full stop: {message}"));
    let named: HashSet<&str> = list.split(", ").collect();
    let allowed: HashSet<&str> = allowed.iter().copied().collect();
    assert_eq!(named, allowed, "{message}");
}

/// A `ReplicationJob.InvalidStatus` about job `id` in `state`, which
/// names `allowed` as the statuses the call needs.
fn expect_invalid_status(status: Status, id: &str, state: &str, allowed: &[&str]) -> Status {
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        id,
        state,
    );
    let head = format!("The specified replication job status: {state} is invalid.");
    assert_smc_message(status.message(), &head, allowed);
    status
}

/// A `SourceServerState.Invalid` about source server `id` in `state`,
/// which names `allowed` as the states the call needs.
fn expect_invalid_source(status: Status, id: &str, state: &str, allowed: &[&str]) -> Status {
    let status = expect_smc(
        status,
        "SourceServerState.Invalid",
        "SourceServer",
        id,
        state,
    );
    let head = format!("The specified source server status: {state} is invalid.");
    assert_smc_message(status.message(), &head, allowed);
    status
}
