//! Proto → domain: replication job requests and pagination, validated,
//! never panicking.

use super::{violated_field, JOB, SERVER};
use crate::{
    api::grpc::convert::{job_spec, page_size, replication_job_filter},
    domain::{BusinessStatus, JobSchedule, ReplicationJobStatus},
    pb::v1 as pb,
};

#[test]
fn page_sizes() {
    assert_eq!(page_size(0), Ok(1000));
    assert_eq!(page_size(1), Ok(1));
    assert_eq!(page_size(1000), Ok(1000));
    for bad in [-1, 1001, i32::MIN, i32::MAX] {
        assert_eq!(violated_field(page_size(bad)), "max_results", "{bad}");
    }
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
    let filter = replication_job_filter(&req).unwrap();
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
        assert_eq!(violated_field(replication_job_filter(&req)), field);
    }
    let max = pb::DescribeReplicationJobsRequest {
        job_ids: vec![JOB.into(); 200],
        source_ids: vec![SERVER.into(); 200],
        ..base()
    };
    assert!(replication_job_filter(&max).is_ok());
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
    let (source, spec) = job_spec(&create(None, 0, 0)).unwrap();
    assert_eq!(source.as_str(), SERVER);
    assert_eq!(
        (spec.name.as_str(), spec.schedule),
        ("n", JobSchedule::RunOnce)
    );
    // run_once true ignores whatever the schedule fields hold.
    assert_eq!(
        job_spec(&create(Some(true), -5, 999)).unwrap().1.schedule,
        JobSchedule::RunOnce
    );
    assert_eq!(
        job_spec(&create(Some(false), 24, 3)).unwrap().1.schedule,
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
        assert_eq!(violated_field(job_spec(&req)), field);
    }
}
