//! Use cases of replication jobs (SMC): creation, queries, start and stop,
//! the cutover, and the data plane's and scheduler's steps.

use std::sync::Arc;

use rand::thread_rng;

use super::{
    requests::{CreateReplicationJob, DescribeReplicationJobs, DescribeReplicationJobsByNumber},
    ClientToken, ControlPlane, Failure, Page, Tenant,
};
use crate::{
    domain::{
        replication_job, AccountId, DomainError, ReplicationJob, ReplicationJobId, Resource,
        SourceServer, SourceServerId, SourceState,
    },
    store::{Entry, Fence, WriteBatch},
};

/// One numbered page of a listing, and how many items match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedPage<T> {
    /// The page's items, in id order.
    pub items: Vec<T>,
    /// How many items match, on every page.
    pub total: usize,
}

/// CutOverReplicationJob's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCutOver {
    /// Run one last full sync first.
    pub sync_data: bool,
}

impl ControlPlane {
    /// SMC's view of a source server, for job preconditions; a server that
    /// cannot be found counts as Unavailable.
    fn job_source_state(&self, account: &AccountId, source: &SourceServerId) -> SourceState {
        match self.store.read_model().source_server(account, source) {
            Some(entry) => self.source_state(&entry.server.value, entry.has_running_job),
            None => SourceState::Unavailable,
        }
    }

    /// CreateReplicationJob: a job in Ready for an Available source server
    /// with no unfinished job. A server with an unfinished job counts as
    /// InUse here, whatever that job's status.
    pub async fn create_replication_job(
        &self,
        caller: &Tenant,
        request: &CreateReplicationJob,
        token: Option<&ClientToken>,
    ) -> Result<ReplicationJobId, Failure> {
        let (source_id, spec) = (request.source_id(), request.spec());
        let created = self
            .mutate(caller, token, move || async move {
                let account = &caller.account_id;
                let model = self.store.read_model();
                let source = self.load::<SourceServer>(account, source_id)?;
                let state = match model.unfinished_job(account, source_id) {
                    None => self.source_state(&source.server.value, source.has_running_job),
                    Some(_) => SourceState::InUse,
                };
                if state != SourceState::Available {
                    return Err(DomainError::SourceServerStateInvalid {
                        source_id: source_id.to_string(),
                        current: state,
                        allowed: vec![SourceState::Available],
                    }
                    .into());
                }
                let id = ReplicationJobId::generate(&mut thread_rng());
                let change = replication_job::create(
                    account.clone(),
                    id,
                    source_id.clone(),
                    spec.clone(),
                    self.now(),
                )?;
                let batch = WriteBatch::single(
                    Resource::ReplicationJob(change.resource.clone()),
                    None,
                    change.event,
                );
                Ok((batch, change.resource))
            })
            .await?;
        Ok(created.outcome.id)
    }

    /// GetReplicationJob.
    pub async fn get_replication_job(
        &self,
        caller: &Tenant,
        id: &ReplicationJobId,
    ) -> Result<Arc<ReplicationJob>, Failure> {
        Ok(self.load::<ReplicationJob>(&caller.account_id, id)?.value)
    }

    /// DescribeReplicationJobs: one page, ordered by id.
    pub async fn describe_replication_jobs(
        &self,
        caller: &Tenant,
        request: &DescribeReplicationJobs,
    ) -> Result<Page<Entry<ReplicationJob>>, Failure> {
        let account = &caller.account_id;
        let filter = request.filter();
        self.page(caller, filter, request.page(), |after, limit| {
            self.store
                .read_model()
                .list_replication_jobs(account, filter, after.as_ref(), limit)
                .items
        })
        .await
    }

    /// DescribeReplicationJobs as SMC pages it: one numbered page of the
    /// jobs `request` selects, with how many match in all, read at one
    /// revision. Costs in proportion to the matching jobs, not to the
    /// page: SMC's page numbers and total count need them all.
    pub fn replication_jobs_by_number(
        &self,
        caller: &Tenant,
        request: &DescribeReplicationJobsByNumber,
    ) -> NumberedPage<Arc<ReplicationJob>> {
        if request.on_unkept_attributes() {
            return NumberedPage {
                items: Vec::new(),
                total: 0,
            };
        }
        let name = request.name();
        let matching: Vec<Arc<ReplicationJob>> = self
            .store
            .read_model()
            .list_replication_jobs(&caller.account_id, request.filter(), None, usize::MAX)
            .items
            .into_iter()
            .map(|entry| entry.value)
            .filter(|job| name.is_none_or(|name| job.name == name))
            .collect();
        let page = request.page();
        NumberedPage {
            total: matching.len(),
            items: matching
                .into_iter()
                .skip(page.number().saturating_sub(1).saturating_mul(page.size()))
                .take(page.size())
                .collect(),
        }
    }

    /// StartReplicationJob. Checks, in this order: the job exists, its
    /// status allows a start, and its source is Available (SMC's
    /// `SourceServerState.Invalid` otherwise: a run of an unreachable
    /// source could only wedge).
    pub async fn start_replication_job(
        &self,
        caller: &Tenant,
        id: &ReplicationJobId,
        token: Option<&ClientToken>,
    ) -> Result<Arc<ReplicationJob>, Failure> {
        let started = self.command::<ReplicationJob>(caller, id, token, |job, now| {
            let change = job.start(now)?;
            self.require_source(job, &[SourceState::Available])?;
            Ok(change)
        });
        Ok(started.await?.outcome)
    }

    /// SourceServerState.Invalid unless `job`'s source is in one of
    /// `allowed` states.
    fn require_source(
        &self,
        job: &ReplicationJob,
        allowed: &[SourceState],
    ) -> Result<(), DomainError> {
        let state = self.job_source_state(&job.account_id, &job.source_id);
        if allowed.contains(&state) {
            return Ok(());
        }
        Err(DomainError::SourceServerStateInvalid {
            source_id: job.source_id.to_string(),
            current: state,
            allowed: allowed.to_vec(),
        })
    }

    /// StopReplicationJob.
    pub async fn stop_replication_job(
        &self,
        caller: &Tenant,
        id: &ReplicationJobId,
        token: Option<&ClientToken>,
    ) -> Result<Arc<ReplicationJob>, Failure> {
        let stopped = self.command::<ReplicationJob>(caller, id, token, |job, now| job.stop(now));
        Ok(stopped.await?.outcome)
    }

    /// CutOverReplicationJob. Checks, in the contract's order (§3): the job exists, it is
    /// Waiting, and (with `sync_data`) its source is reachable. The
    /// schedule is cancelled in the same commit.
    pub async fn cut_over_replication_job(
        &self,
        caller: &Tenant,
        id: &ReplicationJobId,
        cut_over: JobCutOver,
        token: Option<&ClientToken>,
    ) -> Result<Arc<ReplicationJob>, Failure> {
        let sync_data = cut_over.sync_data;
        let after = self.command::<ReplicationJob>(caller, id, token, |job, now| {
            let change = job.cut_over(sync_data, now)?;
            if sync_data {
                self.require_source(job, &[SourceState::Available, SourceState::InUse])?;
            }
            Ok(change)
        });
        Ok(after.await?.outcome)
    }

    /// The scheduler starts a due incremental run, as a step of the leased
    /// duty `duty`.
    pub async fn start_scheduled_run(
        &self,
        account: &AccountId,
        id: &ReplicationJobId,
        duty: Option<Fence>,
    ) -> Result<Arc<ReplicationJob>, Failure> {
        self.owner_command::<ReplicationJob>(account, id, duty, |job, now| {
            job.start_scheduled_run(now)
        })
        .await
    }
}
