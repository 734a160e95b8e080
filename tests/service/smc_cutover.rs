//! SMC replication jobs over real gRPC: incremental runs, and both
//! CutOverReplicationJob paths to Finished with progress observed.

use cutover::pb::v1::{
    replication_job_service_client::ReplicationJobServiceClient, DescribeReplicationJobsRequest,
    ReplicationJobBusinessStatus as Business, ReplicationJobRunType,
    ReplicationJobStatus as Status,
};
use cutover_testkit::*;
use tonic::transport::Channel;

/// Ten times real speed: a tick is 100 ms, slow enough to watch progress.
const WATCHABLE: &[&str] = &["--sim-speed", "10"];

/// Polls a job every 5 ms until Finished, recording every distinct
/// (status, business status, progress) it passes through.
async fn observe_until_finished(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    id: &str,
) -> Vec<(i32, i32, f64)> {
    let seen = std::cell::RefCell::new(Vec::<(i32, i32, f64)>::new());
    let interval = std::time::Duration::from_millis(5);
    eventually_every(interval, DEADLINE, &format!("job {id} to finish"), || {
        let mut jobs = jobs.clone();
        let seen = &seen;
        async move {
            let job = get_job(&mut jobs, id).await;
            let sample = (job.status, job.business_status, job.progress);
            let mut seen = seen.borrow_mut();
            if seen.last() != Some(&sample) {
                seen.push(sample);
            }
            (job.status == Status::Finished as i32).then(|| seen.clone())
        }
    })
    .await
}

#[tokio::test]
async fn cut_over_with_sync_data_runs_a_final_sync_then_releases_and_finishes() {
    let server = TestServer::in_process(WATCHABLE);
    let (_, job_id) = waiting_job(&server, 24, 2).await;
    let mut jobs = server.jobs().await;
    let before = get_job(&mut jobs, &job_id).await;
    assert!(
        before.next_run_time.is_some(),
        "a Waiting job has its next run scheduled"
    );
    assert_eq!(before.image_ids, vec!["CYCLE_1".to_owned()]);

    let response = cut_over_job(&mut jobs, &job_id, true)
        .await
        .expect("CutOverReplicationJob");
    let header = request_id_header(response.metadata());
    assert_eq!(response.into_inner().request_id, header);

    let cut = get_job(&mut jobs, &job_id).await;
    assert!(
        cut.next_run_time.is_none(),
        "the schedule is cancelled at once"
    );
    assert!(cut.cut_over.as_ref().is_some_and(|c| c.sync_data));

    let seen = observe_until_finished(&mut jobs, &job_id).await;
    let syncing: Vec<f64> = seen
        .iter()
        .filter(|(s, b, _)| *s == Status::Running as i32 && *b == Business::Syncing as i32)
        .map(|(_, _, p)| *p)
        .collect();
    assert!(
        syncing.iter().any(|p| *p > 0.0 && *p < 100.0),
        "progress advanced visibly: {seen:?}"
    );
    assert!(
        syncing.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {seen:?}"
    );
    let order: Vec<i32> = seen.iter().map(|(_, b, _)| *b).collect();
    let cleaning = order
        .iter()
        .position(|b| *b == Business::Cleaning as i32)
        .expect("Cleaning observed");
    assert!(
        order[..cleaning]
            .iter()
            .all(|b| *b != Business::Processing as i32),
        "no image-building step (Processing) in a cutover"
    );

    let done = get_job(&mut jobs, &job_id).await;
    assert_eq!(done.status, Status::Finished as i32);
    assert_eq!(done.business_status, Business::Unspecified as i32);
    assert!(done.end_time.is_some());
    let last = done.replication_job_runs.last().expect("final run");
    assert_eq!(last.image_id, "FINAL");
    assert_eq!(last.r#type, ReplicationJobRunType::Manual as i32);
    assert_eq!(
        done.replication_job_runs.len(),
        2,
        "first run + final sync, nothing else"
    );
    assert_eq!(
        done.image_ids,
        vec!["CYCLE_1".to_owned(), "FINAL".to_owned()],
        "the job's newest image is the one with the final sync in it"
    );

    let again = cut_over_job(&mut jobs, &job_id, true)
        .await
        .expect_err("second cutover");
    let status = expect_smc(
        again,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Finished",
    );
    assert_eq!(
        status.message(),
        "The specified replication job status: Finished is invalid. This operation can only be performed in the following status: Waiting."
    );
}

#[tokio::test]
async fn cut_over_without_sync_data_releases_and_finishes_without_migrating() {
    let server = TestServer::in_process(WATCHABLE);
    let (_, job_id) = waiting_job(&server, 24, 2).await;
    let mut jobs = server.jobs().await;
    cut_over_job(&mut jobs, &job_id, false)
        .await
        .expect("CutOverReplicationJob");
    let cut = get_job(&mut jobs, &job_id).await;
    assert!(cut.next_run_time.is_none());
    let seen = observe_until_finished(&mut jobs, &job_id).await;
    assert!(
        seen.iter().all(|(_, b, _)| *b != Business::Syncing as i32),
        "no migration runs without sync_data: {seen:?}"
    );
    assert!(
        seen.iter().any(|(_, b, _)| *b == Business::Cleaning as i32) || seen.len() == 1,
        "{seen:?}"
    );
    let done = get_job(&mut jobs, &job_id).await;
    assert_eq!(done.status, Status::Finished as i32);
    assert_eq!(done.replication_job_runs.len(), 1, "only the first run");
}

#[tokio::test]
async fn incremental_runs_follow_the_frequency_and_keep_the_newest_images() {
    // At 3600x an hour's frequency passes in a second.
    let server = TestServer::in_process(&["--sim-speed", "3600"]);
    let (_, job_id) = waiting_job(&server, 1, 2).await;
    let mut jobs = server.jobs().await;
    let job = wait_for_job(&mut jobs, &job_id, |job| {
        job.replication_job_runs.len() >= 3 && job.status == Status::Waiting as i32
    })
    .await;
    assert_eq!(
        job.replication_job_runs[0].r#type,
        ReplicationJobRunType::Manual as i32
    );
    assert!(job.replication_job_runs[1..]
        .iter()
        .all(|r| r.r#type == ReplicationJobRunType::Schedule as i32));
    let cycles = job.replication_job_runs.len();
    assert_eq!(
        job.image_ids,
        vec![format!("CYCLE_{}", cycles - 1), format!("CYCLE_{cycles}")],
        "only the newest two images are kept"
    );

    let listed = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            statuses: vec![Status::Waiting as i32, Status::Running as i32],
            ..Default::default()
        })
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(listed.replication_jobs.len(), 1);
    assert_eq!(listed.replication_jobs[0].job_id, job_id);
}
