//! Builders of resources and writes shared by the store's tests.

use std::collections::BTreeMap;

use crate::domain::{
    source_server::{self, Registration},
    AccountId, BusinessStatus, JobSchedule, ReplicationJob, ReplicationJobId, ReplicationJobStatus,
    Resource, SourceServer, SourceServerId, Timestamp, Transition,
};
use crate::store::{IdempotencyRecord, Outcome, ResourceWrite, WriteBatch};

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

/// A database written by the release before client token outcomes moved to
/// the storage codec (schema 6), with one token of each kind of answer;
/// `tests/fixtures/README.md` says how it was made.
pub(crate) const JSON_TOKENS_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/json-tokens-schema6.db"
);

/// The client tokens of the database at `path` (a copy of
/// [`JSON_TOKENS_FIXTURE`] not yet opened by this build), their outcomes
/// read with the serde form that release wrote, by what each call answered.
pub(crate) fn json_tokens(path: &std::path::Path) -> Vec<IdempotencyRecord> {
    let db = rusqlite::Connection::open(path).expect("the fixture opens");
    let mut stmt = db
        .prepare(
            "SELECT account_id, token, fingerprint, outcome, created_at FROM client_tokens
             ORDER BY token",
        )
        .expect("schema 6 has client_tokens");
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .expect("the tokens read");
    rows.map(|row| {
        let (account, token, fingerprint, json, created) = row.expect("a token row");
        let outcome = match token.as_str() {
            "register-1" | "finalize-1" => {
                Outcome::SourceServer(serde_json::from_str(&json).expect("a server"))
            }
            "start-test-1" => Outcome::SourceServers(serde_json::from_str(&json).expect("servers")),
            "create-job-1" => Outcome::ReplicationJob(serde_json::from_str(&json).expect("a job")),
            "ack-1" => {
                assert_eq!(json, "null");
                Outcome::Done
            }
            other => panic!("the fixture has no token {other}"),
        };
        IdempotencyRecord {
            account_id: AccountId::parse("account_id", &account).expect("an account"),
            token,
            fingerprint,
            outcome,
            created: Timestamp(created),
        }
    })
    .collect()
}
