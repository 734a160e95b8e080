//! The service as one account sees it (a bearer token, or the built-in
//! account without one): [`Api::call`] makes a [`Call`], so that a case is
//! a row of a table; typed methods send hand-built requests.

use std::future::Future;

use cutover::pb::v1::{
    account_service_client::AccountServiceClient, lifecycle_service_client::LifecycleServiceClient,
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, ChangeServerLifeCycleStateRequest,
    CreateReplicationJobRequest, CreateReplicationJobResponse, CutOverReplicationJobRequest,
    DescribeReplicationJobsRequest, DescribeReplicationJobsResponse, DescribeSourceServersFilters,
    DescribeSourceServersRequest, DescribeSourceServersResponse, DisconnectFromServiceRequest,
    FinalizeCutoverRequest, GetReplicationJobRequest, GetSourceServerRequest,
    InitializeServiceRequest, InitializeServiceResponse, LifeCycleState, MarkAsArchivedRequest,
    RegisterSourceServerRequest, ReplicationJob, SourceServer, StartCutoverRequest,
    StartReplicationJobRequest, StartTestRequest, StopReplicationJobRequest,
    WatchLifecycleEventsRequest,
};
use tonic::{transport::Channel, Request, Response, Status};

pub(crate) use super::call::{Call, Reply, JOB_ID_CALLS, SERVER_ID_CALLS};
use cutover_testkit::{bearer, eventually, expect_violation, state_of, TestServer, DEADLINE};

use super::UNKNOWN_SERVER;

/// What an RPC answers.
type Answer<T> = Result<Response<T>, Status>;

/// The service as one account sees it.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) servers: SourceServerServiceClient<Channel>,
    pub(crate) jobs: ReplicationJobServiceClient<Channel>,
    accounts: AccountServiceClient<Channel>,
    lifecycle: LifecycleServiceClient<Channel>,
    token: Option<String>,
}

impl Api {
    /// The built-in account (no token), on one channel.
    pub(crate) async fn new(server: &TestServer) -> Api {
        let channel = server.channel().await;
        Api {
            servers: SourceServerServiceClient::new(channel.clone()),
            jobs: ReplicationJobServiceClient::new(channel.clone()),
            accounts: AccountServiceClient::new(channel.clone()),
            lifecycle: LifecycleServiceClient::new(channel),
            token: None,
        }
    }

    /// The same channel, as the account `token` authenticates.
    pub(crate) fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    fn request<T>(&self, message: T) -> Request<T> {
        match &self.token {
            Some(token) => bearer(message, token),
            None => Request::new(message),
        }
    }

    /// Makes `call` on `id`.
    pub(crate) async fn call(&self, call: Call, id: &str) -> Result<Reply, Status> {
        let (mut servers, mut jobs) = (self.servers.clone(), self.jobs.clone());
        let source_server_id = id.to_owned();
        let job_id = id.to_owned();
        macro_rules! send {
            ($client:ident . $rpc:ident($message:expr)) => {
                $client
                    .$rpc(self.request($message))
                    .await
                    .map(|response| Reply::of(&response))
            };
        }
        match call {
            Call::Register => send!(servers.register_source_server(Default::default())),
            Call::DescribeServers => send!(servers.describe_source_servers(Default::default())),
            Call::DescribeServersById => {
                let ids = vec![UNKNOWN_SERVER.to_owned(), source_server_id];
                send!(servers.describe_source_servers(by_ids(ids)))
            }
            Call::GetServer => {
                send!(servers.get_source_server(GetSourceServerRequest { source_server_id }))
            }
            Call::StartTest => send!(servers.start_test(StartTestRequest {
                source_server_id,
                ..Default::default()
            })),
            Call::ChangeState(state) => Ok(Reply::of(&self.change_state(id, state as i32).await?)),
            Call::StartCutover => send!(servers.start_cutover(StartCutoverRequest {
                source_server_id,
                ..Default::default()
            })),
            Call::FinalizeCutover => send!(servers.finalize_cutover(FinalizeCutoverRequest {
                source_server_id,
                ..Default::default()
            })),
            Call::Disconnect => send!(servers.disconnect_from_service(
                DisconnectFromServiceRequest {
                    source_server_id,
                    ..Default::default()
                }
            )),
            Call::Archive => send!(servers.mark_as_archived(MarkAsArchivedRequest {
                source_server_id,
                ..Default::default()
            })),
            Call::CreateJob => send!(jobs.create_replication_job(CreateReplicationJobRequest {
                source_id: source_server_id,
                ..Default::default()
            })),
            Call::DescribeJobs => send!(jobs.describe_replication_jobs(Default::default())),
            Call::DescribeJobsBySource => {
                send!(
                    jobs.describe_replication_jobs(DescribeReplicationJobsRequest {
                        source_ids: vec![source_server_id],
                        ..Default::default()
                    })
                )
            }
            Call::DescribeJobsById => {
                send!(
                    jobs.describe_replication_jobs(DescribeReplicationJobsRequest {
                        job_ids: vec![job_id],
                        ..Default::default()
                    })
                )
            }
            Call::GetJob => send!(jobs.get_replication_job(GetReplicationJobRequest { job_id })),
            Call::StartJob => send!(jobs.start_replication_job(StartReplicationJobRequest {
                job_id,
                ..Default::default()
            })),
            Call::StopJob => send!(jobs.stop_replication_job(StopReplicationJobRequest {
                job_id,
                ..Default::default()
            })),
            Call::CutOver { sync_data } => {
                send!(jobs.cut_over_replication_job(CutOverReplicationJobRequest {
                    job_id,
                    sync_data,
                    ..Default::default()
                }))
            }
            Call::Watch => {
                let mut lifecycle = self.lifecycle.clone();
                let request = self.request(WatchLifecycleEventsRequest::default());
                let mut stream = lifecycle
                    .watch_lifecycle_events(request)
                    .await?
                    .into_inner();
                stream.message().await?;
                Ok(Reply::default())
            }
        }
    }

    /// Makes `call` on `id`, which must succeed.
    pub(crate) async fn ok(&self, call: Call, id: &str) -> Reply {
        self.call(call, id)
            .await
            .unwrap_or_else(|status| panic!("{call:?} of {id:?}: {status:?}"))
    }

    /// Makes `call` on `id`, which must be refused; returns the refusal.
    pub(crate) async fn refused(&self, call: Call, id: &str) -> Status {
        match self.call(call, id).await {
            Ok(reply) => panic!("{call:?} of {id:?} succeeded: {reply:?}"),
            Err(status) => status,
        }
    }

    /// Makes each of `calls` on `id`; each must be refused as `check`
    /// asserts.
    pub(crate) async fn refuse_each(&self, calls: &[Call], id: &str, check: impl Fn(Status)) {
        for &call in calls {
            check(self.refused(call, id).await);
        }
    }

    /// RegisterSourceServer.
    pub(crate) async fn register(
        &self,
        message: RegisterSourceServerRequest,
    ) -> Answer<SourceServer> {
        self.servers
            .clone()
            .register_source_server(self.request(message))
            .await
    }

    /// DescribeSourceServers.
    pub(crate) async fn describe_servers(
        &self,
        message: DescribeSourceServersRequest,
    ) -> Answer<DescribeSourceServersResponse> {
        self.servers
            .clone()
            .describe_source_servers(self.request(message))
            .await
    }

    /// ChangeServerLifeCycleState of server `id` to `state` (any number).
    pub(crate) async fn change_state(&self, id: &str, state: i32) -> Answer<SourceServer> {
        let message = ChangeServerLifeCycleStateRequest {
            source_server_id: id.to_owned(),
            state,
            ..Default::default()
        };
        self.servers
            .clone()
            .change_server_life_cycle_state(self.request(message))
            .await
    }

    /// CreateReplicationJob.
    pub(crate) async fn create_job(
        &self,
        message: CreateReplicationJobRequest,
    ) -> Answer<CreateReplicationJobResponse> {
        self.jobs
            .clone()
            .create_replication_job(self.request(message))
            .await
    }

    /// DescribeReplicationJobs.
    pub(crate) async fn describe_jobs(
        &self,
        message: DescribeReplicationJobsRequest,
    ) -> Answer<DescribeReplicationJobsResponse> {
        self.jobs
            .clone()
            .describe_replication_jobs(self.request(message))
            .await
    }

    /// InitializeService.
    pub(crate) async fn initialize(&self) -> Answer<InitializeServiceResponse> {
        self.accounts
            .clone()
            .initialize_service(self.request(InitializeServiceRequest::default()))
            .await
    }

    /// Registers a server; returns its id.
    pub(crate) async fn new_server(&self) -> String {
        self.register(RegisterSourceServerRequest::default())
            .await
            .expect("RegisterSourceServer")
            .into_inner()
            .source_server_id
    }

    /// Fetches a server.
    pub(crate) async fn server(&self, id: &str) -> SourceServer {
        let message = GetSourceServerRequest {
            source_server_id: id.to_owned(),
        };
        self.servers
            .clone()
            .get_source_server(self.request(message))
            .await
            .unwrap_or_else(|status| panic!("GetSourceServer {id}: {status:?}"))
            .into_inner()
    }

    /// Fetches a job.
    pub(crate) async fn job(&self, id: &str) -> ReplicationJob {
        let message = GetReplicationJobRequest {
            job_id: id.to_owned(),
        };
        self.jobs
            .clone()
            .get_replication_job(self.request(message))
            .await
            .unwrap_or_else(|status| panic!("GetReplicationJob {id}: {status:?}"))
            .into_inner()
    }

    /// Waits until a server reaches `state`.
    pub(crate) async fn wait_for_state(&self, id: &str, state: LifeCycleState) {
        eventually(
            DEADLINE,
            &format!("{id} to reach {state:?}"),
            || async move { (state_of(&self.server(id).await) == Some(state)).then_some(()) },
        )
        .await;
    }

    /// The ids of the servers a one-page listing shows: all of them, or
    /// those of `ids` when there are any.
    pub(crate) async fn list_servers(&self, ids: &[&str]) -> Vec<String> {
        let request = if ids.is_empty() {
            DescribeSourceServersRequest::default()
        } else {
            by_ids(ids.iter().map(|id| (*id).to_owned()).collect())
        };
        let page = self
            .describe_servers(request)
            .await
            .expect("DescribeSourceServers")
            .into_inner();
        assert!(page.next_token.is_empty(), "one page: {page:?}");
        page.items.into_iter().map(|s| s.source_server_id).collect()
    }

    /// The ids of the jobs a one-page listing of `request` shows.
    pub(crate) async fn list_jobs(&self, request: DescribeReplicationJobsRequest) -> Vec<String> {
        let page = self
            .describe_jobs(request)
            .await
            .expect("DescribeReplicationJobs")
            .into_inner();
        assert!(page.next_token.is_empty(), "one page: {page:?}");
        page.replication_jobs
            .into_iter()
            .map(|j| j.job_id)
            .collect()
    }
}

/// A listing of the servers `ids`.
pub(crate) fn by_ids(source_server_ids: Vec<String>) -> DescribeSourceServersRequest {
    DescribeSourceServersRequest {
        filters: Some(DescribeSourceServersFilters {
            source_server_ids,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Sends each request of `cases` with `rpc`: each must be refused with a
/// violation of the field it names.
pub(crate) async fn refuse_each<Req, Res, Fut>(
    rpc: impl Fn(Req) -> Fut,
    cases: impl IntoIterator<Item = (&'static str, Req)>,
) where
    Fut: Future<Output = Answer<Res>>,
{
    for (field, request) in cases {
        let status = rpc(request)
            .await
            .err()
            .unwrap_or_else(|| panic!("a request with a bad {field} was accepted"));
        expect_violation(status, field);
    }
}
