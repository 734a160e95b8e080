//! Every server and job command in the three output formats, and the
//! documented exit codes of what goes wrong.

use serde_json::Value;

use cutover_testkit::TestServer;

use super::{closed_address, command, ctl, finish, get, register, watch_until};

#[test]
fn server_commands_print_tables_json_and_yaml_and_fail_with_documented_codes() {
    let server = TestServer::start(&["--sim-speed", "100"]);

    let init = ctl(&server, &["init"]);
    assert!(
        init.ok().contains("account 000000000000"),
        "{}",
        init.stdout
    );
    let init = ctl(&server, &["init", "-o", "json"]).json();
    assert_eq!(init["accountId"], "000000000000");

    // Register with tags and a client token; the retry replays the answer.
    let args = [
        "servers",
        "register",
        "--tag",
        "app=web",
        "--client-token",
        "reg-1",
    ];
    let first = ctl(&server, &[&args[..], &["-o", "json"]].concat()).json();
    let id = first["sourceServerId"].as_str().expect("id").to_owned();
    assert_eq!(first["tags"]["app"], "web");
    let retry = ctl(&server, &[&args[..], &["-o", "json"]].concat()).json();
    assert_eq!(retry["sourceServerId"], first["sourceServerId"]);
    let other = register(&server);

    watch_until(&server, &[&id, &other], "ready-for-test").ok();
    let json = get(&server, &id);
    assert_eq!(
        json["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_TEST"
    );
    assert_eq!(
        json["dataReplicationInfo"]["dataReplicationState"],
        "DATA_REPLICATION_STATE_CONTINUOUS"
    );
    let yaml = ctl(&server, &["servers", "get", &id, "-o", "yaml"]);
    let yaml: Value = serde_yaml_ng::from_str(yaml.ok()).expect("YAML parses");
    assert_eq!(yaml["sourceServerId"], json["sourceServerId"]);
    assert_eq!(
        yaml["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_TEST"
    );
    assert_eq!(yaml["tags"]["app"], "web");
    let table = ctl(&server, &["servers", "get", &id]);
    let mut lines = table.ok().lines();
    assert!(
        lines.next().expect("header").starts_with("ID "),
        "{}",
        table.stdout
    );
    let row = lines.next().expect("a row");
    assert!(
        row.starts_with(&id) && row.contains("READY_FOR_TEST"),
        "{row}"
    );

    // list: every page by default, one page with --max-results, filters.
    let listed = ctl(&server, &["servers", "list"]);
    assert!(listed.ok().contains(&id) && listed.stdout.contains(&other));
    let page = ctl(
        &server,
        &["servers", "list", "--max-results", "1", "-o", "json"],
    )
    .json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let token = page["nextToken"].as_str().expect("a next token");
    let rest = ctl(
        &server,
        &["servers", "list", "--next-token", token, "-o", "json"],
    )
    .json();
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(
        rest["items"][0]["sourceServerId"],
        page["items"][0]["sourceServerId"]
    );
    let filtered = ctl(
        &server,
        &[
            "servers",
            "list",
            "--id",
            &id,
            "--state",
            "ready-for-test",
            "--archived",
            "false",
            "--replication-type",
            "agent-based",
            "-o",
            "json",
        ],
    )
    .json();
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    let none = ctl(
        &server,
        &["servers", "list", "--state", "cutover", "-o", "json"],
    )
    .json();
    assert!(none.get("items").is_none(), "{none}");

    // Errors: not found 3, conflict 4, validation 5, unavailable 6.
    ctl(&server, &["servers", "get", "s-00000000000000000"]).fails(
        3,
        &[
            "error: ResourceNotFoundException",
            "resourceId: s-00000000000000000",
            "grpc code: NOT_FOUND (exit 3)",
        ],
    );
    ctl(&server, &["servers", "finalize", &id]).fails(
        4,
        &[
            "error: ConflictException",
            "currentState: READY_FOR_TEST",
            "httpStatus: 409",
            "requestId: ",
        ],
    );
    ctl(&server, &["servers", "get", "s-bad"]).fails(
        5,
        &[
            "error: ValidationException",
            "field violation: source_server_id",
        ],
    );
    let nobody = closed_address();
    let run = finish(
        command(&["--server", &nobody.url, "servers", "list"])
            .output()
            .expect("run"),
    );
    run.fails(6, &["UNAVAILABLE", "cannot connect"]);
    let run = finish(
        command(&["servers", "list", "--server", &nobody.url])
            .output()
            .expect("run"),
    );
    run.fails(6, &["UNAVAILABLE"]);

    // Test, revert, test again, ready for cutover.
    let started = ctl(&server, &["servers", "start-test", &id]);
    assert!(started.ok().contains("TESTING") && started.stdout.contains("mgnjob-"));
    let reverted = ctl(
        &server,
        &["servers", "mark-ready", &id, "--state", "ready-for-test"],
    );
    assert!(
        reverted.ok().contains("READY_FOR_TEST"),
        "{}",
        reverted.stdout
    );
    let json = ctl(&server, &["servers", "start-test", &id, "-o", "json"]).json();
    assert_eq!(
        json["sourceServer"]["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_TESTING"
    );
    assert!(json["job"]["jobId"]
        .as_str()
        .is_some_and(|j| j.starts_with("mgnjob-")));
    let ready = ctl(&server, &["servers", "mark-ready", &id, "-o", "json"]).json();
    assert_eq!(
        ready["lifeCycle"]["state"],
        "LIFE_CYCLE_STATE_READY_FOR_CUTOVER"
    );

    // Disconnect, then archive; archived servers filter.
    let gone = ctl(&server, &["servers", "disconnect", &other, "-o", "json"]).json();
    assert_eq!(gone["lifeCycle"]["state"], "LIFE_CYCLE_STATE_DISCONNECTED");
    let archived = ctl(
        &server,
        &["servers", "archive", &other, "--client-token", "arch-1"],
    );
    assert!(archived.ok().contains(&other), "{}", archived.stdout);
    let listed = ctl(&server, &["servers", "list", "--archived", "-o", "json"]).json();
    assert_eq!(listed["items"][0]["sourceServerId"], other.as_str());
    assert_eq!(listed["items"][0]["isArchived"], true);
    ctl(&server, &["servers", "archive", &other]).fails(4, &["ConflictException"]);
}
