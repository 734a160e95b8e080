//! Arbitrary domain values that reach every field: `None` and `Some` of
//! zero or empty, every enum value, empty and non-empty maps and vectors.

mod job;
mod server;

use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::domain::*;

pub(super) use job::replication_job;
pub(super) use server::source_server;

/// Any text, often empty, sometimes not ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9.-]{1,12}", "\\PC{1,6}"]
}

/// Milliseconds: zero, plausible instants, and the extremes.
fn ms() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        1_600_000_000_000i64..1_900_000_000_000,
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    ms().prop_map(Timestamp)
}

fn millis() -> impl Strategy<Value = Millis> {
    ms().prop_map(Millis)
}

fn count() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0), any::<i64>()]
}

fn small() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), 1u32..200, any::<u32>()]
}

/// Progress: any number but NaN, which is never equal to itself.
fn progress() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        0.0..=100.0,
        any::<f64>().prop_filter("not NaN", |p| !p.is_nan())
    ]
}

fn account() -> impl Strategy<Value = AccountId> {
    "[0-9]{12}".prop_map(|s| AccountId::parse("account_id", &s).unwrap())
}

fn server_id() -> impl Strategy<Value = SourceServerId> {
    "s-[0-9a-zA-Z]{17}".prop_map(|s| SourceServerId::parse("id", &s).unwrap())
}

fn job_id() -> impl Strategy<Value = ReplicationJobId> {
    "j-[0-9a-z]{20}".prop_map(|s| ReplicationJobId::parse("id", &s).unwrap())
}

fn launch_job_id() -> impl Strategy<Value = LaunchJobId> {
    "mgnjob-[0-9a-zA-Z]{17}".prop_map(|s| LaunchJobId::parse("job_id", &s).unwrap())
}

fn instance_id() -> impl Strategy<Value = Ec2InstanceId> {
    "i-[0-9a-f]{17}".prop_map(|s| Ec2InstanceId::parse("ec2_instance_id", &s).unwrap())
}

fn task_id() -> impl Strategy<Value = FollowUpTaskId> {
    "task-[0-9a-z]{20}".prop_map(|s| FollowUpTaskId::parse("id", &s).unwrap())
}

fn summary() -> BoxedStrategy<StateSummary> {
    prop_oneof![
        (
            select(LifeCycleState::ALL),
            select(DataReplicationState::ALL),
            any::<bool>(),
            small(),
        )
            .prop_map(
                |(life_cycle_state, data_replication_state, is_archived, pending)| {
                    StateSummary::SourceServer {
                        life_cycle_state,
                        data_replication_state,
                        is_archived,
                        pending_follow_up_tasks: pending,
                    }
                }
            ),
        (
            select(ReplicationJobStatus::ALL),
            option::of(select(BusinessStatus::ALL)),
            progress(),
        )
            .prop_map(|(status, business_status, progress)| {
                StateSummary::ReplicationJob {
                    status,
                    business_status,
                    progress,
                }
            }),
    ]
    .boxed()
}

/// Any lifecycle event, of either resource kind.
pub(super) fn lifecycle_event() -> BoxedStrategy<LifecycleEvent> {
    let resource = prop_oneof![
        source_server().prop_map(Resource::SourceServer),
        replication_job().prop_map(Resource::ReplicationJob),
    ];
    let aspects = (
        proptest::collection::vec(select(EventType::ALL), 0..4),
        option::of(task_id()),
        option::of(select(SourceState::ALL)),
    );
    (
        prop_oneof![Just(0u64), any::<u64>()],
        timestamp(),
        select(EventType::ALL),
        option::of(summary()),
        summary(),
        resource,
        aspects,
    )
        .prop_map(
            |(
                revision,
                time,
                event_type,
                previous,
                new,
                resource,
                (changes, task, source_state),
            )| {
                LifecycleEvent {
                    revision,
                    event: PendingEvent {
                        time,
                        event_type,
                        previous,
                        new,
                        changes,
                        task,
                        source_state,
                    },
                    resource,
                }
            },
        )
        .boxed()
}
