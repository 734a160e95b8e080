//! One request, one refusal, whatever the wire: the limits are the
//! control plane's request values', so the same over-limit request is
//! refused on gRPC, MGN and SMC alike, each naming the field in its own
//! words, with the same description.

use cutover::pb::v1::{
    DescribeReplicationJobsRequest, DescribeSourceServersFilters, DescribeSourceServersRequest,
};
use tonic::Status;
use tonic_types::StatusExt;

use super::*;

/// The description of `status`'s violation of `field`.
fn grpc_refusal(status: Status, field: &str) -> String {
    let status = expect_violation(status, field);
    let bad = status.get_details_bad_request().expect("a BadRequest");
    bad.field_violations
        .into_iter()
        .find(|v| v.field == field)
        .map(|v| v.description)
        .expect("the field's violation")
}

/// The description of MGN's ValidationException on `field`.
fn mgn_refusal(reply: &Reply, field: &str) -> String {
    assert_exception(reply, 400, "ValidationException");
    assert_eq!(
        reply.body["reason"], "fieldValidationFailed",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["fieldList"][0]["name"], field, "{}", reply.body);
    reply.body["fieldList"][0]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

fn ids(n: usize, prefix: &str, digits: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:0digits$}")).collect()
}

#[tokio::test]
async fn an_over_limit_request_is_refused_alike_on_every_wire() {
    let server = wire_server();
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;

    // 201 source server ids in DescribeSourceServers' filter.
    let many = ids(201, "s-", 17);
    let grpc = servers
        .describe_source_servers(DescribeSourceServersRequest {
            filters: Some(DescribeSourceServersFilters {
                source_server_ids: many.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("201 ids");
    let body = serde_json::json!({ "filters": { "sourceServerIDs": many } }).to_string();
    let mgn_reply = mgn(&server, "POST", "/DescribeSourceServers", &body, None);
    assert_eq!(
        grpc_refusal(grpc, "filters.source_server_ids"),
        mgn_refusal(&mgn_reply, "filters.sourceServerIDs")
    );

    // A 2,049-character page token, on both listings that take tokens;
    // gRPC held it to MGN's bound only since the limits are shared.
    let too_long = "a".repeat(2049);
    let grpc = servers
        .describe_source_servers(DescribeSourceServersRequest {
            next_token: too_long.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a 2,049-character token");
    let body = serde_json::json!({ "nextToken": too_long }).to_string();
    let mgn_reply = mgn(&server, "POST", "/DescribeSourceServers", &body, None);
    let refusal = grpc_refusal(grpc, "next_token");
    assert_eq!(refusal, mgn_refusal(&mgn_reply, "nextToken"));
    let grpc_jobs = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: too_long.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a 2,049-character token");
    assert_eq!(grpc_refusal(grpc_jobs, "next_token"), refusal);

    // 2,048 characters pass the bound, and are refused as no token the
    // service issued, under each wire's name of the token.
    let longest = "a".repeat(2048);
    let grpc = servers
        .describe_source_servers(DescribeSourceServersRequest {
            next_token: longest.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a forged token");
    let body = serde_json::json!({ "nextToken": longest }).to_string();
    let mgn_reply = mgn(&server, "POST", "/DescribeSourceServers", &body, None);
    let forged = grpc_refusal(grpc, "next_token");
    assert_ne!(forged, refusal, "not refused for its length");
    assert_eq!(forged, mgn_refusal(&mgn_reply, "nextToken"));

    // A launch of 201 servers: MGN's lists take 1 to 200, as the request
    // value does; gRPC launches one server per call.
    let body = serde_json::json!({ "sourceServerIDs": ids(201, "s-", 17) }).to_string();
    for path in ["/StartTest", "/StartCutover"] {
        let reply = mgn(&server, "POST", path, &body, None);
        assert!(mgn_refusal(&reply, "sourceServerIDs").contains("1 to 200"));
    }

    // 201 job ids in DescribeReplicationJobs' filter: gRPC and SMC.
    let many = ids(201, "j-", 20);
    let grpc = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            job_ids: many.clone(),
            ..Default::default()
        })
        .await
        .expect_err("201 job ids");
    let description = grpc_refusal(grpc, "job_ids");
    let params: Vec<String> = many
        .iter()
        .enumerate()
        .map(|(i, id)| format!("JobId.{}={id}", i + 1))
        .collect();
    let query = format!("Action=DescribeReplicationJobs&{}", params.join("&"));
    let reply = smc(&server, "GET", &query, "", "");
    assert_code(&reply, 400, "InvalidParameter");
    let message = reply.body["Message"].as_str().expect("a message");
    assert!(
        message.contains(&format!("JobId {description}")),
        "{message} does not say {description:?}"
    );
}
