//! DescribeReplicationJobs: pages and filters, and tokens bound to their
//! filter.

use std::collections::BTreeSet;

use cutover::pb::v1::{
    replication_job_service_client::ReplicationJobServiceClient, CreateReplicationJobRequest,
    DescribeReplicationJobsRequest, LifeCycleState, ReplicationJobBusinessStatus,
    ReplicationJobStatus,
};
use tonic::transport::Channel;

use cutover_testkit::{create_job, expect_violation, register, wait_for_state, TestServer};

use super::union;

async fn walk_jobs(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    request: DescribeReplicationJobsRequest,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut request = request;
    loop {
        let page = jobs
            .describe_replication_jobs(request.clone())
            .await
            .expect("DescribeReplicationJobs")
            .into_inner();
        let ids: Vec<String> = page
            .replication_jobs
            .iter()
            .map(|j| j.job_id.clone())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "page sorted by job id");
        pages.push(ids);
        if page.next_token.is_empty() {
            return pages;
        }
        request.next_token = page.next_token;
        assert!(pages.len() < 1000, "runaway pagination");
    }
}

#[tokio::test]
async fn replication_jobs_page_and_filter() {
    let server = TestServer::in_process(&["--sim-speed", "100"]);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut sources = Vec::new();
    for _ in 0..5 {
        sources.push(register(&mut servers).await);
    }
    let mut job_ids = Vec::new();
    for source in &sources {
        wait_for_state(&mut servers, source, LifeCycleState::ReadyForTest).await;
        let request = CreateReplicationJobRequest {
            source_id: source.clone(),
            name: "page".into(),
            ..Default::default()
        };
        job_ids.push(create_job(&mut jobs, request).await);
    }
    let all: BTreeSet<String> = job_ids.iter().cloned().collect();
    let everything = DescribeReplicationJobsRequest {
        max_results: 2,
        ..Default::default()
    };
    let pages = walk_jobs(&mut jobs, everything.clone()).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 1]
    );
    assert_eq!(union(&pages), all);

    let by_source = DescribeReplicationJobsRequest {
        source_ids: vec![sources[1].clone(), sources[3].clone()],
        max_results: 1,
        ..Default::default()
    };
    assert_eq!(
        union(&walk_jobs(&mut jobs, by_source.clone()).await),
        BTreeSet::from([job_ids[1].clone(), job_ids[3].clone()])
    );
    let by_id = DescribeReplicationJobsRequest {
        job_ids: vec![job_ids[0].clone(), job_ids[4].clone()],
        ..Default::default()
    };
    assert_eq!(
        union(&walk_jobs(&mut jobs, by_id).await),
        BTreeSet::from([job_ids[0].clone(), job_ids[4].clone()])
    );
    let ready = DescribeReplicationJobsRequest {
        statuses: vec![ReplicationJobStatus::Ready as i32],
        max_results: 3,
        ..Default::default()
    };
    assert_eq!(union(&walk_jobs(&mut jobs, ready).await), all);
    let running = DescribeReplicationJobsRequest {
        statuses: vec![ReplicationJobStatus::Running as i32],
        ..Default::default()
    };
    assert_eq!(
        walk_jobs(&mut jobs, running).await,
        vec![Vec::<String>::new()]
    );
    let syncing = DescribeReplicationJobsRequest {
        business_statuses: vec![ReplicationJobBusinessStatus::Syncing as i32],
        ..Default::default()
    };
    assert_eq!(
        walk_jobs(&mut jobs, syncing).await,
        vec![Vec::<String>::new()]
    );

    // A token issued for one filter is refused with another.
    let token = jobs
        .describe_replication_jobs(everything)
        .await
        .expect("first page")
        .into_inner()
        .next_token;
    assert!(!token.is_empty());
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: token,
            ..by_source
        })
        .await
        .expect_err("token of another filter");
    expect_violation(status, "next_token");
}
