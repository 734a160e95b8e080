//! Domain → proto: every field of whole resources.

use prost_types::{Duration, Timestamp as ProtoTimestamp};

use super::{arn, full_server, job_with_runs, ts, ACCOUNT, JOB, SERVER};
use crate::{
    api::grpc::convert::{replication_job, source_server},
    domain::JobSchedule,
    pb::v1 as pb,
};

#[test]
fn a_fully_populated_source_server_maps_every_field() {
    let m = source_server(
        &full_server(),
        arn(),
        Some(crate::domain::SourceState::InUse),
    );
    assert_eq!(m.source_server_id, SERVER);
    assert_eq!(m.arn, arn());
    assert!(m.is_archived);
    assert_eq!(m.tags.len(), 2);
    assert_eq!(m.tags["env"], "prod");
    assert_eq!(m.tags["team"], "db");
    assert_eq!(
        m.replication_type,
        pb::ReplicationType::SnapshotShipping as i32
    );
    assert_eq!(
        m.launched_instance,
        Some(pb::LaunchedInstance {
            ec2_instance_id: "i-0123456789abcdef0".into(),
            job_id: "mgnjob-0123456789abcdefX".into(),
            first_boot: pb::FirstBoot::Succeeded as i32,
        })
    );

    let p = m.source_properties.expect("source properties");
    assert_eq!(
        p.cpus,
        vec![pb::Cpu {
            cores: 8,
            model_name: "Xeon".into()
        }]
    );
    assert_eq!(
        p.disks,
        vec![pb::SourceDisk {
            device_name: "/dev/sda".into(),
            bytes: 1 << 40
        }]
    );
    assert_eq!(
        p.identification_hints,
        Some(pb::IdentificationHints {
            fqdn: "db1.example.com".into(),
            hostname: "db1".into(),
            vm_ware_uuid: "4203-aa".into(),
            aws_instance_id: "i-0aaaaaaaaaaaaaaaa".into(),
            vm_path: "/dc/vm/db1".into(),
        })
    );
    assert_eq!(
        p.network_interfaces,
        vec![pb::NetworkInterface {
            mac_address: "00:11:22:33:44:55".into(),
            ips: vec!["10.0.0.5".into(), "fe80::1".into()],
            is_primary: true,
        }]
    );
    assert_eq!(
        p.os,
        Some(pb::OperatingSystem {
            full_string: "Ubuntu 22.04".into()
        })
    );
    assert_eq!(p.ram_bytes, 64 << 30);
    assert_eq!(p.recommended_instance_type, "m5.2xlarge");
    assert_eq!(
        p.last_updated_date_time,
        Some(ProtoTimestamp {
            seconds: 1_700_000_000,
            nanos: 1_000_000
        })
    );

    let d = m.data_replication_info.expect("data replication info");
    assert_eq!(
        d.data_replication_state,
        pb::DataReplicationState::Continuous as i32
    );
    assert_eq!(
        d.lag_duration,
        Some(Duration {
            seconds: 1,
            nanos: 500_000_000
        })
    );
    assert_eq!(d.eta_date_time, ts(1_700_000_100_000));
    assert_eq!(d.last_snapshot_date_time, ts(1_700_000_050_000));
    assert_eq!(
        d.replicated_disks,
        vec![pb::ReplicatedDisk {
            device_name: "/dev/sda".into(),
            total_storage_bytes: Some(100),
            replicated_storage_bytes: 90,
            rescanned_storage_bytes: 5,
            backlogged_storage_bytes: 10,
        }]
    );
    let init = d.data_replication_initiation.expect("initiation");
    assert_eq!(init.start_date_time, ts(1_699_999_000_000));
    assert_eq!(init.next_attempt_date_time, ts(1_699_999_500_000));
    assert_eq!(
        init.steps,
        vec![
            pb::DataReplicationInitiationStep {
                name: pb::InitiationStepName::Wait as i32,
                status: pb::InitiationStepStatus::Succeeded as i32,
            },
            pb::DataReplicationInitiationStep {
                name: pb::InitiationStepName::StartDataTransfer as i32,
                status: pb::InitiationStepStatus::InProgress as i32,
            },
        ]
    );
    assert_eq!(
        d.data_replication_error,
        Some(pb::DataReplicationError {
            error: "AGENT_NOT_SEEN".into(),
            raw_error: "raw".into()
        })
    );

    let l = m.life_cycle.expect("life cycle");
    assert_eq!(l.state, pb::LifeCycleState::Cutover as i32);
    assert_eq!(l.added_to_service_date_time, ts(1_699_000_000_000));
    assert_eq!(l.first_byte_date_time, ts(1_699_000_100_000));
    assert_eq!(
        l.elapsed_replication_duration,
        Some(Duration {
            seconds: 3_600,
            nanos: 0
        })
    );
    assert_eq!(l.last_seen_by_service_date_time, ts(1_700_000_060_000));
    assert_eq!(
        l.last_test,
        Some(pb::LifeCycleLastAction {
            initiated: Some(pb::LifeCycleInitiated {
                api_call_date_time: ts(1_700_000_001_000),
                job_id: "mgnjob-AAAAAAAAAAAAAAAAA".into(),
            }),
            reverted: Some(pb::LifeCycleApiCall {
                api_call_date_time: ts(1_700_000_002_000)
            }),
            finalized: None,
        })
    );
    assert_eq!(
        l.last_cutover,
        Some(pb::LifeCycleLastAction {
            initiated: Some(pb::LifeCycleInitiated {
                api_call_date_time: ts(1_700_000_003_000),
                job_id: "mgnjob-0123456789abcdefX".into(),
            }),
            reverted: None,
            finalized: Some(pb::LifeCycleApiCall {
                api_call_date_time: ts(1_700_000_004_000)
            }),
        })
    );

    assert_eq!(m.source_state, pb::SourceState::InUse as i32);
    assert_eq!(
        m.follow_up_tasks,
        vec![
            pb::FollowUpTask {
                task_id: "task-aaaaaaaaaaaaaaaaaaaa".into(),
                kind: pb::FollowUpTaskKind::AgentUninstall as i32,
                state: pb::FollowUpTaskState::Completed as i32,
                created_date_time: ts(1_700_000_004_000),
                deadline_date_time: ts(1_700_000_604_000),
                completed_date_time: ts(1_700_000_700_000),
                attempts: 3,
                overdue: true,
                progress: 100.0,
            },
            pb::FollowUpTask {
                task_id: "task-bbbbbbbbbbbbbbbbbbbb".into(),
                kind: pb::FollowUpTaskKind::ReplicationResourcesTeardown as i32,
                state: pb::FollowUpTaskState::Pending as i32,
                created_date_time: ts(1_700_000_004_000),
                deadline_date_time: ts(1_700_005_404_000),
                completed_date_time: None,
                attempts: i32::MAX,
                overdue: false,
                progress: 50.0,
            },
        ]
    );
    assert_eq!(m.account_id, ACCOUNT);
    assert_eq!(m.request_id, "");
}

#[test]
fn absent_values_stay_absent() {
    let mut server = full_server();
    server.launched_instance = None;
    server.source_properties.last_updated = None;
    let info = &mut server.data_replication_info;
    info.lag = None;
    info.eta = None;
    info.last_snapshot = None;
    info.initiation = None;
    info.error = None;
    let life = &mut server.life_cycle;
    life.first_byte = None;
    life.elapsed_replication = None;
    life.last_seen_by_service = None;
    life.last_test = None;
    life.last_cutover = None;
    let m = source_server(&server, arn(), Some(crate::domain::SourceState::InUse));
    assert_eq!(m.launched_instance, None);
    assert_eq!(m.source_properties.unwrap().last_updated_date_time, None);
    let d = m.data_replication_info.unwrap();
    assert_eq!(d.lag_duration, None);
    assert_eq!(d.eta_date_time, None);
    assert_eq!(d.last_snapshot_date_time, None);
    assert_eq!(d.data_replication_initiation, None);
    assert_eq!(d.data_replication_error, None);
    let l = m.life_cycle.unwrap();
    assert_eq!(l.added_to_service_date_time, ts(1_699_000_000_000));
    assert_eq!(l.first_byte_date_time, None);
    assert_eq!(l.elapsed_replication_duration, None);
    assert_eq!(l.last_seen_by_service_date_time, None);
    assert_eq!((l.last_test, l.last_cutover), (None, None));
}

#[test]
fn a_job_with_runs_and_cut_over_maps_every_field() {
    let m = replication_job(&job_with_runs());
    let expected = pb::ReplicationJob {
        job_id: JOB.into(),
        source_id: SERVER.into(),
        name: "nightly".into(),
        description: "db migration".into(),
        status: pb::ReplicationJobStatus::Running as i32,
        business_status: pb::ReplicationJobBusinessStatus::Cleaning as i32,
        progress: 42.5,
        error_code: "DiskFull".into(),
        status_info: "releasing".into(),
        run_once: false,
        frequency: 12,
        max_number_of_image_to_keep: 3,
        creation_time: ts(1_700_000_000_000),
        start_time: ts(1_700_000_001_000),
        end_time: ts(1_700_000_009_000),
        replication_job_runs: vec![
            pb::ReplicationJobRun {
                start_time: ts(1_700_000_001_000),
                end_time: ts(1_700_000_002_000),
                image_id: "CYCLE_1".into(),
                r#type: pb::ReplicationJobRunType::Manual as i32,
            },
            pb::ReplicationJobRun {
                start_time: ts(1_700_000_003_000),
                end_time: ts(1_700_000_004_000),
                image_id: "CYCLE_2".into(),
                r#type: pb::ReplicationJobRunType::Schedule as i32,
            },
        ],
        image_ids: vec!["CYCLE_1".into(), "CYCLE_2".into()],
        next_run_time: ts(1_700_043_200_000),
        cut_over: Some(pb::ReplicationJobCutOver {
            requested_time: ts(1_700_000_005_000),
            sync_data: true,
        }),
        account_id: ACCOUNT.into(),
        request_id: String::new(),
    };
    assert_eq!(m, expected);
}

#[test]
fn a_one_off_job_shows_zero_frequency_and_no_error_code() {
    let mut job = job_with_runs();
    job.schedule = JobSchedule::RunOnce;
    job.business_status = None;
    job.error_code = None;
    job.started = None;
    job.ended = None;
    job.next_run = None;
    job.cut_over = None;
    let m = replication_job(&job);
    assert!(m.run_once);
    assert_eq!((m.frequency, m.max_number_of_image_to_keep), (0, 0));
    assert_eq!(
        m.business_status,
        pb::ReplicationJobBusinessStatus::Unspecified as i32
    );
    assert_eq!(m.error_code, "");
    assert_eq!(
        (m.start_time, m.end_time, m.next_run_time, m.cut_over),
        (None, None, None, None)
    );
}
