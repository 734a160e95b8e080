//! Use cases of source servers (MGN): registration, queries, the lifecycle
//! operations, and the data plane's reports.

use std::sync::Arc;

use rand::thread_rng;

use super::{
    requests::{ChangeServerLifeCycleState, DescribeSourceServers, LaunchServers},
    ClientToken, ControlPlane, Failure, Page, Tenant,
};
use crate::{
    domain::{
        source_server::{self, Launch, Registration},
        AccountId, DomainError, Ec2InstanceId, FollowUpTaskId, LaunchJobId, Resource, SourceServer,
        SourceServerId, SourceState, Timestamp, Transition,
    },
    store::{Fence, ResourceWrite, ServerEntry, WriteBatch},
};

/// A source server as callers see it: with its ARN and SMC's derived state.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerView {
    /// The server.
    pub server: Arc<SourceServer>,
    /// Its ARN.
    pub arn: String,
    /// SMC's derived state now.
    pub source_state: SourceState,
}

/// The answer of StartTest and StartCutover.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchOutcome {
    /// The launch job.
    pub job_id: LaunchJobId,
    /// The launched instance.
    pub ec2_instance_id: Ec2InstanceId,
    /// When the launch was requested.
    pub created: Timestamp,
    /// The server after the launch.
    pub server: ServerView,
}

impl ControlPlane {
    /// The caller's view of a server as the read model holds it.
    pub(super) fn view_of(&self, entry: ServerEntry) -> ServerView {
        let server = entry.server.value;
        ServerView {
            arn: self.arn(&server),
            source_state: self.source_state(&server, entry.has_running_job),
            server,
        }
    }

    /// The caller's view of `server` as a mutation left it.
    fn view(&self, server: Arc<SourceServer>) -> ServerView {
        let running = self
            .store
            .read_model()
            .source_server(&server.account_id, &server.id)
            .is_some_and(|entry| entry.has_running_job);
        ServerView {
            arn: self.arn(&server),
            source_state: self.source_state(&server, running),
            server,
        }
    }

    /// RegisterSourceServer: a new server in PENDING_INSTALLATION.
    pub async fn register_source_server(
        &self,
        caller: &Tenant,
        registration: Registration,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let registration = &registration;
        let outcome: SourceServer = self
            .mutate(caller, token, move || async move {
                let id = SourceServerId::generate(&mut thread_rng());
                let change = source_server::register(
                    caller.account_id.clone(),
                    id,
                    registration.clone(),
                    self.now(),
                )?;
                let batch = WriteBatch::single(
                    Resource::SourceServer(change.resource.clone()),
                    None,
                    change.event,
                );
                Ok((batch, change.resource))
            })
            .await?;
        Ok(self.view(Arc::new(outcome)))
    }

    /// GetSourceServer.
    pub async fn get_source_server(
        &self,
        caller: &Tenant,
        id: &SourceServerId,
    ) -> Result<ServerView, Failure> {
        let entry = self
            .store
            .read_model()
            .source_server(&caller.account_id, id)
            .ok_or_else(|| DomainError::NotFound {
                kind: crate::domain::ResourceKind::SourceServer,
                id: id.to_string(),
            })?;
        Ok(self.view_of(entry))
    }

    /// DescribeSourceServers: one page, ordered by id.
    pub async fn describe_source_servers(
        &self,
        caller: &Tenant,
        request: &DescribeSourceServers,
    ) -> Result<Page<ServerView>, Failure> {
        if request.names_applications() {
            // No server belongs to an application here: nothing matches.
            return Ok(Page {
                items: Vec::new(),
                next_token: String::new(),
            });
        }
        let account = &caller.account_id;
        let filter = request.filter();
        let page = self
            .page(caller, filter, request.page(), |after, limit| {
                self.store
                    .read_model()
                    .list_source_servers(account, filter, after.as_ref(), limit)
                    .items
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|e| self.view_of(e)).collect(),
            next_token: page.next_token,
        })
    }

    /// Launches test or cutover instances of `servers` as one launch job:
    /// every server moves, each with its own instance, or none does (the
    /// first missing server or refused transition is the error).
    async fn launch(
        &self,
        caller: &Tenant,
        servers: &LaunchServers,
        token: Option<&ClientToken>,
        start: fn(
            &SourceServer,
            Launch,
            Timestamp,
        ) -> Result<Transition<SourceServer>, DomainError>,
    ) -> Result<Vec<LaunchOutcome>, Failure> {
        let ids = servers.ids();
        let servers: Vec<SourceServer> = self
            .mutate(caller, token, move || async move {
                let mut rng = thread_rng();
                let job_id = LaunchJobId::generate(&mut rng);
                let now = self.now();
                let mut batch = WriteBatch::default();
                let mut launched = Vec::with_capacity(ids.len());
                for id in ids {
                    let current = self.load::<SourceServer>(&caller.account_id, id)?;
                    let launch = Launch {
                        job_id: job_id.clone(),
                        ec2_instance_id: Ec2InstanceId::generate(&mut rng),
                    };
                    let change = start(current.value.as_ref(), launch, now)?;
                    batch.writes.push(ResourceWrite {
                        resource: Resource::SourceServer(change.resource.clone()),
                        expected_version: Some(current.version),
                        event: change.event,
                    });
                    launched.push(change.resource);
                }
                Ok((batch, launched))
            })
            .await?;
        servers
            .into_iter()
            .map(|server| self.launch_outcome(Arc::new(server)))
            .collect()
    }

    fn launch_outcome(&self, server: Arc<SourceServer>) -> Result<LaunchOutcome, Failure> {
        let launched = server.launched_instance.clone().ok_or_else(|| {
            Failure::internal(format!("{} launched without an instance", server.id))
        })?;
        let created = [
            &server.life_cycle.last_test,
            &server.life_cycle.last_cutover,
        ]
        .into_iter()
        .flatten()
        .find(|action| action.job_id == launched.job_id)
        .map_or(server.life_cycle.added_to_service, |action| {
            action.initiated
        });
        Ok(LaunchOutcome {
            job_id: launched.job_id,
            ec2_instance_id: launched.ec2_instance_id,
            created,
            server: self.view(server),
        })
    }

    /// StartTest: READY_FOR_TEST → TESTING, for every server of `servers`
    /// under one launch job.
    pub async fn start_test(
        &self,
        caller: &Tenant,
        servers: &LaunchServers,
        token: Option<&ClientToken>,
    ) -> Result<Vec<LaunchOutcome>, Failure> {
        self.launch(caller, servers, token, SourceServer::start_test)
            .await
    }

    /// StartCutover: READY_FOR_CUTOVER → CUTTING_OVER, for every server of
    /// `servers` under one launch job.
    pub async fn start_cutover(
        &self,
        caller: &Tenant,
        servers: &LaunchServers,
        token: Option<&ClientToken>,
    ) -> Result<Vec<LaunchOutcome>, Failure> {
        self.launch(caller, servers, token, SourceServer::start_cutover)
            .await
    }

    /// ChangeServerLifeCycleState.
    pub async fn change_life_cycle_state(
        &self,
        caller: &Tenant,
        request: &ChangeServerLifeCycleState,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let target = request.target();
        let server = self
            .command::<SourceServer>(caller, request.id(), token, |current, now| {
                current.change_life_cycle_state(target, now)
            })
            .await?;
        Ok(self.view(server))
    }

    /// FinalizeCutover: CUTTING_OVER → CUTOVER with both follow-up tasks
    /// recorded in the same transaction.
    pub async fn finalize_cutover(
        &self,
        caller: &Tenant,
        id: &SourceServerId,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let scale = self.settings.time_scale;
        let server = self
            .command::<SourceServer>(caller, id, token, |current, now| {
                let mut rng = thread_rng();
                let tasks = [
                    FollowUpTaskId::generate(&mut rng),
                    FollowUpTaskId::generate(&mut rng),
                ];
                current.finalize_cutover(tasks, scale, now)
            })
            .await?;
        Ok(self.view(server))
    }

    /// DisconnectFromService.
    pub async fn disconnect_from_service(
        &self,
        caller: &Tenant,
        id: &SourceServerId,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let server = self
            .command::<SourceServer>(caller, id, token, SourceServer::disconnect)
            .await?;
        Ok(self.view(server))
    }

    /// MarkAsArchived.
    pub async fn mark_as_archived(
        &self,
        caller: &Tenant,
        id: &SourceServerId,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let server = self
            .command::<SourceServer>(caller, id, token, SourceServer::mark_as_archived)
            .await?;
        Ok(self.view(server))
    }

    /// A follow-up task's deadline passed, as a step of the leased duty
    /// `duty`.
    pub async fn mark_follow_up_overdue(
        &self,
        account: &AccountId,
        id: &SourceServerId,
        task: &FollowUpTaskId,
        duty: Option<Fence>,
    ) -> Result<Arc<SourceServer>, Failure> {
        self.owner_command::<SourceServer>(account, id, duty, |current, now| {
            current.mark_follow_up_overdue(task, now)
        })
        .await
    }
}
