//! Use cases of the data plane's agents: reports, the commands an agent
//! must run, and their acknowledgements.

use std::sync::Arc;

use rand::thread_rng;

use super::{ClientToken, ControlPlane, Failure, Tenant};
use crate::{
    domain::{
        agent_command::{
            follow_up_commands, job_command, Acknowledgement, AgentCommand, CommandOutcome,
            CommandRef,
        },
        source_server::{self, Registration, ReplicationReport},
        AccountId, AgentInstanceId, Executor, FollowUpTaskId, Millis, ReplicationJob, Resource,
        SourceServer, SourceServerId,
    },
    store::{AgentInstance, Fence, WriteBatch},
};

/// Who listens on a command stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listener {
    /// The replication agent of this source server.
    Agent(SourceServerId),
    /// The replication infrastructure of the caller's account: the target
    /// side, which tears down replication resources without the agent.
    Infrastructure,
}

impl ControlPlane {
    /// An agent's report. Without a server id, the report is about the
    /// server the agent's instance registered; an agent new to the service
    /// registers a server from the report's source facts, with the report
    /// applied, in one commit that also binds its instance to it. So a
    /// retried first report (its response lost) never registers a second
    /// server: the binding conflicts and the retry reports to the first.
    pub async fn agent_report(
        &self,
        caller: &Tenant,
        id: Option<&SourceServerId>,
        instance: Option<&AgentInstanceId>,
        report: ReplicationReport,
    ) -> Result<Arc<SourceServer>, Failure> {
        let report = &report;
        let server = self
            .mutate(caller, None, move || async move {
                let now = self.now();
                let known = match (id, instance) {
                    (Some(id), _) => Some(id.clone()),
                    (None, Some(instance)) => {
                        // The store answers once the read model holds the
                        // bound server.
                        self.store
                            .agent_instance(&caller.account_id, instance.as_str())
                            .await?
                    }
                    (None, None) => None,
                };
                // A known server is reported on at its stored version; a new
                // agent's server is registered first, in the same commit.
                let (mut transitions, current, expected, running, binding) = match known {
                    Some(id) => {
                        let loaded = self.load::<SourceServer>(&caller.account_id, &id)?;
                        let current = SourceServer::clone(&loaded.server.value);
                        let running = loaded.has_running_job;
                        (
                            Vec::new(),
                            current,
                            Some(loaded.server.version),
                            running,
                            None,
                        )
                    }
                    None => {
                        let registration = Registration {
                            source_properties: report.source_properties.clone().unwrap_or_default(),
                            ..Registration::default()
                        };
                        let id = SourceServerId::generate(&mut thread_rng());
                        let binding = instance.map(|instance| AgentInstance {
                            account_id: caller.account_id.clone(),
                            instance_id: instance.as_str().to_owned(),
                            server_id: id.clone(),
                        });
                        let created = source_server::register(
                            caller.account_id.clone(),
                            id,
                            registration,
                            now,
                        )?;
                        let current = created.resource.clone();
                        (vec![created], current, None, false, binding)
                    }
                };
                let reported = current.report_replication(report.clone(), now)?;
                let after = reported.resource.clone();
                transitions.push(reported);
                let mut batch = self.server_chain(transitions, expected, running);
                batch.agent_instance = binding;
                Ok((batch, after))
            })
            .await?;
        Ok(Arc::new(server.outcome))
    }

    /// The commands that `listener` must run now, derived from durable
    /// state: for a source server's agent, its pending follow-up tasks
    /// (the uninstall) and the data plane's step of a Running job; for the
    /// replication infrastructure, the target-side follow-up tasks (the
    /// teardowns) of every server of the caller's account.
    pub async fn pending_commands(
        &self,
        caller: &Tenant,
        listener: &Listener,
    ) -> Result<Vec<AgentCommand>, Failure> {
        let id = match listener {
            Listener::Agent(id) => id,
            Listener::Infrastructure => {
                let servers = self
                    .store
                    .read_model()
                    .awaiting_infrastructure(&caller.account_id);
                return Ok(servers
                    .iter()
                    .flat_map(|server| {
                        follow_up_commands(&server.value, Executor::ReplicationInfrastructure)
                    })
                    .collect());
            }
        };
        let server = self.load::<SourceServer>(&caller.account_id, id)?;
        let mut commands = follow_up_commands(&server.server.value, Executor::SourceAgent);
        // A source server has at most one unfinished job, so at most one
        // Running one; `job_command` derives nothing from other statuses.
        let job = self
            .store
            .read_model()
            .unfinished_job(&caller.account_id, id);
        commands.extend(job.and_then(|job| job_command(&job.value)));
        Ok(commands)
    }

    /// An agent acknowledges `command`: progress, or its outcome. The
    /// transitions it implies commit together; acknowledging a step that
    /// is no longer pending changes nothing.
    pub async fn acknowledge_command(
        &self,
        caller: &Tenant,
        command: &CommandRef,
        ack: Acknowledgement,
        token: Option<&ClientToken>,
    ) -> Result<(), Failure> {
        let ack = &ack;
        let scale = self.settings.time_scale;
        self.mutate(caller, token, move || async move {
            let now = self.now();
            let batch = match command {
                CommandRef::FollowUp { server, task } => {
                    let current = self.load::<SourceServer>(&caller.account_id, server)?;
                    let (running, current) = (current.has_running_job, current.server);
                    let pending = current
                        .value
                        .follow_up_tasks
                        .iter()
                        .any(|t| &t.id == task && t.is_pending());
                    let advances = current
                        .value
                        .follow_up_tasks
                        .iter()
                        .any(|t| &t.id == task && ack.progress > t.progress);
                    let transitions = match (&ack.outcome, pending) {
                        (Some(CommandOutcome::Succeeded), true) => {
                            vec![current.value.complete_follow_up(task, now)?]
                        }
                        (None, true) if advances && ack.progress < 100.0 => {
                            vec![current.value.record_follow_up_progress(
                                task,
                                ack.progress,
                                now,
                            )?]
                        }
                        _ => Vec::new(),
                    };
                    self.server_chain(transitions, Some(current.version), running)
                }
                CommandRef::JobStep { job, .. } => {
                    let current = self.load::<ReplicationJob>(&caller.account_id, job)?;
                    let transitions = current.value.acknowledge(command, ack, scale, now)?;
                    WriteBatch::chain(transitions, Some(current.version), Resource::ReplicationJob)
                }
            };
            // An acknowledgement answers nothing but success.
            Ok((batch, ()))
        })
        .await?;
        Ok(())
    }

    /// Records one more delivery of a follow-up task; returns its attempt
    /// count. A task that is no longer pending is left as it is.
    pub async fn record_follow_up_delivery(
        &self,
        caller: &Tenant,
        server: &SourceServerId,
        task: &FollowUpTaskId,
    ) -> Result<u32, Failure> {
        let after = self
            .command::<SourceServer>(caller, server, None, |current, now| {
                current.record_follow_up_delivery(task, now)
            })
            .await?
            .outcome;
        Ok(after
            .follow_up_tasks
            .iter()
            .find(|t| &t.id == task)
            .map_or(0, |t| t.attempts))
    }

    /// Replication of a server whose agent fell silent becomes STALLED, as
    /// a step of the leased duty `duty`.
    pub async fn mark_stalled(
        &self,
        account: &AccountId,
        server: &SourceServerId,
        duty: Option<Fence>,
    ) -> Result<Arc<SourceServer>, Failure> {
        let silence = self.agent_silence();
        self.owner_command::<SourceServer>(account, server, duty, |current, now| {
            current.mark_stalled(silence, now)
        })
        .await
    }

    /// How long an agent may be silent before replication is STALLED,
    /// after time compression.
    pub fn agent_silence(&self) -> Millis {
        self.settings
            .time_scale
            .compress(self.settings.agent_silence)
    }
}
