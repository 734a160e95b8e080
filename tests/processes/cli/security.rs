//! Bearer tokens and mutual TLS, as `cutoverctl` sends them.

use serde_json::Value;
use sha2::Digest;
use tempfile::TempDir;

use cutover_testkit::{Pki, Subject, TestServer};

use super::{command, comparable, ctl, ctl_env, finish, grpcurl_json};

#[test]
fn bearer_tokens_are_sent_and_their_absence_is_exit_7() {
    let dir = TempDir::new().expect("dir");
    let tokens = dir.path().join("tokens");
    let digest = hex::encode(sha2::Sha256::digest(b"ops-token"));
    std::fs::write(&tokens, format!("{digest} 111111111111\n")).expect("tokens file");
    let tokens = tokens.to_str().expect("utf-8");
    let server = TestServer::start(&["--no-simulator", "--tokens-file", tokens]);
    ctl(&server, &["servers", "list"]).fails(7, &["UNAUTHENTICATED", "(exit 7)"]);
    ctl(&server, &["servers", "list", "--token", "wrong"]).fails(7, &["UNAUTHENTICATED"]);
    ctl(&server, &["servers", "list", "--token", "ops-token"])
        .fails(4, &["UninitializedAccountException"]);
    let init = ctl(&server, &["init", "--token", "ops-token", "-o", "json"]).json();
    assert_eq!(init["accountId"], "111111111111");
    let env = [("CUTOVER_TOKEN", "ops-token")];
    let register = [
        "servers", "register", "--tag", "app=web", "--tag", "wave=1", "-o", "json",
    ];
    let json = ctl_env(&server, &env, &register).json();
    assert_eq!(json["accountId"], "111111111111");
    let id = json["sourceServerId"].as_str().expect("id");

    // -o json is what grpcurl prints, up to the request id.
    let ours = ctl_env(&server, &env, &["servers", "get", id, "-o", "json"]);
    let body = format!(r#"{{"sourceServerId":"{id}"}}"#);
    let method = "cutover.v1.SourceServerService/GetSourceServer";
    let theirs = grpcurl_json(&server, Some("ops-token"), method, &body);
    assert_eq!(comparable(ours.ok()), comparable(&theirs));
    let snapshot = ctl_env(
        &server,
        &env,
        &[
            "-o",
            "json",
            "watch",
            "--server",
            id,
            "--until",
            "pending-installation",
        ],
    );
    let first: Value =
        serde_json::from_str(snapshot.ok().lines().next().expect("a line")).expect("JSON lines");
    assert_eq!(first["snapshot"]["sourceServer"]["sourceServerId"], id);
}

#[test]
fn mutual_tls_uses_the_ca_the_host_name_and_the_client_certificate() {
    let pki = Pki::new();
    let path = |name: &str| pki.path(name);
    let server = pki.server(true, &[]);
    let client = pki.client_cert(Subject::Dns("ops.example"));
    let (cert, key) = pki.write_client_cert("client", &client);
    let port = server.addr.rsplit(':').next().expect("port");
    // No scheme: --ca implies https; the TLS name is `localhost`.
    let address = format!("localhost:{port}");
    let tls = ["--server", &address, "--ca", &path("ca.pem")];
    let identity = ["--cert", &cert, "--key", &key];
    let run = finish(
        command(
            &[
                &tls[..],
                &identity[..],
                &["servers", "register", "-o", "json"],
            ]
            .concat(),
        )
        .output()
        .expect("run"),
    );
    assert!(run.json()["sourceServerId"].as_str().is_some());
    let anonymous = finish(
        command(&[&tls[..], &["--timeout", "5", "servers", "list"]].concat())
            .output()
            .expect("run"),
    );
    assert_ne!(
        anonymous.code, 0,
        "no client certificate: {}",
        anonymous.stdout
    );
    let plaintext = finish(
        command(&[
            "--server",
            &server.endpoint,
            "--timeout",
            "5",
            "servers",
            "list",
        ])
        .output()
        .expect("run"),
    );
    assert_ne!(
        plaintext.code, 0,
        "plaintext to a TLS server: {}",
        plaintext.stdout
    );
    let half = finish(
        command(&[&tls[..], &["--cert", &cert, "servers", "list"]].concat())
            .output()
            .expect("run"),
    );
    half.fails(2, &["--cert and --key go together"]);
}
