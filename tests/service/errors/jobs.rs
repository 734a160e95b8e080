//! SMC's preconditions of replication job calls: the job's status
//! (`ReplicationJob.InvalidStatus`), its business status
//! (`ReplicationJob.InvalidBusinessStatus`) and its source's state
//! (`SourceServerState.Invalid`).

use cutover::pb::v1::{CreateReplicationJobRequest, ReplicationJobStatus};

use cutover_testkit::{
    available_source, create_job, disconnect, expect_smc, incremental_job, start_job,
    wait_for_job_status, waiting_job, TestServer,
};

use super::{
    api::{Api, Call},
    assert_smc_message, expect_invalid_source, expect_invalid_status, WATCHABLE,
};

const WAITING: &[&str] = &["Waiting"];
const STARTABLE: &[&str] = &["Ready", "Stopped", "InError"];
const RUNNING: &[&str] = &["Running"];

/// Makes each call on job `id`: each must be an InvalidStatus naming
/// `state` and the statuses it allows.
async fn invalid_in(api: &Api, id: &str, state: &str, cases: &[(Call, &[&str])]) {
    for &(call, allowed) in cases {
        expect_invalid_status(api.refused(call, id).await, id, state, allowed);
    }
}

#[tokio::test]
async fn replication_job_status_preconditions() {
    let server = TestServer::in_process(WATCHABLE);
    let api = Api::new(&server).await;
    let (mut servers, mut jobs) = (api.servers.clone(), api.jobs.clone());
    let source = available_source(&mut servers).await;
    let one_time = CreateReplicationJobRequest {
        source_id: source,
        ..Default::default()
    };
    let job_id = create_job(&mut jobs, one_time).await;
    assert_eq!(
        api.job(&job_id).await.status,
        ReplicationJobStatus::Ready as i32
    );

    // CutOverReplicationJob needs Waiting, StopReplicationJob Running.
    let ready = [
        (Call::CutOver { sync_data: true }, WAITING),
        (Call::CutOver { sync_data: false }, WAITING),
        (Call::StopJob, RUNNING),
    ];
    invalid_in(&api, &job_id, "Ready", &ready).await;
    let job = api.job(&job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Ready as i32,
        "refusals change nothing"
    );
    assert!(job.cut_over.is_none());

    // StartReplicationJob on a Running job, then on a Finished one.
    start_job(&mut jobs, &job_id).await;
    invalid_in(&api, &job_id, "Running", &[(Call::StartJob, STARTABLE)]).await;
    wait_for_job_status(&mut jobs, &job_id, ReplicationJobStatus::Finished).await;
    let finished = [
        (Call::StartJob, STARTABLE),
        (Call::CutOver { sync_data: false }, WAITING),
    ];
    invalid_in(&api, &job_id, "Finished", &finished).await;
    assert_eq!(
        api.job(&job_id).await.replication_job_runs.len(),
        1,
        "one run, nothing restarted"
    );
}

#[tokio::test]
async fn stop_outside_syncing_is_an_invalid_business_status() {
    let server = TestServer::in_process(WATCHABLE);
    let api = Api::new(&server).await;
    let (mut servers, mut jobs) = (api.servers.clone(), api.jobs.clone());
    let source = available_source(&mut servers).await;
    let job_id = create_job(&mut jobs, incremental_job(&source, 24, 2)).await;

    // Preparing lasts one tick (100 ms): a stop right after the start
    // almost always lands in it. When it lands in Syncing instead the job
    // is Stopped, and can be started again.
    let mut refusal = None;
    let mut stops = 0;
    for _ in 0..20 {
        start_job(&mut jobs, &job_id).await;
        match api.call(Call::StopJob, &job_id).await {
            Ok(_) => {
                stops += 1;
                let status = api.job(&job_id).await.status;
                assert_eq!(status, ReplicationJobStatus::Stopped as i32);
            }
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let status = refusal.unwrap_or_else(|| panic!("every one of {stops} stops landed in Syncing"));
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidBusinessStatus",
        "ReplicationJob",
        &job_id,
        "Preparing",
    );
    let head = "The specified business status: Preparing of the replication job is invalid.";
    assert_smc_message(status.message(), head, &["Syncing"]);
    // The refused stop changed nothing: the run goes on to Waiting.
    let job = wait_for_job_status(&mut jobs, &job_id, ReplicationJobStatus::Waiting).await;
    assert_eq!(job.image_ids.len(), 1);

    // Stop in Waiting: not running at all.
    invalid_in(&api, &job_id, "Waiting", &[(Call::StopJob, RUNNING)]).await;
}

#[tokio::test]
async fn source_server_state_invalid_for_jobs() {
    let server = TestServer::in_process(WATCHABLE);
    let api = Api::new(&server).await;
    let (source, job_id) = waiting_job(&server, 24, 2).await;

    // A second job while the first is unfinished (Waiting).
    let status = api.refused(Call::CreateJob, &source).await;
    expect_invalid_source(status, &source, "InUse", &["Available"]);

    // A disconnected source cannot take a final sync...
    disconnect(&mut api.servers.clone(), &source).await;
    let status = api
        .refused(Call::CutOver { sync_data: true }, &job_id)
        .await;
    expect_invalid_source(status, &source, "Unavailable", &["Available", "InUse"]);
    let job = api.job(&job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Waiting as i32,
        "the refusal changed nothing"
    );
    assert!(job.next_run_time.is_some(), "the schedule is kept");
    assert!(job.cut_over.is_none());

    // ...but without sync_data no source check applies.
    let reply = api.ok(Call::CutOver { sync_data: false }, &job_id).await;
    assert_eq!(reply.header, reply.request_id);
    let done = wait_for_job_status(
        &mut api.jobs.clone(),
        &job_id,
        ReplicationJobStatus::Finished,
    )
    .await;
    assert_eq!(done.replication_job_runs.len(), 1, "no final sync ran");

    // The job's status is checked before the source: a Finished job of a
    // disconnected source is InvalidStatus, not SourceServerState.Invalid.
    let final_sync = [(Call::CutOver { sync_data: true }, WAITING)];
    invalid_in(&api, &job_id, "Finished", &final_sync).await;

    // With the job finished the source has no unfinished job, and is
    // Unavailable.
    let status = api.refused(Call::CreateJob, &source).await;
    expect_invalid_source(status, &source, "Unavailable", &["Available"]);
}

#[tokio::test]
async fn a_job_of_an_unavailable_source_does_not_start() {
    let server = TestServer::in_process(WATCHABLE);
    let api = Api::new(&server).await;
    let mut servers = api.servers.clone();
    let source = available_source(&mut servers).await;
    let job_id = create_job(&mut api.jobs.clone(), incremental_job(&source, 24, 2)).await;

    disconnect(&mut servers, &source).await;
    // The job's status is checked first: a Ready job may start, so the
    // refusal is about the source.
    let status = api.refused(Call::StartJob, &job_id).await;
    expect_invalid_source(status, &source, "Unavailable", &["Available"]);
    let job = api.job(&job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Ready as i32,
        "the refusal changed nothing"
    );
    assert!(job.replication_job_runs.is_empty());
}
