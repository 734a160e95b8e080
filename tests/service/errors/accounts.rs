//! Accounts: calls must be authenticated, the account initialised
//! (UninitializedAccountException), and one account's servers, jobs,
//! client tokens and page tokens are invisible to another, also across a
//! restart.

use cutover::pb::v1::{
    CreateReplicationJobRequest, DescribeReplicationJobsRequest, DescribeSourceServersRequest,
    LifeCycleState, RegisterSourceServerRequest, ReplicationJobStatus,
};
use tempfile::TempDir;
use tonic::{Code, Request, Status};

use cutover_testkit::{
    error_metadata, expect_error, expect_not_found, state_of, token_digest, TestServer, TokensFile,
};

use super::{
    api::{refuse_each, Api, Call, Reply},
    UNKNOWN_JOB, UNKNOWN_SERVER,
};

fn expect_unauthenticated(status: Status) {
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(
        status.metadata().get("x-request-id").is_some(),
        "x-request-id on UNAUTHENTICATED: {status:?}"
    );
}

fn expect_uninitialised(status: Status, account: &str) {
    let status = expect_error(
        status,
        Code::FailedPrecondition,
        "UninitializedAccountException",
    );
    assert_eq!(error_metadata(&status)["httpStatus"], "400");
    assert!(status.message().contains(account), "{status:?}");
}

#[tokio::test]
async fn accounts_must_be_authenticated_initialised_and_isolated() {
    const ALPHA: &str = "token-alpha";
    const BRAVO: &str = "token-bravo";
    const ACCOUNT_A: &str = "111111111111";
    const ACCOUNT_B: &str = "222222222222";
    let tokens = TokensFile::new(&[(ALPHA, ACCOUNT_A), (BRAVO, ACCOUNT_B)]);
    let server = TestServer::in_process(&["--no-simulator", "--tokens-file", tokens.path()]);
    let anonymous = Api::new(&server).await;
    let (alpha, bravo) = (anonymous.with_token(ALPHA), anonymous.with_token(BRAVO));

    // No token, an unknown token, the digest instead of the token, another
    // scheme: UNAUTHENTICATED.
    expect_unauthenticated(anonymous.refused(Call::Register, "").await);
    expect_unauthenticated(anonymous.initialize().await.expect_err("no token"));
    let digest = token_digest(ALPHA);
    for wrong in ["token-charlie", digest.as_str(), "", "token-alph"] {
        expect_unauthenticated(
            anonymous
                .with_token(wrong)
                .refused(Call::Register, "")
                .await,
        );
    }
    let mut basic = Request::new(RegisterSourceServerRequest::default());
    basic.metadata_mut().insert(
        "authorization",
        format!("Basic {ALPHA}").parse().expect("ascii"),
    );
    let status = anonymous
        .servers
        .clone()
        .register_source_server(basic)
        .await;
    expect_unauthenticated(status.expect_err("not a bearer token"));

    // Before InitializeService every call fails so.
    for (call, id) in [
        (Call::Register, ""),
        (Call::DescribeServers, ""),
        (Call::GetServer, UNKNOWN_SERVER),
        (Call::FinalizeCutover, UNKNOWN_SERVER),
        (Call::CreateJob, UNKNOWN_SERVER),
        (Call::DescribeJobs, ""),
        (Call::CutOver { sync_data: false }, UNKNOWN_JOB),
        (Call::Watch, ""),
    ] {
        expect_uninitialised(alpha.refused(call, id).await, ACCOUNT_A);
    }

    // InitializeService is idempotent.
    let response = alpha.initialize().await.expect("initialise A");
    let reply = Reply::of(&response);
    let first = response.into_inner();
    assert_eq!(reply.header, first.request_id);
    assert_eq!(first.account_id, ACCOUNT_A);
    assert!(first.newly_initialized);
    let again = alpha
        .initialize()
        .await
        .expect("initialise A again")
        .into_inner();
    assert_eq!(again.account_id, ACCOUNT_A);
    assert!(!again.newly_initialized);
    assert_ne!(again.request_id, first.request_id);

    // A is usable now; B is not.
    let shared_token = || RegisterSourceServerRequest {
        client_token: "shared-token".into(),
        ..Default::default()
    };
    let a_server = alpha
        .register(shared_token())
        .await
        .expect("register for A")
        .into_inner();
    assert_eq!(a_server.account_id, ACCOUNT_A);
    assert!(a_server.arn.contains(ACCOUNT_A), "{}", a_server.arn);
    let a_id = a_server.source_server_id;
    expect_uninitialised(bravo.refused(Call::Register, "").await, ACCOUNT_B);
    let b_init = bravo.initialize().await.expect("initialise B").into_inner();
    assert_eq!(b_init.account_id, ACCOUNT_B);
    assert!(b_init.newly_initialized);

    // A's resources are invisible to B.
    let calls = [
        Call::GetServer,
        Call::Disconnect,
        Call::FinalizeCutover,
        Call::CreateJob,
    ];
    bravo
        .refuse_each(&calls, &a_id, |status| {
            expect_not_found(status, "SourceServer", &a_id);
        })
        .await;
    assert!(
        bravo.list_servers(&[]).await.is_empty(),
        "B sees nothing of A's"
    );
    assert!(bravo.list_servers(&[&a_id]).await.is_empty());

    // Client tokens are per account: B's same token is a new request.
    let b_server = bravo
        .register(shared_token())
        .await
        .expect("register for B with A's token")
        .into_inner();
    assert_ne!(b_server.source_server_id, a_id);
    assert_eq!(b_server.account_id, ACCOUNT_B);
    assert_eq!(alpha.list_servers(&[]).await, vec![a_id.clone()]);
    assert_eq!(
        bravo.list_servers(&[]).await,
        vec![b_server.source_server_id]
    );
    assert_eq!(
        state_of(&alpha.server(&a_id).await),
        Some(LifeCycleState::PendingInstallation)
    );

    // A's page token is no good to B.
    for _ in 0..2 {
        alpha.new_server().await;
    }
    let first_page = DescribeSourceServersRequest {
        max_results: 1,
        ..Default::default()
    };
    let next_token = alpha
        .describe_servers(first_page.clone())
        .await
        .expect("A's first page")
        .into_inner()
        .next_token;
    assert!(!next_token.is_empty());
    let replayed = DescribeSourceServersRequest {
        next_token,
        ..first_page
    };
    refuse_each(
        |request| bravo.describe_servers(request),
        [("next_token", replayed)],
    )
    .await;
}

/// Asserts `api`'s account can neither touch nor list job `job_id` of
/// source `source`.
async fn cannot_see_job(api: &Api, job_id: &str, source: &str) {
    let calls = [
        Call::GetJob,
        Call::StartJob,
        Call::StopJob,
        Call::CutOver { sync_data: false },
    ];
    api.refuse_each(&calls, job_id, |status| {
        expect_not_found(status, "ReplicationJob", job_id);
    })
    .await;
    for request in [
        DescribeReplicationJobsRequest::default(),
        DescribeReplicationJobsRequest {
            job_ids: vec![job_id.to_owned()],
            ..Default::default()
        },
        DescribeReplicationJobsRequest {
            source_ids: vec![source.to_owned()],
            ..Default::default()
        },
    ] {
        let listed = api.list_jobs(request).await;
        assert!(listed.is_empty(), "another account's job: {listed:?}");
    }
}

#[tokio::test]
async fn jobs_are_isolated_between_accounts_and_initialisation_is_durable() {
    const ALPHA: &str = "alpha-secret";
    const BRAVO: &str = "bravo-secret";
    const ACCOUNT_A: &str = "123456789012";
    let tokens = TokensFile::new(&[(ALPHA, ACCOUNT_A), (BRAVO, "210987654321")]);
    let data = TempDir::new().expect("data dir");
    let args = ["--sim-speed", "100", "--tokens-file", tokens.path()];
    let mut server = TestServer::in_process_in(data.path(), &args);
    let api = Api::new(&server).await;
    let (alpha, bravo) = (api.with_token(ALPHA), api.with_token(BRAVO));
    for account in [&alpha, &bravo] {
        let init = account.initialize().await.expect("initialise");
        assert!(init.into_inner().newly_initialized);
    }

    let source = alpha.new_server().await;
    alpha
        .wait_for_state(&source, LifeCycleState::ReadyForTest)
        .await;
    let job_id = alpha
        .create_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            ..Default::default()
        })
        .await
        .expect("A creates a job")
        .into_inner()
        .job_id;
    cannot_see_job(&bravo, &job_id, &source).await;
    let everything = DescribeReplicationJobsRequest::default();
    assert_eq!(alpha.list_jobs(everything).await, vec![job_id.clone()]);
    let job = alpha.job(&job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Ready as i32,
        "B's attempts changed nothing"
    );
    assert_eq!(job.account_id, ACCOUNT_A);

    // After a restart both accounts are still initialised, and still apart.
    drop((api, alpha, bravo));
    server.stop();
    let server = TestServer::in_process_in(data.path(), &args);
    let api = Api::new(&server).await;
    let (alpha, bravo) = (api.with_token(ALPHA), api.with_token(BRAVO));
    bravo.new_server().await;
    let again = alpha
        .initialize()
        .await
        .expect("initialise A again")
        .into_inner();
    assert!(
        !again.newly_initialized,
        "initialisation survives a restart"
    );
    cannot_see_job(&bravo, &job_id, &source).await;
    assert_eq!(
        alpha.job(&job_id).await.job_id,
        job_id,
        "A still reads its job"
    );
}
