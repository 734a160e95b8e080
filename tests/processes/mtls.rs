//! Mutual TLS alone authenticates: a client certificate's identity (a
//! subject alternative name, or the subject's common name) maps to an
//! account through `--client-identities-file`, with no bearer token, and
//! tenants stay apart as they do with tokens.

use cutover::pb::v1::{
    account_service_client::AccountServiceClient,
    source_server_service_client::SourceServerServiceClient, DescribeSourceServersRequest,
    GetSourceServerRequest, InitializeServiceRequest, RegisterSourceServerRequest,
};
use cutover_testkit::*;
use tonic::{transport::Channel, Code};

const TEAM_A: &str = "111122223333";
const TEAM_B: &str = "444455556666";

async fn register_with(
    client: &mut SourceServerServiceClient<Channel>,
) -> Result<String, tonic::Status> {
    client
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .map(|reply| reply.into_inner().source_server_id)
}

#[tokio::test]
async fn a_client_certificate_alone_authenticates_its_account_and_tenants_stay_apart() {
    let pki = Pki::new();
    let identities = pki.write(
        "identities.txt",
        &format!(
            "# identity -> account\nuri:spiffe://migration.example/team-a {TEAM_A}\n\
             cn:Team B runner {TEAM_B}\n"
        ),
    );
    let server = pki.server(true, &["--client-identities-file", &identities]);
    let team_a = pki
        .channel(
            &server,
            Some(&pki.client_cert(Subject::Uri("spiffe://migration.example/team-a"))),
        )
        .await
        .expect("team A connects");
    let team_b = pki
        .channel(
            &server,
            Some(&pki.client_cert(Subject::CommonName("Team B runner"))),
        )
        .await
        .expect("team B connects");
    let stranger = pki
        .channel(
            &server,
            Some(&pki.client_cert(Subject::Dns("stranger.example"))),
        )
        .await
        .expect("a certificate from the CA connects");

    // Team A is its account: uninitialised until it says so.
    let mut servers_a = SourceServerServiceClient::new(team_a.clone());
    let refused = register_with(&mut servers_a)
        .await
        .expect_err("uninitialised");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    for channel in [&team_a, &team_b] {
        AccountServiceClient::new(channel.clone())
            .initialize_service(InitializeServiceRequest::default())
            .await
            .expect("InitializeService");
    }
    let id = register_with(&mut servers_a)
        .await
        .expect("team A registers");
    let mine = servers_a
        .get_source_server(GetSourceServerRequest {
            source_server_id: id.clone(),
        })
        .await
        .expect("team A reads its server")
        .into_inner();
    assert!(mine.arn.contains(TEAM_A), "{}", mine.arn);

    // Team B sees none of it.
    let mut servers_b = SourceServerServiceClient::new(team_b);
    let hidden = servers_b
        .get_source_server(GetSourceServerRequest {
            source_server_id: id.clone(),
        })
        .await
        .expect_err("another account's server");
    assert_eq!(hidden.code(), Code::NotFound);
    let listed = servers_b
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner();
    assert!(listed.items.is_empty());

    // A certificate the CA issued but the file does not map: refused.
    let refused = register_with(&mut SourceServerServiceClient::new(stranger))
        .await
        .expect_err("no account for it");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let tokens = TokensFile::new(&[("secret-a", TEAM_A)]);
    let server = TestServer::start(&["--no-simulator", "--tokens-file", tokens.path()]);
    let channel = server.channel().await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let mut request = tonic::Request::new(InitializeServiceRequest::default());
        request.metadata_mut().insert(
            "authorization",
            format!("{scheme} secret-a").parse().expect("ascii"),
        );
        AccountServiceClient::new(channel.clone())
            .initialize_service(request)
            .await
            .unwrap_or_else(|status| panic!("{scheme}: {status:?}"));
    }
}
