//! ConflictException naming the current state: MGN calls a server's
//! lifecycle state does not allow, and SMC's SourceServerState.Invalid
//! for a job of a server no agent reports for.

use cutover::pb::v1::LifeCycleState;

use cutover_testkit::{archive, expect_conflict, state_of, TestServer};

use super::{
    api::{Api, Call},
    expect_invalid_source, NO_SIMULATOR,
};

#[tokio::test]
async fn conflicts_name_the_current_state() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let id = api.new_server().await;
    let conflict = |state: &'static str| {
        let id = id.clone();
        move |status| {
            expect_conflict(status, &id, state);
        }
    };

    // Test, cutover, readiness and archival of a pending server.
    let pending = [
        Call::FinalizeCutover,
        Call::StartTest,
        Call::StartCutover,
        Call::ChangeState(LifeCycleState::ReadyForCutover),
        Call::ChangeState(LifeCycleState::ReadyForTest),
        Call::Archive,
    ];
    api.refuse_each(&pending, &id, conflict("PENDING_INSTALLATION"))
        .await;
    let stored = api.server(&id).await;
    assert_eq!(state_of(&stored), Some(LifeCycleState::PendingInstallation));
    assert!(!stored.is_archived);

    // A job needs an Available source: a server no agent has reported for
    // is Unavailable.
    let status = api.refused(Call::CreateJob, &id).await;
    expect_invalid_source(status, &id, "Unavailable", &["Available"]);

    api.ok(Call::Disconnect, &id).await;
    let disconnected = [Call::Disconnect, Call::FinalizeCutover];
    api.refuse_each(&disconnected, &id, conflict("DISCONNECTED"))
        .await;
    let archived = archive(&mut api.servers.clone(), &id).await;
    assert!(
        archived.is_archived,
        "a disconnected server can be archived"
    );
    api.refuse_each(&[Call::StartTest], &id, conflict("DISCONNECTED"))
        .await;
}
