//! Fixed values, each the decoding of a golden file. Never change one:
//! add a new value and file instead, so that old bytes stay checked.

use std::collections::BTreeMap;

use super::*;
use crate::domain::*;

const T0: i64 = 1_700_000_000_000;

fn at(offset_ms: i64) -> Timestamp {
    Timestamp(T0 + offset_ms)
}

/// A source server with every field and every option set.
pub(super) fn server_full() -> SourceServer {
    SourceServer {
        account_id: account(),
        id: server_id("s-0123456789abcdefG"),
        is_archived: true,
        tags: BTreeMap::from([
            ("env".to_owned(), "prod".to_owned()),
            ("owner".to_owned(), String::new()),
        ]),
        replication_type: ReplicationType::SnapshotShipping,
        launched_instance: Some(LaunchedInstance {
            ec2_instance_id: instance_id("i-0123456789abcdef0"),
            job_id: launch_job_id("mgnjob-0123456789ABCDEFg"),
            first_boot: FirstBoot::Succeeded,
        }),
        source_properties: SourceProperties {
            cpus: vec![Cpu {
                cores: 8,
                model_name: "Xeon".to_owned(),
            }],
            disks: vec![SourceDisk {
                device_name: "/dev/sda".to_owned(),
                bytes: 107_374_182_400,
            }],
            hostname: "db1".to_owned(),
            fqdn: "db1.example.com".to_owned(),
            vm_ware_uuid: "4203e1c5-0000-0000-0000-000000000001".to_owned(),
            aws_instance_id: "i-0aaaaaaaaaaaaaaaa".to_owned(),
            vm_path: "/dc/vm/db1".to_owned(),
            network_interfaces: vec![NetworkInterface {
                mac_address: "00:11:22:33:44:55".to_owned(),
                ips: vec!["10.0.0.5".to_owned(), "fe80::1".to_owned()],
                is_primary: true,
            }],
            os: "Ubuntu 22.04".to_owned(),
            ram_bytes: 34_359_738_368,
            recommended_instance_type: "m5.2xlarge".to_owned(),
            last_updated: Some(at(60_000)),
        },
        data_replication_info: DataReplicationInfo {
            state: DataReplicationState::Disconnected,
            lag: Some(Millis(0)),
            eta: Some(at(3_600_000)),
            last_snapshot: Some(at(120_000)),
            replicated_disks: vec![ReplicatedDisk {
                device_name: "/dev/sda".to_owned(),
                total_storage_bytes: 107_374_182_400,
                replicated_storage_bytes: 107_374_182_400,
                rescanned_storage_bytes: 1_024,
                backlogged_storage_bytes: 0,
            }],
            initiation: Some(DataReplicationInitiation {
                start: at(1_000),
                next_attempt: Some(at(2_000)),
                steps: vec![
                    (InitiationStepName::Wait, InitiationStepStatus::Succeeded),
                    (
                        InitiationStepName::StartDataTransfer,
                        InitiationStepStatus::Failed,
                    ),
                ],
            }),
            error: Some(DataReplicationError {
                error: "AGENT_NOT_SEEN".to_owned(),
                raw_error: String::new(),
            }),
        },
        life_cycle: LifeCycle {
            state: LifeCycleState::Cutover,
            added_to_service: Timestamp(T0),
            first_byte: Some(at(5_000)),
            elapsed_replication: Some(Millis(86_400_000)),
            last_seen_by_service: Some(at(7_000)),
            last_test: Some(LastAction {
                initiated: at(10_000),
                job_id: launch_job_id("mgnjob-TEST0123456789abc"),
                reverted: Some(at(11_000)),
                finalized: None,
            }),
            last_cutover: Some(LastAction {
                initiated: at(20_000),
                job_id: launch_job_id("mgnjob-CUTOVER0123456789"),
                reverted: None,
                finalized: Some(at(21_000)),
            }),
        },
        follow_up_tasks: vec![
            FollowUpTask {
                id: task_id("task-0123456789abcdefghij"),
                kind: FollowUpTaskKind::AgentUninstall,
                created: at(21_000),
                deadline: at(621_000),
                completed: Some(at(30_000)),
                attempts: 2,
                overdue: false,
                progress: 0.0,
            },
            FollowUpTask {
                id: task_id("task-abcdefghij0123456789"),
                kind: FollowUpTaskKind::ReplicationResourcesTeardown,
                created: at(21_000),
                deadline: at(5_421_000),
                completed: None,
                attempts: 0,
                overdue: true,
                progress: 0.0,
            },
        ],
    }
}

/// A source server as registration leaves it, with no facts or tags.
pub(super) fn server_registered() -> SourceServer {
    SourceServer {
        account_id: account(),
        id: server_id("s-registeredABCDEFG"),
        is_archived: false,
        tags: BTreeMap::new(),
        replication_type: ReplicationType::AgentBased,
        launched_instance: None,
        source_properties: SourceProperties::default(),
        data_replication_info: DataReplicationInfo {
            state: DataReplicationState::Stopped,
            lag: None,
            eta: None,
            last_snapshot: None,
            replicated_disks: Vec::new(),
            initiation: None,
            error: None,
        },
        life_cycle: LifeCycle {
            state: LifeCycleState::PendingInstallation,
            added_to_service: Timestamp(T0),
            first_byte: None,
            elapsed_replication: None,
            last_seen_by_service: None,
            last_test: None,
            last_cutover: None,
        },
        follow_up_tasks: Vec::new(),
    }
}

/// A job with every field set (and `Some("")`, `Some(0)` where they can be)
/// on `schedule`.
fn job_full(id: &str, schedule: JobSchedule) -> ReplicationJob {
    ReplicationJob {
        account_id: account(),
        id: job_id(id),
        source_id: server_id("s-0123456789abcdefG"),
        name: "nightly".to_owned(),
        description: "database tier".to_owned(),
        status: ReplicationJobStatus::Running,
        business_status: Some(BusinessStatus::Syncing),
        progress: 42.5,
        error_code: Some(String::new()),
        status_info: "copying".to_owned(),
        schedule,
        created: Timestamp(T0),
        started: Some(at(1_000)),
        ended: Some(Timestamp(0)),
        current_run: Some(CurrentRun {
            start: at(90_000),
            run_type: RunType::Schedule,
            purpose: RunPurpose::FinalSync,
        }),
        runs: vec![JobRun {
            start: at(1_000),
            end: at(80_000),
            image_id: "m-0123456789abcdef".to_owned(),
            run_type: RunType::Manual,
        }],
        image_ids: vec!["m-0123456789abcdef".to_owned(), String::new()],
        cycles: 1,
        next_run: Some(at(86_400_000)),
        cut_over: Some(CutOver {
            requested: at(85_000),
            sync_data: true,
        }),
    }
}

/// A run-once job with every field set.
pub(super) fn job_run_once_full() -> ReplicationJob {
    job_full("j-runonce0123456789abc", JobSchedule::RunOnce)
}

/// An incremental job with every field set.
pub(super) fn job_incremental_full() -> ReplicationJob {
    job_full(
        "j-incremental012345678",
        JobSchedule::Incremental {
            frequency_hours: 12,
            max_images: 5,
        },
    )
}

/// A job as creation leaves it, with nothing optional set.
pub(super) fn job_minimal() -> ReplicationJob {
    ReplicationJob {
        account_id: account(),
        id: job_id("j-minimal0123456789012"),
        source_id: server_id("s-registeredABCDEFG"),
        name: String::new(),
        description: String::new(),
        status: ReplicationJobStatus::Ready,
        business_status: None,
        progress: 0.0,
        error_code: None,
        status_info: String::new(),
        schedule: JobSchedule::RunOnce,
        created: Timestamp(T0),
        started: None,
        ended: None,
        current_run: None,
        runs: Vec::new(),
        image_ids: Vec::new(),
        cycles: 0,
        next_run: None,
        cut_over: None,
    }
}

/// The registration of [`server_registered`] (no previous state).
pub(super) fn event_server_registered() -> LifecycleEvent {
    let server = server_registered();
    LifecycleEvent {
        revision: 1,
        event: PendingEvent {
            time: Timestamp(T0),
            event_type: EventType::SourceServerRegistered,
            previous: None,
            new: StateSummary::of_server(&server),
            // Recorded before events listed their aspects.
            changes: Vec::new(),
            task: None,
            source_state: None,
        },
        resource: Resource::SourceServer(server),
    }
}

/// A change of [`server_full`] (with previous state).
pub(super) fn event_server_archived() -> LifecycleEvent {
    let server = server_full();
    LifecycleEvent {
        revision: 1_000_000,
        event: PendingEvent {
            time: at(40_000),
            event_type: EventType::SourceServerArchived,
            previous: Some(StateSummary::SourceServer {
                life_cycle_state: LifeCycleState::Cutover,
                data_replication_state: DataReplicationState::Disconnected,
                is_archived: false,
                pending_follow_up_tasks: 1,
            }),
            new: StateSummary::of_server(&server),
            // Recorded before events listed their aspects.
            changes: Vec::new(),
            task: None,
            source_state: None,
        },
        resource: Resource::SourceServer(server),
    }
}

/// The creation of [`job_minimal`] (no previous state).
pub(super) fn event_job_created() -> LifecycleEvent {
    let job = job_minimal();
    LifecycleEvent {
        revision: 2,
        event: PendingEvent {
            time: Timestamp(T0),
            event_type: EventType::ReplicationJobCreated,
            previous: None,
            new: StateSummary::of_job(&job),
            // Recorded before events listed their aspects.
            changes: Vec::new(),
            task: None,
            source_state: None,
        },
        resource: Resource::ReplicationJob(job),
    }
}

/// A status change of [`job_incremental_full`] (with previous state).
pub(super) fn event_job_status_changed() -> LifecycleEvent {
    let job = job_incremental_full();
    LifecycleEvent {
        revision: 1_000_001,
        event: PendingEvent {
            time: at(90_000),
            event_type: EventType::ReplicationJobStatusChanged,
            previous: Some(StateSummary::ReplicationJob {
                status: ReplicationJobStatus::Waiting,
                business_status: None,
                progress: 100.0,
            }),
            new: StateSummary::of_job(&job),
            // Recorded before events listed their aspects.
            changes: Vec::new(),
            task: None,
            source_state: None,
        },
        resource: Resource::ReplicationJob(job),
    }
}

/// The overdue mark of a task of [`server_full`], listing its aspects, the
/// task and the server's source state (fields added in format 1).
pub(super) fn event_server_task_overdue() -> LifecycleEvent {
    let server = server_full();
    let task = server.follow_up_tasks[0].id.clone();
    LifecycleEvent {
        revision: 1_000_002,
        event: PendingEvent {
            time: at(95_000),
            event_type: EventType::FollowUpTaskOverdue,
            previous: Some(StateSummary::of_server(&server)),
            new: StateSummary::of_server(&server),
            changes: vec![
                EventType::FollowUpTaskOverdue,
                EventType::FollowUpTaskDelivered,
            ],
            task: Some(task),
            source_state: Some(SourceState::Unavailable),
        },
        resource: Resource::SourceServer(server),
    }
}

/// The record of an acknowledgement: success and nothing more.
pub(super) fn outcome_done() -> Outcome {
    Outcome::Done
}

/// The record of a call answered with [`server_full`].
pub(super) fn outcome_server() -> Outcome {
    Outcome::SourceServer(Box::new(server_full()))
}

/// The record of a launch of two servers, in launch order.
pub(super) fn outcome_servers() -> Outcome {
    Outcome::SourceServers(vec![server_registered(), server_full()])
}

/// The record of a call answered with [`job_incremental_full`].
pub(super) fn outcome_job() -> Outcome {
    Outcome::ReplicationJob(Box::new(job_incremental_full()))
}
