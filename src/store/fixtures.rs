//! Builders of resources and writes shared by the store's tests.

use std::collections::BTreeMap;

use crate::domain::{
    source_server::{self, Registration},
    AccountId, BusinessStatus, JobSchedule, ReplicationJob, ReplicationJobId, ReplicationJobStatus,
    Resource, SourceServer, SourceServerId, Timestamp, Transition,
};
use crate::store::{ResourceWrite, WriteBatch};

pub(crate) fn account(n: u64) -> AccountId {
    AccountId::parse("account", &format!("{n:012}")).expect("valid account id")
}

pub(crate) fn sid(n: u64) -> SourceServerId {
    SourceServerId::parse("id", &format!("s-{n:017}")).expect("valid source server id")
}

pub(crate) fn jid(n: u64) -> ReplicationJobId {
    ReplicationJobId::parse("id", &format!("j-{n:020}")).expect("valid job id")
}

/// Server `n` of `acct` as registration leaves it, tagged `n`.
pub(crate) fn server(acct: &AccountId, n: u64) -> SourceServer {
    let registration = Registration {
        tags: BTreeMap::from([("n".to_owned(), n.to_string())]),
        ..Registration::default()
    };
    source_server::register(acct.clone(), sid(n), registration, Timestamp(1))
        .expect("a valid registration")
        .resource
}

pub(crate) fn job(
    acct: &AccountId,
    n: u64,
    source: u64,
    status: ReplicationJobStatus,
) -> ReplicationJob {
    ReplicationJob {
        account_id: acct.clone(),
        id: jid(n),
        source_id: sid(source),
        name: format!("job {n}"),
        description: String::new(),
        status,
        business_status: (status == ReplicationJobStatus::Running)
            .then_some(BusinessStatus::Syncing),
        progress: 12.5,
        error_code: None,
        status_info: String::new(),
        schedule: JobSchedule::Incremental {
            frequency_hours: 12,
            max_images: 3,
        },
        created: Timestamp(1),
        started: None,
        ended: None,
        current_run: None,
        runs: Vec::new(),
        image_ids: Vec::new(),
        cycles: 0,
        next_run: None,
        cut_over: None,
    }
}

pub(crate) fn server_write(s: SourceServer, expected_version: Option<u64>) -> ResourceWrite {
    let t = Transition::of_server(None, s, Timestamp(1));
    ResourceWrite {
        resource: Resource::SourceServer(t.resource),
        expected_version,
        event: t.event,
    }
}

pub(crate) fn job_write(j: ReplicationJob, expected_version: Option<u64>) -> ResourceWrite {
    let t = Transition::of_job(None, j, Timestamp(1));
    ResourceWrite {
        resource: Resource::ReplicationJob(t.resource),
        expected_version,
        event: t.event,
    }
}

pub(crate) fn batch(writes: Vec<ResourceWrite>) -> WriteBatch {
    WriteBatch {
        writes,
        idempotency: None,
        agent_instance: None,
        fence: None,
    }
}

/// The committed event of `resource` at `revision`, as the read model is
/// fed it.
pub(crate) fn event(revision: u64, resource: Resource) -> crate::domain::LifecycleEvent {
    let pending = match resource.clone() {
        Resource::SourceServer(s) => Transition::of_server(None, s, Timestamp(1)).event,
        Resource::ReplicationJob(j) => Transition::of_job(None, j, Timestamp(1)).event,
    };
    crate::domain::LifecycleEvent {
        revision,
        event: pending,
        resource,
    }
}
