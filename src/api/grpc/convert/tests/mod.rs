//! Shared test helpers and fixtures, and the tests of whole resources and
//! requests.

use std::{collections::BTreeMap, fmt::Debug};

use crate::domain::{
    AccountId, BusinessStatus, Cpu, CutOver, DataReplicationError, DataReplicationInfo,
    DataReplicationInitiation, DataReplicationState, DomainError, Ec2InstanceId, FirstBoot,
    FollowUpTask, FollowUpTaskId, FollowUpTaskKind, InitiationStepName, InitiationStepStatus,
    JobRun, JobSchedule, LastAction, LaunchJobId, LaunchedInstance, LifeCycle, LifeCycleState,
    Millis, NetworkInterface, ReplicatedDisk, ReplicationJob, ReplicationJobId,
    ReplicationJobStatus, ReplicationType, RunType, SourceDisk, SourceProperties, SourceServer,
    SourceServerId, Timestamp,
};

mod events;
mod inbound;
mod job_requests;
mod outbound;

/// An instant as the proto messages show it.
pub(super) fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(crate::api::grpc::convert::timestamp(Timestamp(ms)))
}

/// The ARN of the fixture server.
pub(super) fn arn() -> String {
    format!("arn:aws:mgn:us-east-1:{ACCOUNT}:source-server/{SERVER}")
}

/// The field of the one violation of a validation error; panics on
/// anything else (tests only).
pub(super) fn violated_field<T: Debug>(result: Result<T, DomainError>) -> String {
    match result {
        Err(DomainError::Validation(violations)) if violations.len() == 1 => {
            violations[0].field.clone()
        }
        other => panic!("expected one field violation, got {other:?}"),
    }
}

pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const SERVER: &str = "s-0123456789abcdefG";
pub(super) const JOB: &str = "j-0123456789abcdefghij";

fn account() -> AccountId {
    AccountId::parse("account_id", ACCOUNT).unwrap()
}

/// A source server with every optional field set and every list non-empty.
pub(super) fn full_server() -> SourceServer {
    SourceServer {
        account_id: account(),
        id: SourceServerId::parse("id", SERVER).unwrap(),
        is_archived: true,
        tags: BTreeMap::from([("env".into(), "prod".into()), ("team".into(), "db".into())]),
        replication_type: ReplicationType::SnapshotShipping,
        launched_instance: Some(LaunchedInstance {
            ec2_instance_id: Ec2InstanceId::parse("i", "i-0123456789abcdef0").unwrap(),
            job_id: LaunchJobId::parse("j", "mgnjob-0123456789abcdefX").unwrap(),
            first_boot: FirstBoot::Succeeded,
        }),
        source_properties: SourceProperties {
            cpus: vec![Cpu {
                cores: 8,
                model_name: "Xeon".into(),
            }],
            disks: vec![SourceDisk {
                device_name: "/dev/sda".into(),
                bytes: 1 << 40,
            }],
            hostname: "db1".into(),
            fqdn: "db1.example.com".into(),
            vm_ware_uuid: "4203-aa".into(),
            aws_instance_id: "i-0aaaaaaaaaaaaaaaa".into(),
            vm_path: "/dc/vm/db1".into(),
            network_interfaces: vec![NetworkInterface {
                mac_address: "00:11:22:33:44:55".into(),
                ips: vec!["10.0.0.5".into(), "fe80::1".into()],
                is_primary: true,
            }],
            os: "Ubuntu 22.04".into(),
            ram_bytes: 64 << 30,
            recommended_instance_type: "m5.2xlarge".into(),
            last_updated: Some(Timestamp(1_700_000_000_001)),
        },
        data_replication_info: DataReplicationInfo {
            state: DataReplicationState::Continuous,
            lag: Some(Millis(1_500)),
            eta: Some(Timestamp(1_700_000_100_000)),
            last_snapshot: Some(Timestamp(1_700_000_050_000)),
            replicated_disks: vec![ReplicatedDisk {
                device_name: "/dev/sda".into(),
                total_storage_bytes: 100,
                replicated_storage_bytes: 90,
                rescanned_storage_bytes: 5,
                backlogged_storage_bytes: 10,
            }],
            initiation: Some(DataReplicationInitiation {
                start: Timestamp(1_699_999_000_000),
                next_attempt: Some(Timestamp(1_699_999_500_000)),
                steps: vec![
                    (InitiationStepName::Wait, InitiationStepStatus::Succeeded),
                    (
                        InitiationStepName::StartDataTransfer,
                        InitiationStepStatus::InProgress,
                    ),
                ],
            }),
            error: Some(DataReplicationError {
                error: "AGENT_NOT_SEEN".into(),
                raw_error: "raw".into(),
            }),
        },
        life_cycle: LifeCycle {
            state: LifeCycleState::Cutover,
            added_to_service: Timestamp(1_699_000_000_000),
            first_byte: Some(Timestamp(1_699_000_100_000)),
            elapsed_replication: Some(Millis(3_600_000)),
            last_seen_by_service: Some(Timestamp(1_700_000_060_000)),
            last_test: Some(LastAction {
                initiated: Timestamp(1_700_000_001_000),
                job_id: LaunchJobId::parse("j", "mgnjob-AAAAAAAAAAAAAAAAA").unwrap(),
                reverted: Some(Timestamp(1_700_000_002_000)),
                finalized: None,
            }),
            last_cutover: Some(LastAction {
                initiated: Timestamp(1_700_000_003_000),
                job_id: LaunchJobId::parse("j", "mgnjob-0123456789abcdefX").unwrap(),
                reverted: None,
                finalized: Some(Timestamp(1_700_000_004_000)),
            }),
        },
        follow_up_tasks: vec![
            FollowUpTask {
                id: FollowUpTaskId::parse("t", "task-aaaaaaaaaaaaaaaaaaaa").unwrap(),
                kind: FollowUpTaskKind::AgentUninstall,
                created: Timestamp(1_700_000_004_000),
                deadline: Timestamp(1_700_000_604_000),
                completed: Some(Timestamp(1_700_000_700_000)),
                attempts: 3,
                overdue: true,
                progress: 100.0,
            },
            FollowUpTask {
                id: FollowUpTaskId::parse("t", "task-bbbbbbbbbbbbbbbbbbbb").unwrap(),
                kind: FollowUpTaskKind::ReplicationResourcesTeardown,
                created: Timestamp(1_700_000_004_000),
                deadline: Timestamp(1_700_005_404_000),
                completed: None,
                attempts: u32::MAX,
                overdue: false,
                progress: 50.0,
            },
        ],
    }
}

/// An incremental job with runs, images, a schedule and a cutover.
pub(super) fn job_with_runs() -> ReplicationJob {
    ReplicationJob {
        account_id: account(),
        id: ReplicationJobId::parse("id", JOB).unwrap(),
        source_id: SourceServerId::parse("id", SERVER).unwrap(),
        name: "nightly".into(),
        description: "db migration".into(),
        status: ReplicationJobStatus::Running,
        business_status: Some(BusinessStatus::Cleaning),
        progress: 42.5,
        error_code: Some("DiskFull".into()),
        status_info: "releasing".into(),
        schedule: JobSchedule::Incremental {
            frequency_hours: 12,
            max_images: 3,
        },
        created: Timestamp(1_700_000_000_000),
        started: Some(Timestamp(1_700_000_001_000)),
        ended: Some(Timestamp(1_700_000_009_000)),
        current_run: None,
        runs: vec![
            JobRun {
                start: Timestamp(1_700_000_001_000),
                end: Timestamp(1_700_000_002_000),
                image_id: "CYCLE_1".into(),
                run_type: RunType::Manual,
            },
            JobRun {
                start: Timestamp(1_700_000_003_000),
                end: Timestamp(1_700_000_004_000),
                image_id: "CYCLE_2".into(),
                run_type: RunType::Schedule,
            },
        ],
        image_ids: vec!["CYCLE_1".into(), "CYCLE_2".into()],
        cycles: 2,
        next_run: Some(Timestamp(1_700_043_200_000)),
        cut_over: Some(CutOver {
            requested: Timestamp(1_700_000_005_000),
            sync_data: true,
        }),
    }
}
