//! Use cases of source servers (MGN): registration, queries, the lifecycle
//! operations, and the data plane's reports.

use std::sync::Arc;

use rand::thread_rng;

use super::{
    aggregate::Aggregate,
    requests::{ChangeServerLifeCycleState, DescribeSourceServers, LaunchServers},
    write_loop::{Mutated, Recorded},
    ClientToken, ControlPlane, Failure, Page, Tenant,
};
use crate::{
    domain::{
        source_server::{self, Launch, Registration},
        AccountId, DomainError, Ec2InstanceId, FollowUpTaskId, LaunchJobId, SourceServer,
        SourceServerId, SourceState, Timestamp, Transition,
    },
    store::{Fence, ServerEntry, WriteBatch},
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

    /// The caller's view of a server as a mutation left it: with the state
    /// its commit recorded, or, for a replayed client token, the state the
    /// read model gives it now.
    fn view(&self, server: Arc<SourceServer>, recorded: &Recorded) -> ServerView {
        let source_state = recorded.source_state(&server.id).unwrap_or_else(|| {
            let running = self
                .store
                .read_model()
                .source_server(&server.account_id, &server.id)
                .is_some_and(|entry| entry.has_running_job);
            self.source_state(&server, running)
        });
        ServerView {
            arn: self.arn(&server),
            source_state,
            server,
        }
    }

    /// [`ControlPlane::view`] of what a command on one server answered.
    fn command_view(&self, mutated: Mutated<Arc<SourceServer>>) -> ServerView {
        let (server, recorded) = mutated.split();
        self.view(server, &recorded)
    }

    /// RegisterSourceServer: a new server in PENDING_INSTALLATION.
    pub async fn register_source_server(
        &self,
        caller: &Tenant,
        registration: Registration,
        token: Option<&ClientToken>,
    ) -> Result<ServerView, Failure> {
        let registration = &registration;
        let mutated = self
            .mutate(caller, token, move || async move {
                let id = SourceServerId::generate(&mut thread_rng());
                let change = source_server::register(
                    caller.account_id.clone(),
                    id,
                    registration.clone(),
                    self.now(),
                )?;
                let server = change.resource.clone();
                // A new server has no job, running or not.
                let batch = self.server_chain(vec![change], None, false);
                Ok((batch, server))
            })
            .await?;
        Ok(self.command_view(mutated.map(Arc::new)))
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
        let (servers, recorded) = self
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
                    let change = start(current.server.value.as_ref(), launch, now)?;
                    launched.push(change.resource.clone());
                    batch
                        .writes
                        .push(SourceServer::write(self, &current, change));
                }
                Ok((batch, launched))
            })
            .await?
            .split();
        servers
            .into_iter()
            .map(|server| self.launch_outcome(Arc::new(server), &recorded))
            .collect()
    }

    fn launch_outcome(
        &self,
        server: Arc<SourceServer>,
        recorded: &Recorded,
    ) -> Result<LaunchOutcome, Failure> {
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
            server: self.view(server, recorded),
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
        Ok(self.command_view(server))
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
        Ok(self.command_view(server))
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
        Ok(self.command_view(server))
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
        Ok(self.command_view(server))
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
