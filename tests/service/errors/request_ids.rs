//! Request ids: every answer, success or error, carries its own, in the
//! `x-request-id` header and (on success) in the body.

use std::collections::HashSet;

use cutover::pb::v1::{
    DescribeSourceServersRequest, LifeCycleState, RegisterSourceServerRequest,
    ReplicationJobBusinessStatus, ReplicationJobStatus,
};

use cutover_testkit::{
    expect_not_found, expect_violation, incremental_job, request_id_header, wait_for_job,
    wait_for_job_status, TestServer,
};

use super::{
    api::{Api, Call, Reply},
    UNKNOWN_SERVER, WATCHABLE,
};

#[tokio::test]
async fn every_success_carries_its_request_id() {
    let server = TestServer::in_process(WATCHABLE);
    let api = Api::new(&server).await;
    let mut seen: Vec<String> = Vec::new();
    let mut check = |reply: Reply| {
        assert_eq!(reply.request_id, reply.header);
        assert_eq!(reply.header.len(), 32, "{}", reply.header);
        seen.push(reply.header);
    };

    let response = api.initialize().await.expect("init");
    check(Reply::of(&response));
    assert!(
        !response.into_inner().newly_initialized,
        "the built-in account starts initialised"
    );
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = api
            .register(RegisterSourceServerRequest::default())
            .await
            .expect("register");
        check(Reply::of(&response));
        ids.push(response.into_inner().source_server_id);
    }
    let (id, source) = (&ids[0], &ids[1]);
    check(api.ok(Call::GetServer, id).await);
    let response = api
        .describe_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe");
    check(Reply::of(&response));
    assert!(
        response
            .get_ref()
            .items
            .iter()
            .all(|s| s.request_id.is_empty()),
        "items carry no request id"
    );

    api.wait_for_state(id, LifeCycleState::ReadyForTest).await;
    for call in [
        Call::StartTest,
        Call::ChangeState(LifeCycleState::ReadyForCutover),
        Call::StartCutover,
        Call::FinalizeCutover,
        Call::Archive,
    ] {
        check(api.ok(call, id).await);
    }

    api.wait_for_state(source, LifeCycleState::ReadyForTest)
        .await;
    let response = api
        .create_job(incremental_job(source, 24, 2))
        .await
        .expect("create job");
    check(Reply::of(&response));
    let job_id = response.into_inner().job_id;
    for call in [Call::GetJob, Call::DescribeJobs, Call::StartJob] {
        check(api.ok(call, &job_id).await);
    }
    // Syncing lasts 4 ticks (400 ms); stop early in it.
    let mut jobs = api.jobs.clone();
    wait_for_job(&mut jobs, &job_id, |job| {
        job.business_status == ReplicationJobBusinessStatus::Syncing as i32 && job.progress < 50.0
    })
    .await;
    for call in [Call::StopJob, Call::StartJob] {
        check(api.ok(call, &job_id).await);
    }
    wait_for_job_status(&mut jobs, &job_id, ReplicationJobStatus::Waiting).await;
    check(api.ok(Call::CutOver { sync_data: true }, &job_id).await);

    // Errors too: x-request-id equals ErrorInfo's requestId (expect_error
    // checks it), and every call got its own id.
    let status = api.refused(Call::GetServer, UNKNOWN_SERVER).await;
    let status = expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    seen.push(request_id_header(status.metadata()));
    let status = expect_violation(
        api.refused(Call::GetServer, "bad").await,
        "source_server_id",
    );
    seen.push(request_id_header(status.metadata()));
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "request ids are unique: {seen:?}");
    assert_eq!(seen.len(), 19);
}
