//! Decoding gives back what was encoded, for any value.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;
use crate::domain::replication_job::{create, JobSpec};
use crate::domain::source_server::{register, Registration};
use crate::domain::{
    BusinessStatus, DataReplicationState, EventType, FirstBoot, FollowUpTaskKind,
    InitiationStepName, InitiationStepStatus, JobSchedule, LifeCycleState, ReplicationJobStatus,
    ReplicationType, Resource, RunPurpose, RunType, Timestamp,
};
use crate::store::codec::enums::StoredEnum;

/// Runs `test` on 256 values of `strategy`; failures shrink but are not
/// persisted (no regression files in the source tree).
fn check<St: Strategy>(strategy: St, test: impl Fn(St::Value) -> Result<(), TestCaseError>) {
    let config = Config {
        failure_persistence: None,
        ..Config::with_cases(256)
    };
    if let Err(failure) = TestRunner::new(config).run(&strategy, test) {
        panic!("{failure}");
    }
}

#[test]
fn source_servers_round_trip() {
    check(strategies::source_server(), |server| {
        prop_assert_eq!(decode_source_server(&encoded_server(&server)), Ok(server));
        Ok(())
    });
}

#[test]
fn replication_jobs_round_trip() {
    check(strategies::replication_job(), |job| {
        prop_assert_eq!(decode_replication_job(&encoded_job(&job)), Ok(job));
        Ok(())
    });
}

#[test]
fn events_round_trip() {
    check(strategies::lifecycle_event(), |event| {
        prop_assert_eq!(decode_event(&encoded_event(&event)), Ok(event));
        Ok(())
    });
}

#[test]
fn client_token_outcomes_round_trip() {
    let outcome = prop_oneof![
        Just(Outcome::Done),
        strategies::source_server().prop_map(|s| Outcome::SourceServer(Box::new(s))),
        proptest::collection::vec(strategies::source_server(), 0..4)
            .prop_map(Outcome::SourceServers),
        strategies::replication_job().prop_map(|j| Outcome::ReplicationJob(Box::new(j))),
    ];
    check(outcome, |outcome| {
        prop_assert_eq!(decode_outcome(&encoded_outcome(&outcome)), Ok(outcome));
        Ok(())
    });
}

#[test]
fn encoding_appends_to_the_buffer() {
    let server = fixtures::server_full();
    let alone = encoded_server(&server);
    let mut out = b"kept".to_vec();
    encode_source_server(&server, &mut out);
    assert_eq!(&out[..4], b"kept");
    assert_eq!(&out[4..], &alone[..]);
}

fn assert_every_value_round_trips<E: StoredEnum + PartialEq + std::fmt::Debug>(all: &[E]) {
    let mut numbers: Vec<i32> = all.iter().map(|value| value.to_stored()).collect();
    for &value in all {
        assert_eq!(E::from_stored(value.to_stored()), Some(value));
    }
    // Numbers are the proto's, from 1 in declaration order, none shared.
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=all.len() as i32).collect::<Vec<_>>(),
        "{}",
        E::NAME
    );
    assert_eq!(E::from_stored(0), None);
    assert_eq!(E::from_stored(all.len() as i32 + 1), None);
}

#[test]
fn every_enum_value_has_its_own_number() {
    assert_every_value_round_trips(LifeCycleState::ALL);
    assert_every_value_round_trips(DataReplicationState::ALL);
    assert_every_value_round_trips(ReplicationType::ALL);
    assert_every_value_round_trips(InitiationStepName::ALL);
    assert_every_value_round_trips(InitiationStepStatus::ALL);
    assert_every_value_round_trips(FirstBoot::ALL);
    assert_every_value_round_trips(FollowUpTaskKind::ALL);
    assert_every_value_round_trips(ReplicationJobStatus::ALL);
    assert_every_value_round_trips(BusinessStatus::ALL);
    assert_every_value_round_trips(RunType::ALL);
    assert_every_value_round_trips(&[
        RunPurpose::Replication,
        RunPurpose::FinalSync,
        RunPurpose::Release,
    ]);
    assert_every_value_round_trips(EventType::ALL);
}

/// The storage sizes of what the service writes most, against the JSON the
/// SQLite store writes today. Run with `--nocapture` to see them.
#[test]
fn registration_is_several_times_smaller_than_json() {
    let now = Timestamp(1_700_000_000_000);
    let registered = register(
        account(),
        server_id("s-0123456789abcdefG"),
        Registration::default(),
        now,
    )
    .unwrap();
    let event = LifecycleEvent {
        revision: 1_000_000,
        event: registered.event,
        resource: Resource::SourceServer(registered.resource.clone()),
    };
    let created = create(
        account(),
        job_id("j-0123456789abcdefghij"),
        server_id("s-0123456789abcdefG"),
        JobSpec {
            name: "nightly".to_owned(),
            description: String::new(),
            schedule: JobSchedule::Incremental {
                frequency_hours: 24,
                max_images: 3,
            },
        },
        now,
    )
    .unwrap();
    let rows = [
        (
            "registered server",
            encoded_server(&registered.resource).len(),
            serde_json::to_string(&registered.resource).unwrap().len(),
        ),
        (
            "its registration event",
            encoded_event(&event).len(),
            serde_json::to_string(&event).unwrap().len(),
        ),
        (
            "created job",
            encoded_job(&created.resource).len(),
            serde_json::to_string(&created.resource).unwrap().len(),
        ),
    ];
    for (what, binary, json) in rows {
        println!("{what}: {binary} bytes (JSON {json} bytes)");
        assert!(binary * 4 <= json, "{what}: {binary} bytes vs JSON {json}");
    }
}
