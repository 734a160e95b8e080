//! Client tokens recorded by the release before outcomes moved to the
//! storage codec (`tests/fixtures/json-tokens-schema6.db`), replayed through
//! the use cases after the upgrade: each retry gets the first call's
//! answer and changes nothing, and another request with the token is
//! refused.

use std::sync::Arc;

use super::{
    harness::{create_job, launch},
    requests::{JobSpecInput, ScheduleInput},
    Caller, ClientToken, ControlPlane, Failure, ManualClock, Settings, Tenant,
};
use crate::{
    domain::{
        agent_command::{Acknowledgement, CommandOutcome, CommandRef},
        source_server::Registration,
        DomainError, ReplicationJob, SourceServer, Timestamp,
    },
    store::{
        fixtures::{json_tokens, JSON_TOKENS_FIXTURE},
        IdempotencyRecord, Outcome, SqliteStore,
    },
};

/// The upgraded fixture's control plane, its caller, and the tokens as
/// that release recorded them.
struct Upgraded {
    plane: ControlPlane,
    tenant: Tenant,
    tokens: Vec<IdempotencyRecord>,
    _dir: tempfile::TempDir,
}

impl Upgraded {
    async fn open() -> Upgraded {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cutover.db");
        std::fs::copy(JSON_TOKENS_FIXTURE, &path).expect("copy the fixture");
        let tokens = json_tokens(&path);
        let store = SqliteStore::open(&path).expect("the upgrade succeeds");
        let plane = ControlPlane::new(
            Arc::new(store),
            Arc::new(ManualClock::new(Timestamp(1_800_000_000_000))),
            Settings::default(),
        );
        let caller = Caller {
            account_id: tokens[0].account_id.clone(),
        };
        let tenant = plane
            .tenant(caller)
            .await
            .expect("the account was initialised");
        Upgraded {
            plane,
            tenant,
            tokens,
            _dir: dir,
        }
    }

    fn recorded(&self, token: &str) -> &IdempotencyRecord {
        self.tokens
            .iter()
            .find(|t| t.token == token)
            .expect("a fixture token")
    }

    /// `token` as the first call sent it (`same`), or with another request.
    fn token(&self, token: &str, same: bool) -> ClientToken {
        let fingerprint = match same {
            true => self.recorded(token).fingerprint.clone(),
            false => "another request".to_owned(),
        };
        ClientToken::new(token, fingerprint)
            .expect("a valid token")
            .expect("not empty")
    }

    fn server(&self, token: &str) -> SourceServer {
        match &self.recorded(token).outcome {
            Outcome::SourceServer(server) => SourceServer::clone(server),
            other => panic!("{token} recorded {other:?}"),
        }
    }
}

fn refused<T: std::fmt::Debug>(result: Result<T, Failure>) {
    match result {
        Err(Failure::Refused(DomainError::Validation(violations))) => {
            assert_eq!(violations[0].field, "client_token", "{violations:?}");
        }
        other => panic!("expected a refusal of the token, got {other:?}"),
    }
}

#[tokio::test]
async fn recorded_json_tokens_replay_their_first_answer_after_the_upgrade() {
    let up = Upgraded::open().await;
    let (plane, tenant) = (&up.plane, &up.tenant);
    let head = plane.store.read_model().revision();
    let registered = up.server("register-1");
    let finalized = up.server("finalize-1");
    let launched = match &up.recorded("start-test-1").outcome {
        Outcome::SourceServers(servers) => servers.clone(),
        other => panic!("start-test-1 recorded {other:?}"),
    };
    let job: ReplicationJob = match &up.recorded("create-job-1").outcome {
        Outcome::ReplicationJob(job) => ReplicationJob::clone(job),
        other => panic!("create-job-1 recorded {other:?}"),
    };
    let a = registered.id.clone();
    let b = job.source_id.clone();

    let register = |same| {
        let token = up.token("register-1", same);
        async move {
            plane
                .register_source_server(tenant, Registration::default(), Some(&token))
                .await
        }
    };
    let view = register(true).await.expect("the replay");
    assert_eq!(*view.server, registered);
    refused(register(false).await);

    let start_test = |same| {
        let token = up.token("start-test-1", same);
        let servers = launch(&[&a]);
        async move { plane.start_test(tenant, &servers, Some(&token)).await }
    };
    let outcomes = start_test(true).await.expect("the replay");
    let servers: Vec<SourceServer> = outcomes
        .iter()
        .map(|o| SourceServer::clone(&o.server.server))
        .collect();
    assert_eq!(servers, launched);
    refused(start_test(false).await);

    let finalize = |same| {
        let token = up.token("finalize-1", same);
        let a = a.clone();
        async move { plane.finalize_cutover(tenant, &a, Some(&token)).await }
    };
    assert_eq!(*finalize(true).await.expect("the replay").server, finalized);
    refused(finalize(false).await);

    let task = &finalized.follow_up_tasks[0].id;
    let command = CommandRef::parse("command_id", &format!("{a}/{task}")).expect("a command id");
    let acknowledge = |same| {
        let token = up.token("ack-1", same);
        let command = command.clone();
        async move {
            let ack = Acknowledgement {
                progress: 100.0,
                outcome: Some(CommandOutcome::Succeeded),
            };
            plane
                .acknowledge_command(tenant, &command, ack, Some(&token))
                .await
        }
    };
    acknowledge(true).await.expect("the replay");
    refused(acknowledge(false).await);

    let create = |same| {
        let token = up.token("create-job-1", same);
        let request = create_job(
            &b,
            JobSpecInput {
                name: "wave-2",
                description: "",
                schedule: ScheduleInput::RunOnce,
            },
        );
        async move {
            plane
                .create_replication_job(tenant, &request, Some(&token))
                .await
        }
    };
    assert_eq!(create(true).await.expect("the replay"), job.id);
    refused(create(false).await);

    // Replays answer from the record: nothing was committed.
    assert_eq!(plane.store.read_model().revision(), head);
}
