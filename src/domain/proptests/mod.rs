//! Tests of the two state machines against SPEC sections 2 (source servers,
//! MGN) and 3 (replication jobs, SMC).
//!
//! Property tests drive random command sequences (right and wrong states,
//! good and bad arguments) through the pure domain with a monotonically
//! increasing `now`. After every step they check:
//! - an error against a reference oracle (which code, which field, which
//!   state it names), and that its code is one of SPEC section 6's;
//! - a success against the same oracle, its one event (time, previous and
//!   new summaries, event type) and the exact resource a reference model of
//!   the command expects;
//! - the invariants SPEC allows (`assert_server_invariants`,
//!   `assert_job_invariants`) and the step-to-step ones (completed tasks
//!   stay completed, runs only grow, progress never decreases in a run);
//! - the edge taken against SPEC's transition tables; at the end, every
//!   edge of the tables must have been taken by some case.
//!
//! Example tests walk each row of the tables by hand.
//!
//! `server` and `job` are laid out alike: `model` (the commands, the oracle
//! and the reference model), `step` (one command with every check),
//! `invariants`, `transitions` (SPEC's table), `properties` (generated
//! sequences) and the examples; their `mod.rs` holds the fixtures.

mod job;
mod server;

use std::collections::BTreeSet;
use std::fmt::Debug;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};

use super::{AccountId, BusinessStatus, DomainError};

/// The cloud error codes of SPEC section 6: no other code may ever appear.
const SPEC_CODES: &[&str] = &[
    "ValidationException",
    "ResourceNotFoundException",
    "ConflictException",
    "UninitializedAccountException",
    "ReplicationJob.InvalidStatus",
    "ReplicationJob.InvalidBusinessStatus",
    "SourceServerState.Invalid",
    "InternalError",
];

/// An arbitrary instant to start from (November 2023).
const T0: i64 = 1_700_000_000_000;

/// Cases per property; each case is up to `MAX_STEPS` commands.
const CASES: u32 = 256;
const MAX_STEPS: usize = 60;

fn account() -> AccountId {
    AccountId::parse("account_id", "123456789012").expect("a valid account id")
}

/// Runs `test` on `cases` values of `strategy`, shrinking failures; nothing
/// is persisted (no regression files outside this module).
fn run_property<St: Strategy>(cases: u32, strategy: St, test: impl Fn(St::Value)) {
    let config = Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    };
    let mut runner = TestRunner::new(config);
    if let Err(failure) = runner.run(&strategy, |value| {
        test(value);
        Ok(())
    }) {
        panic!("{failure}");
    }
}

/// Asserts that the generated cases took every edge of a SPEC table.
fn assert_all_taken<E: Ord + Debug>(table: &[E], taken: &BTreeSet<E>, what: &str) {
    let missing: Vec<_> = table.iter().filter(|e| !taken.contains(e)).collect();
    assert!(missing.is_empty(), "{what} never exercised: {missing:?}");
}

/// What the reference oracle expects of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Success.
    Ok,
    /// `ConflictException` naming the server and its lifecycle state.
    Conflict,
    /// `ValidationException` naming this request field.
    Invalid(&'static str),
    /// `ReplicationJob.InvalidStatus`.
    JobStatus,
    /// `ReplicationJob.InvalidBusinessStatus`, allowing only this status.
    JobBusiness(BusinessStatus),
}

/// Checks `err` is what `expect` says, with a SPEC code and HTTP status.
fn check_error_code(err: &DomainError, expect: Expect) {
    assert!(
        SPEC_CODES.contains(&err.code()),
        "{} is not a SPEC error code",
        err.code()
    );
    let (code, http) = match expect {
        Expect::Ok => panic!("expected success, got {err:?}"),
        Expect::Conflict => ("ConflictException", 409),
        Expect::Invalid(field) => {
            if let DomainError::Validation(violations) = err {
                assert!(
                    violations.iter().any(|v| v.field == field),
                    "validation error should name field {field}: {err:?}"
                );
            }
            ("ValidationException", 400)
        }
        Expect::JobStatus => ("ReplicationJob.InvalidStatus", 400),
        Expect::JobBusiness(_) => ("ReplicationJob.InvalidBusinessStatus", 400),
    };
    assert_eq!(err.code(), code, "expected {expect:?}, got {err:?}");
    assert_eq!(err.http_status(), http, "{err:?}");
}

/// The field a `ValidationException` names first; any other error fails.
fn invalid_field(err: DomainError) -> String {
    match err {
        DomainError::Validation(violations) => violations[0].field.clone(),
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}

/// Milliseconds between two commands: same instant, a moment, or hours.
fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(0i64), 6 => 1..5_000i64, 2 => 1..3 * 3_600_000i64]
}

fn scale_factor() -> impl Strategy<Value = f64> {
    // Below 1 and NaN mean real time.
    select(vec![1.0, 60.0, 3_600.0, 36_000.0, 0.5, f64::NAN])
}
