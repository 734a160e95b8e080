//! Tokens a client sends back: page tokens only resume a genuine listing,
//! and a client token replays its own request and refuses any other, until
//! it is forgotten after its retention.

use std::collections::BTreeMap;

use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, DescribeReplicationJobsRequest,
    DescribeSourceServersRequest, DisconnectFromServiceRequest, LifeCycleState,
    RegisterSourceServerRequest,
};
use tonic::transport::Channel;

use cutover_testkit::{
    eventually, expect_conflict, expect_violation, state_of, TestServer, DEADLINE,
};

use super::{
    api::{refuse_each, Api},
    NO_SIMULATOR,
};

/// A one-server page of the server listing, resumed at `next_token`.
fn page_of_one(next_token: String) -> DescribeSourceServersRequest {
    DescribeSourceServersRequest {
        max_results: 1,
        next_token,
        ..Default::default()
    }
}

#[tokio::test]
async fn page_tokens_and_client_tokens_are_checked() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;
    for _ in 0..3 {
        api.new_server().await;
    }
    let page = |token: String| api.describe_servers(page_of_one(token));
    let first = page(String::new()).await.expect("first page").into_inner();
    let token = first.next_token;
    assert!(!token.is_empty());
    let second = page(token.clone())
        .await
        .expect("genuine token")
        .into_inner();
    assert_eq!(second.items.len(), 1);
    assert!(first.items[0].source_server_id < second.items[0].source_server_id);

    // Every single-character change to a real token is refused, and so is
    // garbage.
    let tampered = token.char_indices().map(|(index, c)| {
        let mut tampered = token.clone();
        let replacement = if c == 'A' { "B" } else { "A" };
        tampered.replace_range(index..index + c.len_utf8(), replacement);
        tampered
    });
    let garbage = [
        "garbage".to_owned(),
        "not.a.token".to_owned(),
        ".".to_owned(),
        "!!!".to_owned(),
        format!("{token}A"),
        token[..token.len() - 1].to_owned(),
        token.replace('.', ""),
        "x".repeat(10_000),
    ];
    refuse_each(
        |request| api.describe_servers(request),
        tampered
            .chain(garbage)
            .map(|bad| ("next_token", page_of_one(bad))),
    )
    .await;
    refuse_each(
        |request| api.describe_jobs(request),
        [(
            "next_token",
            DescribeReplicationJobsRequest {
                next_token: "garbage".into(),
                ..Default::default()
            },
        )],
    )
    .await;

    // Client tokens: a retry replays, another request with the same token
    // is refused, also on another RPC.
    let tagged = |value: &str| RegisterSourceServerRequest {
        client_token: "register-1".into(),
        tags: BTreeMap::from([("wave".to_owned(), value.to_owned())]),
        ..Default::default()
    };
    let created = api.register(tagged("1")).await.expect("first").into_inner();
    let id = created.source_server_id;
    let replayed = api.register(tagged("1")).await.expect("retry").into_inner();
    assert_eq!(replayed.source_server_id, id);
    let too_long = RegisterSourceServerRequest {
        client_token: "t".repeat(65),
        ..Default::default()
    };
    refuse_each(
        |request| api.register(request),
        [("client_token", tagged("2")), ("client_token", too_long)],
    )
    .await;
    let disconnect = |token: &str| {
        let mut servers = api.servers.clone();
        let request = DisconnectFromServiceRequest {
            source_server_id: id.clone(),
            client_token: token.into(),
        };
        async move { servers.disconnect_from_service(request).await }
    };
    let status = disconnect("register-1")
        .await
        .expect_err("same token, other RPC");
    expect_violation(status, "client_token");
    assert_eq!(
        api.list_servers(&[]).await.len(),
        4,
        "the retry and the refusals registered nothing"
    );
    let stored = api.server(&id).await;
    assert_eq!(stored.tags.get("wave").map(String::as_str), Some("1"));
    assert_eq!(state_of(&stored), Some(LifeCycleState::PendingInstallation));

    // Disconnect with a token twice is a replay, without a token a conflict.
    disconnect("disconnect-1").await.expect("disconnect");
    disconnect("disconnect-1")
        .await
        .expect("replayed disconnect");
    let status = disconnect("").await.expect_err("disconnect again");
    expect_conflict(status, &id, "DISCONNECTED");
}

#[tokio::test]
async fn a_client_token_is_forgotten_after_its_retention() {
    let server = TestServer::in_process(&[
        "--no-simulator",
        "--client-token-retention-seconds",
        "1",
        "--compaction-interval-ms",
        "100",
    ]);
    let client = server.servers().await;
    let register = |client: &SourceServerServiceClient<Channel>| {
        let mut client = client.clone();
        async move {
            client
                .register_source_server(RegisterSourceServerRequest {
                    client_token: "wave-1-registration".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("register")
                .into_inner()
                .source_server_id
        }
    };
    let first = register(&client).await;
    assert_eq!(register(&client).await, first, "a retry replays");
    let later = eventually(DEADLINE, "the token to be forgotten", || {
        let call = register(&client);
        let first = first.clone();
        async move {
            let id = call.await;
            (id != first).then_some(id)
        }
    })
    .await;
    assert_ne!(later, first, "once forgotten, the token makes a new call");
}
