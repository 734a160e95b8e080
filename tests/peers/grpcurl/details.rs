//! Errors as grpcurl prints them: the status and its `google.rpc` details,
//! also as JSON with `-format-error`.

use serde_json::Value;

use cutover_testkit::TestServer;

use super::{call_err, grpcurl_run, id_body, register, text, QUIET, SERVERS};

/// Calls `method` with `body`: grpcurl must exit with 64 + the gRPC
/// `code` and print each of `needles`.
fn refused_printing(server: &TestServer, method: &str, body: &str, code: i32, needles: &[&str]) {
    let run = call_err(server, method, body);
    assert_eq!(
        run.code,
        Some(64 + code),
        "grpcurl exits 64 + the gRPC code"
    );
    let all = run.all();
    for needle in needles {
        assert!(all.contains(needle), "{needle} in\n{all}");
    }
}

#[test]
fn errors_print_their_google_rpc_details() {
    // No simulator: a registered server stays PENDING_INSTALLATION.
    let server = TestServer::start(QUIET);
    let id = register(&server);

    let finalize = format!("{SERVERS}/FinalizeCutover");
    let resource_id = format!(r#""resourceId":"{id}""#);
    refused_printing(
        &server,
        &finalize,
        &id_body(&id),
        9,
        &[
            "FailedPrecondition",
            r#""reason":"ConflictException""#,
            "type.googleapis.com/google.rpc.ErrorInfo",
            r#""currentState":"PENDING_INSTALLATION""#,
            r#""httpStatus":"409""#,
            r#""domain":"cutover""#,
            &resource_id,
        ],
    );
    refused_printing(
        &server,
        &finalize,
        r#"{"sourceServerId":"s-nope"}"#,
        3,
        &[
            "InvalidArgument",
            r#""reason":"ValidationException""#,
            "type.googleapis.com/google.rpc.BadRequest",
            r#""field":"source_server_id""#,
        ],
    );

    // -format-error: the status as JSON, details and all.
    let run = grpcurl_run(&[
        "-format-error",
        "-d",
        r#"{"sourceServerId":"s-00000000000000000"}"#,
        &server.addr,
        &format!("{SERVERS}/GetSourceServer"),
    ]);
    assert_eq!(run.code, Some(64 + 5), "{}", run.all());
    // grpcurl prints the formatted status on stderr.
    let status: Value = serde_json::from_str(&run.stderr)
        .unwrap_or_else(|err| panic!("no JSON status ({err}):\n{}", run.all()));
    assert_eq!(status["code"], 5);
    let details = status["details"].as_array().expect("details");
    let types: Vec<&str> = details.iter().map(|d| text(d, "/@type")).collect();
    assert_eq!(
        types,
        [
            "type.googleapis.com/google.rpc.ErrorInfo",
            "type.googleapis.com/google.rpc.ResourceInfo"
        ]
    );
    assert_eq!(text(&details[0], "/reason"), "ResourceNotFoundException");
    assert_eq!(
        text(&details[1], "/resourceName"),
        "s-00000000000000000",
        "{status}"
    );
}
