//! Tests of the two state machines against the contract (docs/contract.md) §2 (source servers,
//! MGN) and 3 (replication jobs, SMC).
//!
//! Property tests drive random command sequences (right and wrong states,
//! good and bad arguments) through the pure domain with a monotonically
//! increasing `now`. After every step they check:
//! - an error against a reference oracle (which code, which field, which
//!   state it names), and that its code is one of contract §6's;
//! - a success against the same oracle, its one event (time, previous and
//!   new summaries, event type) and the exact resource a reference model of
//!   the command expects;
//! - the invariants the contract allows (`assert_server_invariants`,
//!   `assert_job_invariants`) and the step-to-step ones (completed tasks
//!   stay completed, runs only grow, progress never decreases in a run);
//! - the edge taken against the contract's transition tables; at the end, every
//!   edge of the tables must have been taken by some case.
//!
//! Example tests walk each row of the tables by hand.
//!
//! `transitions` holds the contract's tables. `server` and `job` are laid out alike:
//! `model` (the commands, the oracle, the reference model and the checks of
//! a command's result), `invariants`, `properties` (generated sequences)
//! and the examples; their `mod.rs` holds the fixtures.

mod job;
mod server;
mod transitions;

// Every module below imports its parent's names (`use super::*`, as test
// modules do): the domain, the fixtures and helpers, and these aliases.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::SeedableRng;

use self::transitions::*;
use super::replication_job::{create as create_job, JobSpec, RunStep};
use super::source_server::{register, Launch, Registration, ReplicationReport};
use super::*;

use BusinessStatus as B;
use DataReplicationState as R;
use LifeCycleState as L;
use ReplicationJobStatus as S;

/// The cloud error codes of contract §6: no other code may ever appear.
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

/// Asserts that the generated cases took every edge of a table of the contract (docs/contract.md).
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

/// A command of one of the two state machines, with what the tests know of
/// it: the contract's oracle, the reference model and the checks of its results.
trait Command: Debug {
    type Resource: Debug + PartialEq;

    fn apply(
        &self,
        before: &Self::Resource,
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Transition<Self::Resource>, DomainError>;
    /// The oracle's verdict.
    fn predict(&self, before: &Self::Resource, now: Timestamp) -> Expect;
    /// What an error names besides its code (checked by `check_error_code`).
    fn check_error(&self, before: &Self::Resource, err: &DomainError, expect: Expect);
    /// The one event of a success.
    fn check_event(&self, before: &Self::Resource, t: &Transition<Self::Resource>, now: Timestamp);
    /// The reference model: the resource the command must produce. What
    /// The contract leaves open is taken from `actual` and checked loosely.
    fn expected(
        &self,
        before: &Self::Resource,
        scale: TimeScale,
        now: Timestamp,
        actual: &Self::Resource,
    ) -> Self::Resource;
    /// The step-to-step invariants and those of the resource after.
    fn check_after(before: &Self::Resource, after: &Self::Resource, scale: TimeScale);
}

/// Applies `op` with every check; the result is returned for the caller.
fn step<C: Command>(
    before: &C::Resource,
    op: &C,
    scale: TimeScale,
    now: Timestamp,
) -> Result<Transition<C::Resource>, DomainError> {
    let expect = op.predict(before, now);
    let result = op.apply(before, scale, now);
    match &result {
        Err(err) => {
            assert_ne!(
                expect,
                Expect::Ok,
                "{op:?} failed with {err:?} on {before:#?}"
            );
            check_error_code(err, expect);
            op.check_error(before, err, expect);
        }
        Ok(t) => {
            assert_eq!(expect, Expect::Ok, "{op:?} succeeded on {before:#?}");
            op.check_event(before, t, now);
            let expected = op.expected(before, scale, now, &t.resource);
            assert_eq!(t.resource, expected, "{op:?} on {before:#?}");
            C::check_after(before, &t.resource, scale);
        }
    }
    result
}

/// `op`, which must succeed, with every check.
fn step_ok<C: Command>(
    before: &C::Resource,
    op: &C,
    scale: TimeScale,
    now: Timestamp,
) -> Transition<C::Resource> {
    step(before, op, scale, now).unwrap_or_else(|err| panic!("{op:?} should succeed, got {err}"))
}

/// The error of `op`, which must fail, with every check.
fn step_err<C: Command>(
    before: &C::Resource,
    op: &C,
    scale: TimeScale,
    now: Timestamp,
) -> DomainError {
    match step(before, op, scale, now) {
        Ok(t) => panic!("{op:?} should fail, got {:#?}", t.resource),
        Err(err) => err,
    }
}

/// Checks `err` is what `expect` says, with a contract error code. (The
/// HTTP status of each code is the faces' to answer: `api::grpc::status`
/// checks its table against the contract.)
fn check_error_code(err: &DomainError, expect: Expect) {
    assert!(
        SPEC_CODES.contains(&err.code()),
        "{} is not an error code of the contract",
        err.code()
    );
    let code = match expect {
        Expect::Ok => panic!("expected success, got {err:?}"),
        Expect::Conflict => "ConflictException",
        Expect::Invalid(field) => {
            if let DomainError::Validation(violations) = err {
                assert!(
                    violations.iter().any(|v| v.field == field),
                    "validation error should name field {field}: {err:?}"
                );
            }
            "ValidationException"
        }
        Expect::JobStatus => "ReplicationJob.InvalidStatus",
        Expect::JobBusiness(_) => "ReplicationJob.InvalidBusinessStatus",
    };
    assert_eq!(err.code(), code, "expected {expect:?}, got {err:?}");
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
