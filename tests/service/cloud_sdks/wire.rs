//! What no SDK sends, over plain HTTP/1.1: malformed and mistyped bodies,
//! unknown operations, unsigned and stale requests, SMC's dispatch by
//! parameter or header on GET and POST, repeat lists and booleans in any
//! case; and the refusal to expose either endpoint without keys. The
//! server runs without a keys file: any well-formed signature is the
//! built-in account's, so requests are signed with a dummy signature.

use std::{collections::HashMap, process::Command, time::SystemTime};

use cutover::pb::v1::LifeCycleState;
use serde_json::Value;

use super::*;

mod limits;

/// A parsed HTTP/1.1 response.
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Value,
}

fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = match body.trim() {
        "" => Value::Null,
        text => serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Now in RFC 3339, to the second.
fn now_rfc3339() -> String {
    let mut now = prost_types::Timestamp::from(SystemTime::now());
    now.nanos = 0;
    now.to_string()
}

fn wire_server() -> TestServer {
    TestServer::in_process(&[
        "--sim-speed",
        "100",
        "--max-message-bytes",
        "65536",
        "--mgn-listen",
        "127.0.0.1:0",
        "--smc-listen",
        "127.0.0.1:0",
    ])
}

/// `POST /path` to the MGN endpoint with a well-formed SigV4 header dated
/// `amz_date` (now when `None`).
fn mgn(server: &TestServer, method: &str, path: &str, body: &str, amz_date: Option<&str>) -> Reply {
    let now = now_rfc3339().replace(['-', ':'], "");
    let date = amz_date.unwrap_or(&now);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         X-Amz-Date: {date}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/{}/us-east-1/mgn/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}",
        body.len(),
        &date[..8],
        "0".repeat(64)
    );
    parse(&http1(
        server.mgn_addr.as_deref().expect("MGN"),
        &head,
        body.as_bytes(),
    ))
}

fn assert_exception(reply: &Reply, status: u16, name: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers.get("x-amzn-errortype").map(String::as_str),
        Some(name)
    );
    assert!(reply.headers.contains_key("x-amzn-requestid"));
    assert!(reply.body["message"].is_string(), "{}", reply.body);
}

#[test]
fn mgn_answers_bad_requests_with_modelled_exceptions() {
    let server = wire_server();
    let unknown = mgn(&server, "POST", "/DeleteSourceServer", "{}", None);
    assert_exception(&unknown, 400, "ValidationException");
    assert_eq!(unknown.body["reason"], "unknownOperation");
    let get = mgn(&server, "GET", "/FinalizeCutover", "", None);
    assert_eq!(get.body["reason"], "unknownOperation");

    let garbled = mgn(
        &server,
        "POST",
        "/FinalizeCutover",
        "{\"sourceServerID\":",
        None,
    );
    assert_exception(&garbled, 400, "ValidationException");
    assert_eq!(garbled.body["reason"], "cannotParse");
    let array = mgn(&server, "POST", "/FinalizeCutover", "[1]", None);
    assert_eq!(array.body["reason"], "cannotParse");

    for (path, body, field) in [
        (
            "/FinalizeCutover",
            r#"{"sourceServerID": 5}"#,
            "sourceServerID",
        ),
        ("/FinalizeCutover", "{}", "sourceServerID"),
        (
            "/DescribeSourceServers",
            r#"{"maxResults": "ten"}"#,
            "maxResults",
        ),
        (
            "/DescribeSourceServers",
            r#"{"maxResults": 0}"#,
            "maxResults",
        ),
        (
            "/DescribeSourceServers",
            r#"{"filters": {"isArchived": "yes"}}"#,
            "isArchived",
        ),
        (
            "/DescribeSourceServers",
            r#"{"filters": {"lifeCycleStates": ["DONE"]}}"#,
            "filters.lifeCycleStates",
        ),
        (
            "/StartTest",
            r#"{"sourceServerIDs": []}"#,
            "sourceServerIDs",
        ),
        (
            "/ChangeServerLifeCycleState",
            r#"{"sourceServerID": "s-1234567890abcdefg", "lifeCycle": {"state": "TESTING"}}"#,
            "lifeCycle.state",
        ),
    ] {
        let reply = mgn(&server, "POST", path, body, None);
        assert_exception(&reply, 400, "ValidationException");
        assert_eq!(reply.body["reason"], "fieldValidationFailed", "{body}");
        assert_eq!(
            reply.body["fieldList"][0]["name"], field,
            "{body}: {}",
            reply.body
        );
    }
    let many: Vec<String> = (0..201).map(|i| format!("s-{i:017}")).collect();
    let too_many = serde_json::json!({ "sourceServerIDs": many }).to_string();
    let reply = mgn(&server, "POST", "/StartCutover", &too_many, None);
    assert_eq!(reply.body["fieldList"][0]["name"], "sourceServerIDs");
    let huge = format!(r#"{{"nextToken": "{}"}}"#, "a".repeat(70_000));
    let reply = mgn(&server, "POST", "/DescribeSourceServers", &huge, None);
    assert_exception(&reply, 400, "ValidationException");
    assert_eq!(reply.body["reason"], "other");
}

#[tokio::test]
async fn mgn_launches_every_server_of_a_wave_or_none() {
    let server = wire_server();
    let mut servers = server.servers().await;
    let ready = available_source(&mut servers).await;
    let gone = available_source(&mut servers).await;
    disconnect(&mut servers, &gone).await;
    let body = format!(r#"{{"sourceServerIDs": ["{ready}", "{gone}"]}}"#);
    let refused = mgn(&server, "POST", "/StartTest", &body, None);
    assert_exception(&refused, 409, "ConflictException");
    assert_eq!(refused.body["resourceId"], gone.as_str());
    assert_eq!(refused.body["errors"][0]["code"], "DISCONNECTED");
    let untouched = get_server(&mut servers, &ready).await;
    assert_eq!(state_of(&untouched), Some(LifeCycleState::ReadyForTest));
    let missing = format!(r#"{{"sourceServerIDs": ["{ready}", "s-0000000000000000a"]}}"#);
    let refused = mgn(&server, "POST", "/StartTest", &missing, None);
    assert_exception(&refused, 404, "ResourceNotFoundException");

    let twice = format!(r#"{{"sourceServerIDs": ["{ready}", "{ready}"]}}"#);
    let launched = mgn(&server, "POST", "/StartTest", &twice, None);
    assert_eq!(launched.status, 202, "{}", launched.body);
    let job = &launched.body["job"];
    assert_eq!(
        job["participatingServers"].as_array().map(Vec::len),
        Some(1)
    );
    let tested = get_server(&mut servers, &ready).await;
    assert_eq!(state_of(&tested), Some(LifeCycleState::Testing));
    assert_eq!(
        tested.launched_instance.map(|l| l.job_id),
        job["jobID"].as_str().map(str::to_owned)
    );
}

#[test]
fn mgn_refuses_unsigned_malformed_and_stale_signatures() {
    let server = wire_server();
    let addr = server.mgn_addr.as_deref().expect("MGN");
    let unsigned = parse(&http1(
        addr,
        "POST /DescribeSourceServers HTTP/1.1\r\nContent-Length: 2",
        b"{}",
    ));
    assert_exception(&unsigned, 403, "MissingAuthenticationTokenException");
    let malformed = parse(&http1(
        addr,
        "POST /DescribeSourceServers HTTP/1.1\r\nContent-Length: 2\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID",
        b"{}",
    ));
    assert_exception(&malformed, 400, "IncompleteSignatureException");
    let stale = mgn(
        &server,
        "POST",
        "/DescribeSourceServers",
        "{}",
        Some("20200101T000000Z"),
    );
    assert_exception(&stale, 403, "InvalidSignatureException");
    assert!(stale.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("expired")));
}

#[tokio::test]
async fn mgn_sends_iso_dates_and_explicit_zeros() {
    let server = wire_server();
    let id = register(&mut server.servers().await).await;
    wait_for_state(
        &mut server.servers().await,
        &id,
        LifeCycleState::ReadyForTest,
    )
    .await;
    let body = format!(r#"{{"filters": {{"sourceServerIDs": ["{id}"]}}}}"#);
    let reply = mgn(&server, "POST", "/DescribeSourceServers", &body, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let item = &reply.body["items"][0];
    assert!(
        reply.body.get("nextToken").is_none(),
        "no token on the last page"
    );
    let added = item["lifeCycle"]["addedToServiceDateTime"]
        .as_str()
        .expect("a date string");
    assert!(
        added.len() == 20 && added.ends_with('Z') && added.as_bytes()[10] == b'T',
        "{added}"
    );
    let lag = item["dataReplicationInfo"]["lagDuration"]
        .as_str()
        .expect("a duration string");
    assert!(lag.starts_with("PT"), "{lag}");
    let disk = &item["dataReplicationInfo"]["replicatedDisks"][0];
    assert!(
        disk["backloggedStorageBytes"].is_i64(),
        "zeros are sent: {disk}"
    );
    assert_eq!(item["lifeCycle"]["state"], "READY_FOR_TEST");
}

/// A request to the SMC endpoint: `params` in the query of `method`, plus
/// v1 signing parameters with a dummy signature dated `timestamp`.
fn smc(server: &TestServer, method: &str, params: &str, extra_head: &str, body: &str) -> Reply {
    smc_at(server, method, params, extra_head, body, &now_rfc3339())
}

fn smc_at(
    server: &TestServer,
    method: &str,
    params: &str,
    extra_head: &str,
    body: &str,
    timestamp: &str,
) -> Reply {
    let signing = format!(
        "AccessKeyId=AK&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n&Timestamp={}&Signature=x",
        timestamp.replace(':', "%3A")
    );
    let query = match params {
        "" => signing,
        params => format!("{params}&{signing}"),
    };
    let head = format!(
        "{method} /?{query} HTTP/1.1\r\nContent-Length: {}{extra_head}",
        body.len()
    );
    parse(&http1(
        server.smc_addr.as_deref().expect("SMC"),
        &head,
        body.as_bytes(),
    ))
}

fn assert_code(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["Code"], code, "{}", reply.body);
    assert!(reply.body["RequestId"].is_string() && reply.body["Message"].is_string());
}

#[tokio::test]
async fn smc_dispatches_by_parameter_or_header_on_get_and_post() {
    let server = wire_server();
    let source = available_source(&mut server.servers().await).await;
    let form = "\r\nContent-Type: application/x-www-form-urlencoded";
    let create = smc(
        &server,
        "POST",
        "Action=CreateReplicationJob&Version=2019-06-01",
        form,
        &format!("RegionId=cn-hangzhou&SourceId={source}&RunOnce=FALSE&Frequency=2&MaxNumberOfImageToKeep=1"),
    );
    assert_eq!(create.status, 200, "{}", create.body);
    let job = create.body["JobId"].as_str().expect("JobId").to_owned();
    let seen = get_job(&mut server.jobs().await, &job).await;
    assert!(!seen.run_once, "RunOnce=FALSE is false");
    assert_eq!(seen.frequency, 2);

    let by_list = smc(
        &server,
        "GET",
        &format!("Action=DescribeReplicationJobs&JobId.1={job}&JobId.2=j-00000000000000000000"),
        "",
        "",
    );
    assert_eq!(by_list.status, 200, "{}", by_list.body);
    assert_eq!(by_list.body["TotalCount"], 1);
    assert_eq!(
        by_list.body["ReplicationJobs"]["ReplicationJob"][0]["JobId"],
        job.as_str()
    );
    assert_eq!(by_list.body["PageSize"], 10);

    let body_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let head = format!(
        "POST /?JobId={job} HTTP/1.1\r\nContent-Length: 0\r\nx-acs-action: StartReplicationJob\r\n\
         x-acs-version: 2019-06-01\r\nx-acs-date: {}\r\nx-acs-content-sha256: {body_hash}\r\n\
         Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-action,Signature={}",
        now_rfc3339(),
        "0".repeat(64)
    );
    let started = parse(&http1(server.smc_addr.as_deref().expect("SMC"), &head, b""));
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(started.body["RequestId"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
}

#[test]
fn smc_answers_bad_requests_with_its_error_codes() {
    let server = wire_server();
    let job = "JobId=j-00000000000000000000";
    for (params, status, code) in [
        (
            "Action=DeleteReplicationJob".to_owned(),
            404,
            "InvalidAction.NotFound",
        ),
        (
            "Action=CutOverReplicationJob".to_owned(),
            400,
            "MissingJobId",
        ),
        (
            format!("Action=CutOverReplicationJob&{job}&SyncData=maybe"),
            400,
            "InvalidParameter",
        ),
        (
            format!("Action=CutOverReplicationJob&{job}&SyncData=true"),
            404,
            "InvalidJobId.NotFound",
        ),
        (
            "Action=DescribeReplicationJobs&PageSize=51".to_owned(),
            400,
            "InvalidParameter",
        ),
        (
            "Action=DescribeReplicationJobs&Version=2014-05-26".to_owned(),
            400,
            "InvalidVersion",
        ),
        (
            "Action=CreateReplicationJob&RegionId=r&SourceId=s-1".to_owned(),
            400,
            "InvalidParameter",
        ),
    ] {
        assert_code(&smc(&server, "GET", &params, "", ""), status, code);
    }
    let stale = smc_at(
        &server,
        "GET",
        "Action=DescribeReplicationJobs",
        "",
        "",
        "2020-01-01T00:00:00Z",
    );
    assert_code(&stale, 400, "InvalidTimeStamp.Expired");
    let unsigned = parse(&http1(
        server.smc_addr.as_deref().expect("SMC"),
        "GET /?Action=DescribeReplicationJobs HTTP/1.1",
        b"",
    ));
    assert_code(&unsigned, 400, "MissingSignature");
}

/// `cutoverd ARGS` must refuse to start, saying `needle`.
fn refuses(args: &[&str], needle: &str) {
    let dir = TempDir::new().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_cutoverd"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(args)
        .output()
        .expect("run cutoverd");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "cutoverd {args:?} started");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
}

#[test]
fn no_endpoint_is_exposed_without_keys() {
    refuses(
        &["--mgn-listen", "0.0.0.0:0"],
        "refusing to serve MGN on 0.0.0.0",
    );
    refuses(
        &["--smc-listen", "0.0.0.0:0"],
        "refusing to serve SMC on 0.0.0.0",
    );
    let tokens = TokensFile::new(&[("token", "111122223333")]);
    refuses(
        &[
            "--tokens-file",
            tokens.path(),
            "--mgn-listen",
            "127.0.0.1:0",
        ],
        "need --access-keys-file",
    );
    let keys = TempDir::new().expect("temp dir");
    let path = keys.path().join("keys");
    std::fs::write(&path, "AK secret 111122223333\n").expect("write");
    refuses(
        &[
            "--access-keys-file",
            path.to_str().expect("utf-8"),
            "--mgn-listen",
            "127.0.0.1:0",
        ],
        "readable by others",
    );
}

/// MGN and SMC calls go through the same envelope as gRPC: counted in
/// Prometheus by wire, operation and the wire's own code, and logged with
/// the request id the caller was given (`x-amzn-RequestId` for MGN, the
/// body's `RequestId` for SMC), so a customer's report can be found.
#[test]
fn native_calls_are_measured_and_logged_with_their_request_ids() {
    let mut server = TestServer::start_logging(
        &[
            "--no-simulator",
            "--log-format",
            "json",
            "--metrics-listen",
            "127.0.0.1:0",
            "--mgn-listen",
            "127.0.0.1:0",
            "--smc-listen",
            "127.0.0.1:0",
        ],
        "cutover=debug",
    );
    let unknown_server = r#"{"sourceServerID":"s-00000000000000000"}"#;
    let refused = mgn(&server, "POST", "/FinalizeCutover", unknown_server, None);
    assert_exception(&refused, 404, "ResourceNotFoundException");
    let listed = mgn(&server, "POST", "/DescribeSourceServers", "{}", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let missing_job = smc(
        &server,
        "GET",
        "Action=CutOverReplicationJob&JobId=j-00000000000000000000",
        "",
        "",
    );
    assert_code(&missing_job, 404, "InvalidJobId.NotFound");
    let jobs = smc(&server, "GET", "Action=DescribeReplicationJobs", "", "");
    assert_eq!(jobs.status, 200, "{}", jobs.body);

    let page = http1(
        server.metrics_addr.as_deref().expect("metrics"),
        "GET /metrics HTTP/1.1",
        &[],
    );
    for series in [
        r#"cutover_requests_total{wire="mgn",operation="FinalizeCutover",code="ResourceNotFoundException"} 1"#,
        r#"cutover_request_errors_total{wire="mgn",operation="FinalizeCutover",code="ResourceNotFoundException"} 1"#,
        r#"cutover_requests_total{wire="mgn",operation="DescribeSourceServers",code="OK"} 1"#,
        r#"cutover_requests_total{wire="smc",operation="CutOverReplicationJob",code="InvalidJobId.NotFound"} 1"#,
        r#"cutover_requests_total{wire="smc",operation="DescribeReplicationJobs",code="OK"} 1"#,
        r#"cutover_request_duration_seconds_count{wire="mgn",operation="FinalizeCutover"} 1"#,
    ] {
        assert!(page.contains(series), "{series} missing from:\n{page}");
    }

    let logs = server.kill_and_read_logs();
    let mgn_id = refused.headers["x-amzn-requestid"].clone();
    let smc_id = missing_job.body["RequestId"]
        .as_str()
        .expect("RequestId")
        .to_owned();
    for (id, wire, operation, code) in [
        (
            &mgn_id,
            "mgn",
            "FinalizeCutover",
            "ResourceNotFoundException",
        ),
        (
            &smc_id,
            "smc",
            "CutOverReplicationJob",
            "InvalidJobId.NotFound",
        ),
    ] {
        let line = logs
            .lines()
            .find(|line| line.contains("call finished") && line.contains(id.as_str()))
            .unwrap_or_else(|| panic!("no log line of request {id} in:\n{logs}"));
        let json: Value = serde_json::from_str(line).expect("a JSON log line");
        assert_eq!(json["span"]["request_id"], id.as_str(), "{json}");
        assert_eq!(json["span"]["wire"], wire, "{json}");
        assert_eq!(json["span"]["operation"], operation, "{json}");
        assert_eq!(json["fields"]["code"], code, "{json}");
    }
}
