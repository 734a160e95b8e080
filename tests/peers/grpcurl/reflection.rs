//! What reflection shows: the services, their methods and health, the
//! descriptors of the cutover calls, and grpcurl's own version.

use std::{path::Path, process::Command};

use cutover_testkit::TestServer;

use super::{call, grpcurl, grpcurl_ok, text, JOBS, QUIET, SERVERS};

#[test]
fn list_shows_the_services_health_and_reflection() {
    let server = TestServer::start(QUIET);
    let listed = grpcurl_ok(&[&server.addr, "list"]);
    let services: Vec<&str> = listed.lines().map(str::trim).collect();
    for service in [
        "cutover.v1.AccountService",
        "cutover.v1.AgentService",
        "cutover.v1.LifecycleService",
        "cutover.v1.ReplicationJobService",
        "cutover.v1.SourceServerService",
        "grpc.health.v1.Health",
    ] {
        assert!(services.contains(&service), "{service} in {services:?}");
    }
    assert!(
        services.iter().any(|s| s.starts_with("grpc.reflection.")),
        "reflection in {services:?}"
    );
    assert_eq!(
        services
            .iter()
            .filter(|s| s.starts_with("cutover.v1."))
            .count(),
        5,
        "{services:?}"
    );

    let methods = grpcurl_ok(&[&server.addr, "list", SERVERS]);
    for method in [
        "RegisterSourceServer",
        "GetSourceServer",
        "DescribeSourceServers",
        "StartTest",
        "ChangeServerLifeCycleState",
        "StartCutover",
        "FinalizeCutover",
        "DisconnectFromService",
        "MarkAsArchived",
    ] {
        let full = format!("{SERVERS}.{method}");
        assert!(
            methods.lines().any(|l| l.trim() == full),
            "{full} in\n{methods}"
        );
    }

    for service in ["", SERVERS, JOBS, "cutover.v1.LifecycleService"] {
        let health = call(
            &server,
            "grpc.health.v1.Health/Check",
            &format!(r#"{{"service":"{service}"}}"#),
        );
        assert_eq!(text(&health, "/status"), "SERVING", "{service:?}: {health}");
    }
}

/// What `grpcurl describe SYMBOL` prints.
fn describe(server: &TestServer, symbol: &str) -> String {
    grpcurl_ok(&[&server.addr, "describe", symbol])
}

#[test]
fn describe_shows_finalize_cutover_and_its_request() {
    let server = TestServer::start(QUIET);
    let rpc = describe(&server, "cutover.v1.SourceServerService.FinalizeCutover");
    assert!(
        rpc.contains("rpc FinalizeCutover")
            && rpc.contains(".cutover.v1.FinalizeCutoverRequest")
            && rpc.contains("returns ( .cutover.v1.SourceServer )"),
        "{rpc}"
    );
    let request = describe(&server, "cutover.v1.FinalizeCutoverRequest");
    assert!(
        request.contains("string source_server_id = 1;")
            && request.contains("string client_token = 2;"),
        "{request}"
    );
    let request = describe(&server, "cutover.v1.CutOverReplicationJobRequest");
    for field in ["job_id", "sync_data", "client_token"] {
        assert!(request.contains(field), "{field} in {request}");
    }
}

/// Sanity for the helpers, so a wrong `GRPCURL` fails loudly and early.
#[test]
fn grpcurl_is_the_expected_version() {
    let path = grpcurl();
    let output = Command::new(&path)
        .arg("-version")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", path.display()));
    let version = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        version.contains("grpcurl v1."),
        "{}: {version}",
        path.display()
    );
    assert!(Path::new(&path).is_file());
}
