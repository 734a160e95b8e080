//! The production surface: TLS and mutual TLS, message limits,
//! secure-by-default listening, the metrics endpoint and the config file
//! (grpc-web is in `grpc_web.rs`).

use std::process::Command;

use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, GetSourceServerRequest,
    RegisterSourceServerRequest,
};
use cutover_testkit::*;
use tempfile::TempDir;
use tonic::{transport::Channel, Code};

/// Asserts that a call was refused below gRPC, by the TLS layer: its code
/// is one tonic gives a transport failure, which one depending on what the
/// client had read when the connection went (the TLS alert: UNKNOWN; a TLS
/// record read as an HTTP/2 frame: INTERNAL; the closed connection:
/// CANCELLED or UNAVAILABLE), and it carries no `x-request-id`, which the
/// service puts on every answer, errors included: the call never reached
/// it.
fn assert_refused_by_tls(status: &tonic::Status) {
    assert!(
        [
            Code::Unknown,
            Code::Internal,
            Code::Cancelled,
            Code::Unavailable
        ]
        .contains(&status.code()),
        "a transport failure's code: {status:?}"
    );
    assert!(
        status.metadata().get("x-request-id").is_none(),
        "the service never answered: {status:?}"
    );
}

#[tokio::test]
async fn tls_serves_clients_that_trust_the_ca_and_refuses_plaintext() {
    let pki = Pki::new();
    let server = pki.server(false, &[]);
    let mut client =
        SourceServerServiceClient::new(pki.channel(&server, None).await.expect("TLS connect"));
    let id = register(&mut client).await;
    assert_eq!(get_server(&mut client, &id).await.source_server_id, id);

    let plaintext = Channel::from_shared(server.endpoint.clone())
        .expect("uri")
        .connect()
        .await;
    // Refused either before any call (the connection fails) or at the call.
    if let Ok(channel) = plaintext {
        let status = SourceServerServiceClient::new(channel)
            .get_source_server(GetSourceServerRequest {
                source_server_id: id,
            })
            .await
            .expect_err("a plaintext client must not be served");
        assert_refused_by_tls(&status);
    }
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let pki = Pki::new();
    let server = pki.server(true, &[]);
    let cert = pki.client_cert(Subject::Dns("migration-team.example"));
    let channel = pki
        .channel(&server, Some(&cert))
        .await
        .expect("mTLS connect");
    register(&mut SourceServerServiceClient::new(channel)).await;
    // Refused either in the handshake (the connection fails) or, with TLS
    // 1.3, where the client finishes first, at the call.
    if let Ok(channel) = pki.channel(&server, None).await {
        let status = SourceServerServiceClient::new(channel)
            .register_source_server(RegisterSourceServerRequest::default())
            .await
            .expect_err("a client without a certificate must be refused");
        assert_refused_by_tls(&status);
    }
}

#[tokio::test]
async fn an_oversize_request_is_resource_exhausted_and_harmless() {
    let server = TestServer::start(&["--no-simulator", "--max-message-bytes", "65536"]);
    let mut client = server.servers().await;
    let tags = (0..40)
        .map(|i| (format!("k{i}"), "v".repeat(2000)))
        .collect();
    let status = client
        .register_source_server(RegisterSourceServerRequest {
            tags,
            ..Default::default()
        })
        .await
        .expect_err("oversize");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let id = register(&mut client).await;
    assert_eq!(
        get_server(&mut client, &id).await.source_server_id,
        id,
        "the server goes on serving"
    );
}

/// Runs `cutoverd ARGS`, which must refuse to start; returns its stderr.
fn refused_start(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
        .args(args)
        .output()
        .expect("run cutoverd");
    assert!(!output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn an_exposed_address_without_authentication_is_refused_unless_insecure() {
    let dir = TempDir::new().expect("dir");
    let data_dir = dir.path().to_str().expect("utf-8");
    let refused = refused_start(&[
        "--listen",
        "0.0.0.0:0",
        "--no-simulator",
        "--data-dir",
        data_dir,
    ]);
    assert!(refused.contains("without authentication"), "{refused}");

    let server = TestServer::start_in(
        dir.path(),
        &["--listen", "0.0.0.0:0", "--insecure", "--no-simulator"],
    );
    assert!(server.addr.starts_with("0.0.0.0:"), "{}", server.addr);
}

#[tokio::test]
async fn the_config_file_sets_defaults_that_flags_override() {
    let dir = TempDir::new().expect("dir");
    let config = dir.path().join("cutover.toml");
    std::fs::write(
        &config,
        "partition = \"aws-cn\"\nregion = \"cn-north-1\"\nno-simulator = true\n",
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");
    let server = TestServer::start(&["--config", config, "--region", "cn-northwest-1"]);
    let mut client = server.servers().await;
    let id = register(&mut client).await;
    let arn = get_server(&mut client, &id).await.arn;
    assert!(arn.starts_with("arn:aws-cn:mgn:cn-northwest-1:"), "{arn}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "no_such_option = 1\n").expect("write");
    let refused = refused_start(&["--config", bad.to_str().expect("utf-8")]);
    assert!(refused.contains("unknown option"), "{refused}");
}

#[tokio::test]
async fn prometheus_metrics_count_calls_errors_watchers_events_and_tasks() {
    let server = TestServer::start(&["--no-simulator", "--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics_addr.clone().expect("metrics address");
    let mut client = server.servers().await;
    register(&mut client).await;
    client
        .get_source_server(GetSourceServerRequest {
            source_server_id: "s-00000000000000000".into(),
        })
        .await
        .expect_err("missing");
    let mut lifecycle = server.lifecycle().await;
    let _watch = lifecycle
        .watch_lifecycle_events(cutover::pb::v1::WatchLifecycleEventsRequest::default())
        .await
        .expect("watch");
    let page = eventually(DEADLINE, "metrics to reflect the calls", || {
        let metrics = metrics.clone();
        async move {
            let page = http1(&metrics, "GET /metrics HTTP/1.1", &[]);
            (page.contains("cutover_open_watchers 1")
                && page.contains("cutover_events_committed_total 1"))
            .then_some(page)
        }
    })
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains(
            r#"cutover_requests_total{wire="grpc",operation="RegisterSourceServer",code="OK"} 1"#
        ),
        "{page}"
    );
    assert!(page.contains(r#"cutover_request_errors_total{wire="grpc",operation="GetSourceServer",code="NOT_FOUND"} 1"#), "{page}");
    assert!(
        page.contains("cutover_request_duration_seconds_count"),
        "{page}"
    );
    assert!(page.contains("cutover_follow_up_tasks_pending 0"), "{page}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_of_the_call() {
    let mut server =
        TestServer::start_logging(&["--no-simulator", "--log-format", "json"], "cutover=debug");
    let status = server
        .servers()
        .await
        .get_source_server(GetSourceServerRequest {
            source_server_id: "s-00000000000000000".into(),
        })
        .await
        .expect_err("missing");
    let request_id = request_id_header(status.metadata());
    let logs = server.kill_and_read_logs();
    let line = logs
        .lines()
        .find(|line| line.contains("call finished") && line.contains(&request_id))
        .unwrap_or_else(|| panic!("no log line of request {request_id} in:\n{logs}"));
    let json: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
    assert_eq!(json["span"]["request_id"], request_id.as_str(), "{json}");
    assert_eq!(
        json["span"]["path"], "/cutover.v1.SourceServerService/GetSourceServer",
        "{json}"
    );
}

#[tokio::test]
async fn the_agent_api_requires_a_token_too() {
    use cutover::pb::v1::{
        agent_service_client::AgentServiceClient, ReceiveCommandsRequest, ReportReplicationRequest,
    };
    let tokens = TokensFile::new(&[("t", "123456789012")]);
    let server = TestServer::start(&["--no-simulator", "--tokens-file", tokens.path()]);
    let mut agents = AgentServiceClient::new(server.channel().await);
    let report = agents
        .report_replication(ReportReplicationRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(report.code(), Code::Unauthenticated);
    let commands = agents
        .receive_commands(ReceiveCommandsRequest {
            source_server_id: "s-00000000000000000".into(),
            ..Default::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(commands.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn on_shutdown_every_service_turns_not_serving_before_the_streams_end() {
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    let server = TestServer::start(&["--no-simulator"]);
    let services = [
        "",
        "cutover.v1.AccountService",
        "cutover.v1.SourceServerService",
        "cutover.v1.ReplicationJobService",
        "cutover.v1.LifecycleService",
        "cutover.v1.AgentService",
    ];
    let mut watches = Vec::new();
    for service in services {
        let mut stream = HealthClient::new(server.channel().await)
            .watch(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("Health/Watch")
            .into_inner();
        let first = stream.message().await.expect("status").expect("open");
        assert_eq!(first.status, ServingStatus::Serving as i32, "{service:?}");
        watches.push((service, stream));
    }
    server.terminate();
    for (service, mut stream) in watches {
        let next = tokio::time::timeout(DEADLINE, stream.message())
            .await
            .expect("a status before the deadline");
        let status = next.ok().flatten().map(|m| m.status);
        assert_eq!(
            status,
            Some(ServingStatus::NotServing as i32),
            "{service:?} told its watchers before closing"
        );
    }
}

/// systemd socket activation: the service manager holds the socket, so a
/// call made while the server restarts waits in the socket's backlog and
/// is answered by the next process, never refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_socket_passed_by_the_service_manager_outlives_a_restart() {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dir = TempDir::new().expect("dir");
    let mut server = TestServer::start_on(&socket, dir.path(), &["--no-simulator"]);
    let address = socket.local_addr().expect("addr").to_string();
    assert_eq!(server.addr, address, "the passed socket is served");
    let id = register(&mut server.servers().await).await;

    server.stop();
    let connected = tokio::time::timeout(DEADLINE, server.channel()).await;
    let mut client = SourceServerServiceClient::new(connected.expect("the kernel accepts"));
    let wanted = id.clone();
    let call = tokio::spawn(async move { get_server(&mut client, &wanted).await });
    let _restarted = TestServer::start_on(&socket, dir.path(), &["--no-simulator"]);
    let answered = tokio::time::timeout(DEADLINE, call).await;
    let server = answered.expect("answered").expect("the call");
    assert_eq!(server.source_server_id, id, "served from the same store");
}
