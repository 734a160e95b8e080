//! Proto → request values: replication job requests and pagination,
//! validated, never panicking. The limits themselves are tested with the
//! request values (`control_plane::requests`); these check the gRPC
//! reading: numbers, proto3's zeros, and the fields' names.

use super::{violated_field, JOB, SERVER};
use crate::{
    api::grpc::convert::{
        change_life_cycle_state, create_replication_job, describe_replication_jobs,
        describe_source_servers, launch,
    },
    domain::{BusinessStatus, JobSchedule, LifeCycleState, ReplicationJobStatus},
    pb::v1 as pb,
};

#[test]
fn page_sizes_and_tokens() {
    let jobs = |max_results, next_token: &str| {
        describe_replication_jobs(&pb::DescribeReplicationJobsRequest {
            max_results,
            next_token: next_token.into(),
            ..Default::default()
        })
    };
    let servers = |max_results, next_token: &str| {
        describe_source_servers(&pb::DescribeSourceServersRequest {
            max_results,
            next_token: next_token.into(),
            ..Default::default()
        })
    };
    for (max_results, size) in [(0, 1000), (1, 1), (1000, 1000)] {
        assert_eq!(jobs(max_results, "").unwrap().page().size(), size);
        assert_eq!(servers(max_results, "").unwrap().page().size(), size);
    }
    for bad in [-1, 1001, i32::MIN, i32::MAX] {
        assert_eq!(violated_field(jobs(bad, "")), "max_results", "{bad}");
        assert_eq!(violated_field(servers(bad, "")), "max_results", "{bad}");
    }
    let longest = "a".repeat(2048);
    assert_eq!(jobs(0, &longest).unwrap().page().token(), longest);
    assert_eq!(
        servers(0, &longest).unwrap().page().token_field(),
        "next_token"
    );
    let too_long = "a".repeat(2049);
    assert_eq!(violated_field(jobs(0, &too_long)), "next_token");
    assert_eq!(violated_field(servers(0, &too_long)), "next_token");
}

#[test]
fn replication_job_filters() {
    let req = pb::DescribeReplicationJobsRequest {
        job_ids: vec![JOB.into()],
        source_ids: vec![SERVER.into()],
        statuses: vec![6, 2],
        business_statuses: vec![4],
        ..Default::default()
    };
    let request = describe_replication_jobs(&req).unwrap();
    let filter = request.filter();
    assert_eq!(filter.ids[0].as_str(), JOB);
    assert_eq!(filter.source_ids[0].as_str(), SERVER);
    assert_eq!(
        filter.statuses,
        vec![ReplicationJobStatus::Waiting, ReplicationJobStatus::Running]
    );
    assert_eq!(filter.business_statuses, vec![BusinessStatus::Cleaning]);

    let base = pb::DescribeReplicationJobsRequest::default;
    let cases = [
        (
            "job_ids",
            pb::DescribeReplicationJobsRequest {
                job_ids: vec![JOB.into(); 201],
                ..base()
            },
        ),
        (
            "job_ids",
            pb::DescribeReplicationJobsRequest {
                job_ids: vec![SERVER.into()],
                ..base()
            },
        ),
        (
            "source_ids",
            pb::DescribeReplicationJobsRequest {
                source_ids: vec![SERVER.into(); 201],
                ..base()
            },
        ),
        (
            "source_ids",
            pb::DescribeReplicationJobsRequest {
                source_ids: vec![JOB.into()],
                ..base()
            },
        ),
        (
            "statuses",
            pb::DescribeReplicationJobsRequest {
                statuses: vec![0],
                ..base()
            },
        ),
        (
            "statuses",
            pb::DescribeReplicationJobsRequest {
                statuses: vec![9],
                ..base()
            },
        ),
        (
            "business_statuses",
            pb::DescribeReplicationJobsRequest {
                business_statuses: vec![0],
                ..base()
            },
        ),
        (
            "business_statuses",
            pb::DescribeReplicationJobsRequest {
                business_statuses: vec![5],
                ..base()
            },
        ),
    ];
    for (field, req) in cases {
        assert_eq!(violated_field(describe_replication_jobs(&req)), field);
    }
    let max = pb::DescribeReplicationJobsRequest {
        job_ids: vec![JOB.into(); 200],
        source_ids: vec![SERVER.into(); 200],
        ..base()
    };
    assert!(describe_replication_jobs(&max).is_ok());
}

fn create(run_once: Option<bool>, frequency: i32, images: i32) -> pb::CreateReplicationJobRequest {
    pb::CreateReplicationJobRequest {
        source_id: SERVER.into(),
        name: "n".into(),
        run_once,
        frequency,
        max_number_of_image_to_keep: images,
        ..Default::default()
    }
}

#[test]
fn job_specs() {
    let request = create_replication_job(&create(None, 0, 0)).unwrap();
    assert_eq!(request.source_id().as_str(), SERVER);
    assert_eq!(
        (request.spec().name.as_str(), request.spec().schedule),
        ("n", JobSchedule::RunOnce)
    );
    // run_once true ignores whatever the schedule fields hold.
    assert_eq!(
        create_replication_job(&create(Some(true), -5, 999))
            .unwrap()
            .spec()
            .schedule,
        JobSchedule::RunOnce
    );
    assert_eq!(
        create_replication_job(&create(Some(false), 24, 3))
            .unwrap()
            .spec()
            .schedule,
        JobSchedule::Incremental {
            frequency_hours: 24,
            max_images: 3
        }
    );
    let cases = [
        ("frequency", create(Some(false), 0, 3)),
        ("frequency", create(Some(false), 169, 3)),
        ("frequency", create(Some(false), -1, 3)),
        ("max_number_of_image_to_keep", create(Some(false), 24, 0)),
        ("max_number_of_image_to_keep", create(Some(false), 24, 11)),
        (
            "max_number_of_image_to_keep",
            create(Some(false), 24, i32::MIN),
        ),
        (
            "source_id",
            pb::CreateReplicationJobRequest {
                source_id: "".into(),
                ..create(None, 0, 0)
            },
        ),
        (
            "name",
            pb::CreateReplicationJobRequest {
                name: "x".repeat(129),
                ..create(None, 0, 0)
            },
        ),
    ];
    for (field, req) in cases {
        assert_eq!(violated_field(create_replication_job(&req)), field);
    }
}

#[test]
fn launches_and_targets() {
    assert_eq!(launch(SERVER).unwrap().ids().len(), 1);
    assert_eq!(violated_field(launch("s-1")), "source_server_id");
    let change = |state| {
        change_life_cycle_state(&pb::ChangeServerLifeCycleStateRequest {
            source_server_id: SERVER.into(),
            state,
            ..Default::default()
        })
    };
    assert_eq!(
        change(pb::LifeCycleState::ReadyForTest as i32)
            .unwrap()
            .target(),
        LifeCycleState::ReadyForTest
    );
    for bad in [0, 99, pb::LifeCycleState::Cutover as i32] {
        assert_eq!(violated_field(change(bad)), "state", "{bad}");
    }
}
