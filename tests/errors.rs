//! Every error of SPEC 6 provoked over real gRPC: the gRPC code, the cloud
//! error code in `ErrorInfo.reason`, its metadata, and the details each
//! kind carries (`BadRequest` field violations, `ResourceInfo`); plus
//! accounts (authentication, initialisation, isolation) and request ids.

mod support;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::Path,
};

use cutover::pb::v1::replication_job_service_client::ReplicationJobServiceClient;
use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient, ChangeServerLifeCycleStateRequest,
    CreateReplicationJobRequest, CutOverReplicationJobRequest, DescribeReplicationJobsRequest,
    DescribeSourceServersFilters, DescribeSourceServersRequest, DisconnectFromServiceRequest,
    FinalizeCutoverRequest, GetReplicationJobRequest, GetSourceServerRequest,
    InitializeServiceRequest, LifeCycleState, MarkAsArchivedRequest, RegisterSourceServerRequest,
    ReplicationJobBusinessStatus, ReplicationJobStatus, StartCutoverRequest,
    StartReplicationJobRequest, StartTestRequest, StopReplicationJobRequest,
    WatchLifecycleEventsRequest,
};
use sha2::Digest;
use support::*;
use tonic::{metadata::MetadataMap, transport::Channel, Code, Request, Status};
use tonic_types::StatusExt;

const NO_SIMULATOR: &[&str] = &["--no-simulator"];
/// Ten times real speed: a simulator tick is 100 ms.
const WATCHABLE: &[&str] = &["--sim-speed", "10"];

const UNKNOWN_SERVER: &str = "s-00000000000000000";
const UNKNOWN_JOB: &str = "j-00000000000000000000";

const INTERNAL_MESSAGE: &str = "An error occurred while processing your request. Please try again. If the problem still exists, please submit a ticket.";

/// Malformed source server ids: empty, prefix only, wrong prefix, 16 and
/// 18 characters after the prefix, and characters outside `[0-9a-zA-Z]`.
const BAD_SERVER_IDS: &[&str] = &[
    "",
    "s-",
    "x-0123456789abcdefg",
    "S-0123456789abcdefg",
    "s_0123456789abcdefg",
    "s-0123456789abcdef",
    "s-0123456789abcdefgh",
    "s-0123456789abcdef!",
    "s-0123456789abcdef_",
    "s-01234567 9abcdefg",
    "s-0123456789abcdefé",
    " s-0123456789abcdefg",
    "s-0123456789abcdefg\n",
    "0123456789abcdefgh",
];

/// Malformed replication job ids.
const BAD_JOB_IDS: &[&str] = &[
    "",
    "j-",
    "J-0123456789abcdefghij",
    "s-0123456789abcdefghij",
    "j-0123456789abcdefghi",
    "j-0123456789abcdefghijk",
    "j-0123456789abcdefghiJ",
    "j-0123456789abcdefgh!j",
    "j-0123456789abcdefgh j",
];

/// ErrorInfo metadata of a status.
fn metadata(status: &Status) -> HashMap<String, String> {
    status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"))
        .metadata
}

/// A ValidationException naming `field` in a BadRequest violation.
fn expect_violation(status: Status, field: &str) -> Status {
    let status = expect_error(status, Code::InvalidArgument, "ValidationException");
    assert_eq!(metadata(&status)["httpStatus"], "400");
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    assert!(
        bad.field_violations
            .iter()
            .any(|v| v.field == field && !v.description.is_empty()),
        "expected a violation of {field}: {bad:?}"
    );
    status
}

/// A ResourceNotFoundException about `id` of `kind`, with ResourceInfo.
fn expect_not_found(status: Status, kind: &str, id: &str) -> Status {
    let status = expect_error(status, Code::NotFound, "ResourceNotFoundException");
    let info = status
        .get_details_resource_info()
        .unwrap_or_else(|| panic!("no ResourceInfo in {status:?}"));
    assert_eq!(info.resource_type, kind, "{status:?}");
    assert_eq!(info.resource_name, id, "{status:?}");
    let meta = metadata(&status);
    assert_eq!(meta["resourceId"], id);
    assert_eq!(meta["resourceType"], kind);
    assert_eq!(meta["httpStatus"], "404");
    status
}

/// A ConflictException about source server `id` in `state`.
fn expect_conflict(status: Status, id: &str, state: &str) -> Status {
    let status = expect_error(status, Code::FailedPrecondition, "ConflictException");
    let meta = metadata(&status);
    assert_eq!(meta["currentState"], state, "{status:?}");
    assert_eq!(meta["resourceId"], id);
    assert_eq!(meta["resourceType"], "SourceServer");
    assert_eq!(meta["httpStatus"], "409");
    status
}

/// One of SMC's FAILED_PRECONDITION errors about `kind` `id` in `state`.
fn expect_smc(status: Status, reason: &str, kind: &str, id: &str, state: &str) -> Status {
    let status = expect_error(status, Code::FailedPrecondition, reason);
    let meta = metadata(&status);
    assert_eq!(meta["currentState"], state, "{status:?}");
    assert_eq!(meta["resourceId"], id);
    assert_eq!(meta["resourceType"], kind);
    assert_eq!(meta["httpStatus"], "400");
    status
}

/// The allowed values SMC's message template names, as a set.
fn allowed_in(message: &str) -> HashSet<String> {
    let list = message
        .split("This operation can only be performed in the following status: ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or_else(|| panic!("not SMC's template: {message}"));
    list.split(", ").map(str::to_owned).collect()
}

fn set(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn header(metadata: &MetadataMap) -> String {
    request_id_header(metadata)
}

#[tokio::test]
async fn malformed_ids_are_validation_errors_naming_the_field() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let id = register(&mut servers).await;

    for &bad in BAD_SERVER_IDS {
        let s = bad.to_owned();
        let field = "source_server_id";
        let status = servers
            .get_source_server(GetSourceServerRequest {
                source_server_id: s.clone(),
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .finalize_cutover(FinalizeCutoverRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .start_test(StartTestRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .start_cutover(StartCutoverRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
                source_server_id: s.clone(),
                state: LifeCycleState::ReadyForTest as i32,
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .disconnect_from_service(DisconnectFromServiceRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .mark_as_archived(MarkAsArchivedRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = servers
            .describe_source_servers(DescribeSourceServersRequest {
                filters: Some(DescribeSourceServersFilters {
                    source_server_ids: vec![id.clone(), s.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, "filters.source_server_ids");
        let status = jobs
            .create_replication_job(CreateReplicationJobRequest {
                source_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, "source_id");
        let status = jobs
            .describe_replication_jobs(DescribeReplicationJobsRequest {
                source_ids: vec![s.clone()],
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, "source_ids");
    }

    for &bad in BAD_JOB_IDS {
        let j = bad.to_owned();
        let field = "job_id";
        let status = jobs
            .get_replication_job(GetReplicationJobRequest { job_id: j.clone() })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = jobs
            .start_replication_job(StartReplicationJobRequest {
                job_id: j.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        let status = jobs
            .stop_replication_job(StopReplicationJobRequest {
                job_id: j.clone(),
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, field);
        for sync_data in [false, true] {
            let status = jobs
                .cut_over_replication_job(CutOverReplicationJobRequest {
                    job_id: j.clone(),
                    sync_data,
                    ..Default::default()
                })
                .await
                .expect_err(bad);
            expect_violation(status, field);
        }
        let status = jobs
            .describe_replication_jobs(DescribeReplicationJobsRequest {
                job_ids: vec![j.clone()],
                ..Default::default()
            })
            .await
            .expect_err(bad);
        expect_violation(status, "job_ids");
    }

    // None of this touched the one real server.
    let stored = get_server(&mut servers, &id).await;
    assert_eq!(
        stored.life_cycle.expect("life").state,
        LifeCycleState::PendingInstallation as i32
    );
}

#[tokio::test]
async fn out_of_range_values_are_validation_errors_naming_the_field() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let id = register(&mut servers).await;

    // max_results: 1 to 1000, 0 for the default.
    for max_results in [-1, 1001, i32::MIN, i32::MAX] {
        let status = servers
            .describe_source_servers(DescribeSourceServersRequest {
                max_results,
                ..Default::default()
            })
            .await
            .expect_err("bad max_results");
        expect_violation(status, "max_results");
        let status = jobs
            .describe_replication_jobs(DescribeReplicationJobsRequest {
                max_results,
                ..Default::default()
            })
            .await
            .expect_err("bad max_results");
        expect_violation(status, "max_results");
    }
    for max_results in [0, 1, 1000] {
        let page = servers
            .describe_source_servers(DescribeSourceServersRequest {
                max_results,
                ..Default::default()
            })
            .await
            .expect("max_results in range")
            .into_inner();
        assert_eq!(page.items.len(), 1);
        jobs.describe_replication_jobs(DescribeReplicationJobsRequest {
            max_results,
            ..Default::default()
        })
        .await
        .expect("max_results in range");
    }

    // Enums: unknown numbers, UNSPECIFIED, and states that are no target.
    let change = |state: i32| ChangeServerLifeCycleStateRequest {
        source_server_id: id.clone(),
        state,
        ..Default::default()
    };
    for state in [99, -1, 0] {
        let status = servers
            .change_server_life_cycle_state(change(state))
            .await
            .expect_err("bad enum");
        expect_violation(status, "state");
    }
    for target in [
        LifeCycleState::Cutover,
        LifeCycleState::CuttingOver,
        LifeCycleState::Testing,
        LifeCycleState::Disconnected,
        LifeCycleState::Discovered,
        LifeCycleState::PendingInstallation,
        LifeCycleState::NotReady,
        LifeCycleState::Stopped,
    ] {
        let status = servers
            .change_server_life_cycle_state(change(target as i32))
            .await
            .expect_err("not an allowed target");
        expect_violation(status, "state");
    }
    let filtered = |filters: DescribeSourceServersFilters| DescribeSourceServersRequest {
        filters: Some(filters),
        ..Default::default()
    };
    for states in [
        vec![42],
        vec![LifeCycleState::Cutover as i32, 42],
        vec![0],
        vec![-3],
    ] {
        let status = servers
            .describe_source_servers(filtered(DescribeSourceServersFilters {
                life_cycle_states: states,
                ..Default::default()
            }))
            .await
            .expect_err("bad life cycle state");
        expect_violation(status, "filters.life_cycle_states");
    }
    let status = servers
        .describe_source_servers(filtered(DescribeSourceServersFilters {
            replication_types: vec![7],
            ..Default::default()
        }))
        .await
        .expect_err("bad replication type");
    expect_violation(status, "filters.replication_types");
    let status = servers
        .register_source_server(RegisterSourceServerRequest {
            replication_type: 9,
            ..Default::default()
        })
        .await
        .expect_err("bad replication type");
    expect_violation(status, "replication_type");
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            statuses: vec![42],
            ..Default::default()
        })
        .await
        .expect_err("bad status");
    expect_violation(status, "statuses");
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            business_statuses: vec![9],
            ..Default::default()
        })
        .await
        .expect_err("bad business status");
    expect_violation(status, "business_statuses");

    // Filter sizes: at most 200 ids and 10 lifecycle states.
    let ids = |n: usize| -> Vec<String> { (0..n).map(|i| format!("s-{i:017}")).collect() };
    let status = servers
        .describe_source_servers(filtered(DescribeSourceServersFilters {
            source_server_ids: ids(201),
            ..Default::default()
        }))
        .await
        .expect_err("201 ids");
    expect_violation(status, "filters.source_server_ids");
    let page = servers
        .describe_source_servers(filtered(DescribeSourceServersFilters {
            source_server_ids: ids(199).into_iter().chain([id.clone()]).collect(),
            ..Default::default()
        }))
        .await
        .expect("200 ids are fine")
        .into_inner();
    assert_eq!(page.items.len(), 1);
    let status = servers
        .describe_source_servers(filtered(DescribeSourceServersFilters {
            life_cycle_states: (1..=10).chain([1]).collect(),
            ..Default::default()
        }))
        .await
        .expect_err("11 states");
    expect_violation(status, "filters.life_cycle_states");
    let job_ids: Vec<String> = (0..201).map(|i| format!("j-{i:020}")).collect();
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            job_ids,
            ..Default::default()
        })
        .await
        .expect_err("201 job ids");
    expect_violation(status, "job_ids");
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            source_ids: ids(201),
            ..Default::default()
        })
        .await
        .expect_err("201 source ids");
    expect_violation(status, "source_ids");

    // Tags: at most 50, keys 1-256 and values at most 256 characters.
    let tags = |n: usize, key_len: usize, value_len: usize| -> BTreeMap<String, String> {
        (0..n)
            .map(|i| {
                let key = format!("{i:03}{}", "k".repeat(key_len.saturating_sub(3)));
                (key, "v".repeat(value_len))
            })
            .collect()
    };
    let register_with = |tags: BTreeMap<String, String>| RegisterSourceServerRequest {
        tags,
        ..Default::default()
    };
    for bad in [
        tags(51, 10, 10),
        tags(1, 257, 10),
        tags(1, 10, 257),
        BTreeMap::from([(String::new(), "v".to_owned())]),
        BTreeMap::from([("é".repeat(257), "v".to_owned())]),
    ] {
        let status = servers
            .register_source_server(register_with(bad))
            .await
            .expect_err("bad tags");
        expect_violation(status, "tags");
    }
    let limit = servers
        .register_source_server(register_with(tags(50, 256, 256)))
        .await
        .expect("50 tags of 256 characters are fine")
        .into_inner();
    assert_eq!(limit.tags.len(), 50);
    assert!(limit
        .tags
        .iter()
        .all(|(k, v)| k.chars().count() == 256 && v.len() == 256));
    let unicode = servers
        .register_source_server(register_with(BTreeMap::from([(
            "é".repeat(256),
            "ü".repeat(256),
        )])))
        .await
        .expect("256 characters, not bytes");
    assert_eq!(unicode.into_inner().tags.len(), 1);

    // CreateReplicationJob: an incremental job needs frequency 1-168 and
    // 1-10 images; validation comes before the source is looked up.
    let incremental = |frequency: i32, images: i32| CreateReplicationJobRequest {
        source_id: UNKNOWN_SERVER.into(),
        run_once: Some(false),
        frequency,
        max_number_of_image_to_keep: images,
        ..Default::default()
    };
    for frequency in [0, 169, -1, i32::MAX] {
        let status = jobs
            .create_replication_job(incremental(frequency, 2))
            .await
            .expect_err("bad frequency");
        expect_violation(status, "frequency");
    }
    for images in [0, 11, -1] {
        let status = jobs
            .create_replication_job(incremental(24, images))
            .await
            .expect_err("bad image count");
        expect_violation(status, "max_number_of_image_to_keep");
    }
    for (frequency, images) in [(1, 1), (168, 10)] {
        let status = jobs
            .create_replication_job(incremental(frequency, images))
            .await
            .expect_err("valid spec, unknown source");
        expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    }

    // Nothing was registered by the refused calls, and the server did not
    // move.
    let all = servers
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(
        all.items.len(),
        3,
        "the first server, the 50-tag one and the unicode one"
    );
    let stored = get_server(&mut servers, &id).await;
    assert_eq!(
        stored.life_cycle.expect("life").state,
        LifeCycleState::PendingInstallation as i32
    );
}

#[tokio::test]
async fn page_tokens_and_client_tokens_are_checked() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    for _ in 0..3 {
        register(&mut servers).await;
    }
    let first = servers
        .describe_source_servers(DescribeSourceServersRequest {
            max_results: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    let token = first.next_token;
    assert!(!token.is_empty());
    let resume = |next_token: String| DescribeSourceServersRequest {
        max_results: 1,
        next_token,
        ..Default::default()
    };
    let second = servers
        .describe_source_servers(resume(token.clone()))
        .await
        .expect("genuine token")
        .into_inner();
    assert_eq!(second.items.len(), 1);
    assert!(first.items[0].source_server_id < second.items[0].source_server_id);

    // Every single-character change to a real token is refused.
    for (index, c) in token.char_indices() {
        let mut tampered = token.clone();
        let replacement = if c == 'A' { "B" } else { "A" };
        tampered.replace_range(index..index + c.len_utf8(), replacement);
        let status = servers
            .describe_source_servers(resume(tampered.clone()))
            .await
            .expect_err(&format!("tampered token {tampered}"));
        expect_violation(status, "next_token");
    }
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
    for bad in garbage {
        let status = servers
            .describe_source_servers(resume(bad))
            .await
            .expect_err("garbage token");
        expect_violation(status, "next_token");
    }
    let mut jobs = server.jobs().await;
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .expect_err("garbage job token");
    expect_violation(status, "next_token");

    // Client tokens: a retry replays, another request with the same token
    // is refused, also on another RPC.
    let tagged = |value: &str| RegisterSourceServerRequest {
        client_token: "register-1".into(),
        tags: BTreeMap::from([("wave".to_owned(), value.to_owned())]),
        ..Default::default()
    };
    let created = servers
        .register_source_server(tagged("1"))
        .await
        .expect("first")
        .into_inner();
    let replayed = servers
        .register_source_server(tagged("1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(created.source_server_id, replayed.source_server_id);
    let status = servers
        .register_source_server(tagged("2"))
        .await
        .expect_err("same token, other request");
    expect_violation(status, "client_token");
    let status = servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: created.source_server_id.clone(),
            client_token: "register-1".into(),
        })
        .await
        .expect_err("same token, other RPC");
    expect_violation(status, "client_token");
    let status = servers
        .register_source_server(RegisterSourceServerRequest {
            client_token: "t".repeat(65),
            ..Default::default()
        })
        .await
        .expect_err("token too long");
    expect_violation(status, "client_token");
    let listed = servers
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(
        listed.items.len(),
        4,
        "the retry and the refusals registered nothing"
    );
    let stored = get_server(&mut servers, &created.source_server_id).await;
    assert_eq!(stored.tags.get("wave").map(String::as_str), Some("1"));
    assert_eq!(
        stored.life_cycle.expect("life").state,
        LifeCycleState::PendingInstallation as i32
    );

    // Disconnect with a token twice is a replay, without a token a conflict.
    let disconnect = |token: &str| DisconnectFromServiceRequest {
        source_server_id: created.source_server_id.clone(),
        client_token: token.into(),
    };
    servers
        .disconnect_from_service(disconnect("disconnect-1"))
        .await
        .expect("disconnect");
    servers
        .disconnect_from_service(disconnect("disconnect-1"))
        .await
        .expect("replayed disconnect");
    let status = servers
        .disconnect_from_service(disconnect(""))
        .await
        .expect_err("disconnect again");
    expect_conflict(status, &created.source_server_id, "DISCONNECTED");
}

#[tokio::test]
async fn unknown_resources_are_not_found_with_resource_info() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    register(&mut servers).await;

    for id in [UNKNOWN_SERVER, "s-ZZZZZZZZZZZZZZZZZ", "s-abcdefghijABCDEFG"] {
        let s = id.to_owned();
        let status = servers
            .get_source_server(GetSourceServerRequest {
                source_server_id: s.clone(),
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .finalize_cutover(FinalizeCutoverRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .start_test(StartTestRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .start_cutover(StartCutoverRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
                source_server_id: s.clone(),
                state: LifeCycleState::ReadyForCutover as i32,
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .disconnect_from_service(DisconnectFromServiceRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = servers
            .mark_as_archived(MarkAsArchivedRequest {
                source_server_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
        let status = jobs
            .create_replication_job(CreateReplicationJobRequest {
                source_id: s.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "SourceServer", id);
    }

    for id in [UNKNOWN_JOB, "j-zzzzzzzzzzzzzzzzzzzz"] {
        let j = id.to_owned();
        let status = jobs
            .get_replication_job(GetReplicationJobRequest { job_id: j.clone() })
            .await
            .expect_err(id);
        expect_not_found(status, "ReplicationJob", id);
        let status = jobs
            .start_replication_job(StartReplicationJobRequest {
                job_id: j.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "ReplicationJob", id);
        let status = jobs
            .stop_replication_job(StopReplicationJobRequest {
                job_id: j.clone(),
                ..Default::default()
            })
            .await
            .expect_err(id);
        expect_not_found(status, "ReplicationJob", id);
        for sync_data in [false, true] {
            let status = jobs
                .cut_over_replication_job(CutOverReplicationJobRequest {
                    job_id: j.clone(),
                    sync_data,
                    ..Default::default()
                })
                .await
                .expect_err(id);
            expect_not_found(status, "ReplicationJob", id);
        }
    }

    // A listing of unknown ids is empty, not an error.
    let page = servers
        .describe_source_servers(DescribeSourceServersRequest {
            filters: Some(DescribeSourceServersFilters {
                source_server_ids: vec![UNKNOWN_SERVER.into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("describe unknown ids")
        .into_inner();
    assert!(page.items.is_empty() && page.next_token.is_empty());
}

#[tokio::test]
async fn conflicts_name_the_current_state() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let id = register(&mut servers).await;
    let pending = "PENDING_INSTALLATION";

    let status = servers
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("finalize while pending");
    expect_conflict(status, &id, pending);
    let status = servers
        .start_test(StartTestRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("test while pending");
    expect_conflict(status, &id, pending);
    let status = servers
        .start_cutover(StartCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("cutover while pending");
    expect_conflict(status, &id, pending);
    for target in [
        LifeCycleState::ReadyForCutover,
        LifeCycleState::ReadyForTest,
    ] {
        let status = servers
            .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
                source_server_id: id.clone(),
                state: target as i32,
                ..Default::default()
            })
            .await
            .expect_err("change while pending");
        expect_conflict(status, &id, pending);
    }
    let status = servers
        .mark_as_archived(MarkAsArchivedRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("archive a server that is neither cut over nor disconnected");
    expect_conflict(status, &id, pending);
    let stored = get_server(&mut servers, &id).await;
    assert_eq!(
        stored.life_cycle.expect("life").state,
        LifeCycleState::PendingInstallation as i32
    );
    assert!(!stored.is_archived);

    // A job needs an Available source: a server no agent has reported for
    // is Unavailable.
    let status = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("job for a source that is not Available");
    let status = expect_smc(
        status,
        "SourceServerState.Invalid",
        "SourceServer",
        &id,
        "Unavailable",
    );
    assert_eq!(
        status.message(),
        "The specified source server status: Unavailable is invalid. This operation can only be performed in the following status: Available."
    );

    servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("disconnect");
    let status = servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("disconnect twice");
    expect_conflict(status, &id, "DISCONNECTED");
    let status = servers
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("finalize a disconnected server");
    expect_conflict(status, &id, "DISCONNECTED");
    let archived = servers
        .mark_as_archived(MarkAsArchivedRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("a disconnected server can be archived")
        .into_inner();
    assert!(archived.is_archived);
    let status = servers
        .start_test(StartTestRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("test an archived server");
    expect_conflict(status, &id, "DISCONNECTED");
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn write_tokens(dir: &Path, tokens: &[(&str, &str)]) -> std::path::PathBuf {
    let path = dir.join("tokens");
    let mut text = String::from("# test tokens\n\n");
    for (token, account) in tokens {
        text.push_str(&format!(
            "{} {account}\n",
            hex::encode(sha2::Sha256::digest(token.as_bytes()))
        ));
    }
    std::fs::write(&path, text).expect("write tokens file");
    path
}

#[tokio::test]
async fn accounts_must_be_authenticated_initialised_and_isolated() {
    const ALPHA: &str = "token-alpha";
    const BRAVO: &str = "token-bravo";
    const ACCOUNT_A: &str = "111111111111";
    const ACCOUNT_B: &str = "222222222222";
    let dir = tempfile::TempDir::new().expect("dir");
    let tokens = write_tokens(dir.path(), &[(ALPHA, ACCOUNT_A), (BRAVO, ACCOUNT_B)]);
    let tokens = tokens.to_str().expect("utf-8 path");
    let server = TestServer::start(&["--no-simulator", "--tokens-file", tokens]);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut accounts = server.accounts().await;

    // No token, an unknown token, the digest instead of the token, another
    // scheme: UNAUTHENTICATED.
    let status = servers
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(
        status.metadata().get("x-request-id").is_some(),
        "x-request-id on UNAUTHENTICATED: {status:?}"
    );
    let status = accounts
        .initialize_service(InitializeServiceRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let digest = hex::encode(sha2::Sha256::digest(ALPHA.as_bytes()));
    for wrong in ["token-charlie", digest.as_str(), "", "token-alph"] {
        let status = servers
            .register_source_server(bearer(RegisterSourceServerRequest::default(), wrong))
            .await
            .expect_err("wrong token");
        assert_eq!(status.code(), Code::Unauthenticated, "{wrong}: {status:?}");
    }
    let mut basic = Request::new(RegisterSourceServerRequest::default());
    basic.metadata_mut().insert(
        "authorization",
        format!("Basic {ALPHA}").parse().expect("ascii"),
    );
    let status = servers
        .register_source_server(basic)
        .await
        .expect_err("not a bearer token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // Before InitializeService every call fails so.
    let uninitialised = |status: Status, account: &str| {
        let status = expect_error(
            status,
            Code::FailedPrecondition,
            "UninitializedAccountException",
        );
        assert_eq!(metadata(&status)["httpStatus"], "400");
        assert!(status.message().contains(account), "{status:?}");
    };
    let status = servers
        .register_source_server(bearer(RegisterSourceServerRequest::default(), ALPHA))
        .await
        .expect_err("register before init");
    uninitialised(status, ACCOUNT_A);
    let status = servers
        .describe_source_servers(bearer(DescribeSourceServersRequest::default(), ALPHA))
        .await
        .expect_err("describe before init");
    uninitialised(status, ACCOUNT_A);
    let status = servers
        .get_source_server(bearer(
            GetSourceServerRequest {
                source_server_id: UNKNOWN_SERVER.into(),
            },
            ALPHA,
        ))
        .await
        .expect_err("get before init");
    uninitialised(status, ACCOUNT_A);
    let status = servers
        .finalize_cutover(bearer(
            FinalizeCutoverRequest {
                source_server_id: UNKNOWN_SERVER.into(),
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect_err("finalize before init");
    uninitialised(status, ACCOUNT_A);
    let status = jobs
        .create_replication_job(bearer(
            CreateReplicationJobRequest {
                source_id: UNKNOWN_SERVER.into(),
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect_err("create job before init");
    uninitialised(status, ACCOUNT_A);
    let status = jobs
        .describe_replication_jobs(bearer(DescribeReplicationJobsRequest::default(), ALPHA))
        .await
        .expect_err("describe jobs before init");
    uninitialised(status, ACCOUNT_A);
    let status = jobs
        .cut_over_replication_job(bearer(
            CutOverReplicationJobRequest {
                job_id: UNKNOWN_JOB.into(),
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect_err("cut over before init");
    uninitialised(status, ACCOUNT_A);

    let watch = async {
        let mut watch = LifecycleServiceClient::new(server.channel().await);
        let mut stream = watch
            .watch_lifecycle_events(bearer(WatchLifecycleEventsRequest::default(), ALPHA))
            .await?
            .into_inner();
        stream.message().await
    };
    let status = watch.await.expect_err("watch before init");
    uninitialised(status, ACCOUNT_A);

    // InitializeService is idempotent.
    let response = accounts
        .initialize_service(bearer(InitializeServiceRequest::default(), ALPHA))
        .await
        .expect("initialise A");
    let request_id = header(response.metadata());
    let first = response.into_inner();
    assert_eq!(first.request_id, request_id);
    assert_eq!(first.account_id, ACCOUNT_A);
    assert!(first.newly_initialized);
    let again = accounts
        .initialize_service(bearer(InitializeServiceRequest::default(), ALPHA))
        .await
        .expect("initialise A again")
        .into_inner();
    assert_eq!(again.account_id, ACCOUNT_A);
    assert!(!again.newly_initialized);
    assert_ne!(again.request_id, first.request_id);

    // A is usable now; B is not.
    let a_server = servers
        .register_source_server(bearer(
            RegisterSourceServerRequest {
                client_token: "shared-token".into(),
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect("register for A")
        .into_inner();
    assert_eq!(a_server.account_id, ACCOUNT_A);
    assert!(a_server.arn.contains(ACCOUNT_A), "{}", a_server.arn);
    let a_id = a_server.source_server_id.clone();
    let status = servers
        .register_source_server(bearer(RegisterSourceServerRequest::default(), BRAVO))
        .await
        .expect_err("B is not initialised");
    uninitialised(status, ACCOUNT_B);
    let b_init = accounts
        .initialize_service(bearer(InitializeServiceRequest::default(), BRAVO))
        .await
        .expect("initialise B")
        .into_inner();
    assert_eq!(b_init.account_id, ACCOUNT_B);
    assert!(b_init.newly_initialized);

    // A's resources are invisible to B.
    let status = servers
        .get_source_server(bearer(
            GetSourceServerRequest {
                source_server_id: a_id.clone(),
            },
            BRAVO,
        ))
        .await
        .expect_err("B reads A's server");
    expect_not_found(status, "SourceServer", &a_id);
    let status = servers
        .disconnect_from_service(bearer(
            DisconnectFromServiceRequest {
                source_server_id: a_id.clone(),
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect_err("B disconnects A's server");
    expect_not_found(status, "SourceServer", &a_id);
    let status = servers
        .finalize_cutover(bearer(
            FinalizeCutoverRequest {
                source_server_id: a_id.clone(),
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect_err("B finalizes A's server");
    expect_not_found(status, "SourceServer", &a_id);
    let status = jobs
        .create_replication_job(bearer(
            CreateReplicationJobRequest {
                source_id: a_id.clone(),
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect_err("B creates a job for A's server");
    expect_not_found(status, "SourceServer", &a_id);
    let b_list = servers
        .describe_source_servers(bearer(DescribeSourceServersRequest::default(), BRAVO))
        .await
        .expect("B lists")
        .into_inner();
    assert!(
        b_list.items.is_empty(),
        "B sees nothing of A's: {:?}",
        b_list.items
    );
    let b_by_id = servers
        .describe_source_servers(bearer(
            DescribeSourceServersRequest {
                filters: Some(DescribeSourceServersFilters {
                    source_server_ids: vec![a_id.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect("B lists by A's id")
        .into_inner();
    assert!(b_by_id.items.is_empty());

    // Client tokens are per account: B's same token is a new request.
    let b_server = servers
        .register_source_server(bearer(
            RegisterSourceServerRequest {
                client_token: "shared-token".into(),
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect("register for B with A's token")
        .into_inner();
    assert_ne!(b_server.source_server_id, a_id);
    assert_eq!(b_server.account_id, ACCOUNT_B);

    let a_list = servers
        .describe_source_servers(bearer(DescribeSourceServersRequest::default(), ALPHA))
        .await
        .expect("A lists")
        .into_inner();
    let a_ids: Vec<&str> = a_list
        .items
        .iter()
        .map(|s| s.source_server_id.as_str())
        .collect();
    assert_eq!(a_ids, vec![a_id.as_str()]);
    let b_list = servers
        .describe_source_servers(bearer(DescribeSourceServersRequest::default(), BRAVO))
        .await
        .expect("B lists")
        .into_inner();
    let b_ids: Vec<&str> = b_list
        .items
        .iter()
        .map(|s| s.source_server_id.as_str())
        .collect();
    assert_eq!(b_ids, vec![b_server.source_server_id.as_str()]);
    let stored = servers
        .get_source_server(bearer(
            GetSourceServerRequest {
                source_server_id: a_id.clone(),
            },
            ALPHA,
        ))
        .await
        .expect("A reads its server")
        .into_inner();
    assert_eq!(
        stored.life_cycle.expect("life").state,
        LifeCycleState::PendingInstallation as i32
    );

    // A's page token is no good to B.
    for _ in 0..2 {
        servers
            .register_source_server(bearer(RegisterSourceServerRequest::default(), ALPHA))
            .await
            .expect("register for A");
    }
    let token = servers
        .describe_source_servers(bearer(
            DescribeSourceServersRequest {
                max_results: 1,
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect("A's first page")
        .into_inner()
        .next_token;
    assert!(!token.is_empty());
    let status = servers
        .describe_source_servers(bearer(
            DescribeSourceServersRequest {
                max_results: 1,
                next_token: token,
                ..Default::default()
            },
            BRAVO,
        ))
        .await
        .expect_err("B replays A's token");
    expect_violation(status, "next_token");
}

#[tokio::test]
async fn replication_job_status_preconditions() {
    let server = TestServer::start(WATCHABLE);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let source = register(&mut servers).await;
    wait_for_state(&mut servers, &source, LifeCycleState::ReadyForTest).await;
    let job_id = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            ..Default::default()
        })
        .await
        .expect("CreateReplicationJob")
        .into_inner()
        .job_id;
    assert_eq!(
        get_job(&mut jobs, &job_id).await.status,
        ReplicationJobStatus::Ready as i32
    );

    // CutOverReplicationJob needs Waiting.
    for sync_data in [true, false] {
        let status = jobs
            .cut_over_replication_job(CutOverReplicationJobRequest {
                job_id: job_id.clone(),
                sync_data,
                ..Default::default()
            })
            .await
            .expect_err("cut over a Ready job");
        let status = expect_smc(
            status,
            "ReplicationJob.InvalidStatus",
            "ReplicationJob",
            &job_id,
            "Ready",
        );
        assert_eq!(
            status.message(),
            "The specified replication job status: Ready is invalid. This operation can only be performed in the following status: Waiting."
        );
    }
    // StopReplicationJob needs a running job.
    let status = jobs
        .stop_replication_job(StopReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("stop a Ready job");
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Ready",
    );
    assert_eq!(allowed_in(status.message()), set(&["Running"]));
    let job = get_job(&mut jobs, &job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Ready as i32,
        "refusals change nothing"
    );
    assert!(job.cut_over.is_none());

    // StartReplicationJob on a Running job, then on a Finished one.
    jobs.start_replication_job(StartReplicationJobRequest {
        job_id: job_id.clone(),
        ..Default::default()
    })
    .await
    .expect("StartReplicationJob");
    let status = jobs
        .start_replication_job(StartReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("start a Running job");
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Running",
    );
    assert!(
        status
            .message()
            .starts_with("The specified replication job status: Running is invalid."),
        "{}",
        status.message()
    );
    assert_eq!(
        allowed_in(status.message()),
        set(&["Ready", "Stopped", "InError"])
    );

    wait_for_job(&mut jobs, &job_id, |job| {
        job.status == ReplicationJobStatus::Finished as i32
    })
    .await;
    let status = jobs
        .start_replication_job(StartReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("start a Finished job");
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Finished",
    );
    assert!(status
        .message()
        .starts_with("The specified replication job status: Finished is invalid."));
    assert_eq!(
        allowed_in(status.message()),
        set(&["Ready", "Stopped", "InError"])
    );
    let status = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("cut over a Finished job");
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Finished",
    );
    assert_eq!(
        status.message(),
        "The specified replication job status: Finished is invalid. This operation can only be performed in the following status: Waiting."
    );
    assert_eq!(
        get_job(&mut jobs, &job_id).await.replication_job_runs.len(),
        1,
        "one run, nothing restarted"
    );
}

#[tokio::test]
async fn stop_outside_syncing_is_an_invalid_business_status() {
    let server = TestServer::start(WATCHABLE);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let source = register(&mut servers).await;
    wait_for_state(&mut servers, &source, LifeCycleState::ReadyForTest).await;
    let job_id = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            run_once: Some(false),
            frequency: 24,
            max_number_of_image_to_keep: 2,
            ..Default::default()
        })
        .await
        .expect("CreateReplicationJob")
        .into_inner()
        .job_id;

    // Preparing lasts one tick (100 ms): a stop right after the start
    // almost always lands in it. When it lands in Syncing instead the job
    // is Stopped, and can be started again.
    let mut refusal = None;
    let mut stops = 0;
    for _ in 0..20 {
        jobs.start_replication_job(StartReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect("StartReplicationJob");
        match jobs
            .stop_replication_job(StopReplicationJobRequest {
                job_id: job_id.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(_) => {
                stops += 1;
                assert_eq!(
                    get_job(&mut jobs, &job_id).await.status,
                    ReplicationJobStatus::Stopped as i32
                );
            }
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let status = refusal.unwrap_or_else(|| panic!("every one of {stops} stops landed in Syncing"));
    let status = expect_smc(
        status,
        "ReplicationJob.InvalidBusinessStatus",
        "ReplicationJob",
        &job_id,
        "Preparing",
    );
    assert_eq!(
        status.message(),
        "The specified business status: Preparing of the replication job is invalid. This operation can only be performed in the following status: Syncing."
    );
    // The refused stop changed nothing: the run goes on to Waiting.
    let job = wait_for_job(&mut jobs, &job_id, |job| {
        job.status == ReplicationJobStatus::Waiting as i32
    })
    .await;
    assert_eq!(job.image_ids.len(), 1);

    // Stop in Waiting: not running at all.
    let status = jobs
        .stop_replication_job(StopReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("stop a Waiting job");
    expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Waiting",
    );
}

#[tokio::test]
async fn source_server_state_invalid_for_jobs() {
    let server = TestServer::start(WATCHABLE);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let (source, job_id) = waiting_job(&server, 24, 2).await;

    // A second job while the first is unfinished (Waiting).
    let status = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            ..Default::default()
        })
        .await
        .expect_err("second job");
    let status = expect_smc(
        status,
        "SourceServerState.Invalid",
        "SourceServer",
        &source,
        "InUse",
    );
    assert_eq!(
        status.message(),
        "The specified source server status: InUse is invalid. This operation can only be performed in the following status: Available."
    );

    // A disconnected source cannot take a final sync...
    servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: source.clone(),
            ..Default::default()
        })
        .await
        .expect("disconnect");
    let status = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            sync_data: true,
            ..Default::default()
        })
        .await
        .expect_err("final sync from a disconnected source");
    let status = expect_smc(
        status,
        "SourceServerState.Invalid",
        "SourceServer",
        &source,
        "Unavailable",
    );
    assert!(
        status
            .message()
            .starts_with("The specified source server status: Unavailable is invalid."),
        "{}",
        status.message()
    );
    assert!(status.message().ends_with('.'));
    let job = get_job(&mut jobs, &job_id).await;
    assert_eq!(
        job.status,
        ReplicationJobStatus::Waiting as i32,
        "the refusal changed nothing"
    );
    assert!(job.next_run_time.is_some(), "the schedule is kept");
    assert!(job.cut_over.is_none());

    // ...but without sync_data no source check applies.
    let response = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            sync_data: false,
            ..Default::default()
        })
        .await
        .expect("cut over without sync_data");
    assert_eq!(
        header(response.metadata()),
        response.into_inner().request_id
    );
    let done = wait_for_job(&mut jobs, &job_id, |job| {
        job.status == ReplicationJobStatus::Finished as i32
    })
    .await;
    assert_eq!(done.replication_job_runs.len(), 1, "no final sync ran");

    // The job's status is checked before the source: a Finished job of a
    // disconnected source is InvalidStatus, not SourceServerState.Invalid.
    let status = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            sync_data: true,
            ..Default::default()
        })
        .await
        .expect_err("cut over a Finished job of a disconnected source");
    expect_smc(
        status,
        "ReplicationJob.InvalidStatus",
        "ReplicationJob",
        &job_id,
        "Finished",
    );

    // With the job finished the source has no unfinished job, and is
    // Unavailable.
    let status = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            ..Default::default()
        })
        .await
        .expect_err("job for a disconnected source");
    expect_smc(
        status,
        "SourceServerState.Invalid",
        "SourceServer",
        &source,
        "Unavailable",
    );
}

#[tokio::test]
async fn unreadable_stored_data_is_an_internal_error_and_the_server_keeps_serving() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let broken = register(&mut servers).await;

    let db =
        rusqlite::Connection::open(server.data_dir.join("cutover.db")).expect("open cutover.db");
    db.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    let changed = db
        .execute(
            "UPDATE source_servers SET body = 'not json' WHERE id = ?1",
            [&broken],
        )
        .expect("corrupt the row");
    assert_eq!(changed, 1);
    drop(db);

    let internal = |status: Status| {
        let status = expect_error(status, Code::Internal, "InternalError");
        assert_eq!(status.message(), INTERNAL_MESSAGE);
        assert_eq!(metadata(&status)["httpStatus"], "500");
        assert!(!status.message().contains("json"), "no internals leak");
    };
    let status = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: broken.clone(),
        })
        .await
        .expect_err("unreadable server");
    internal(status);
    let status = servers
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect_err("a listing with an unreadable server");
    internal(status);
    let status = servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: broken.clone(),
            ..Default::default()
        })
        .await
        .expect_err("mutating an unreadable server");
    internal(status);

    // The server is still up and serves everything else.
    let fresh = register(&mut servers).await;
    assert_eq!(
        get_server(&mut servers, &fresh).await.source_server_id,
        fresh
    );
    servers
        .disconnect_from_service(DisconnectFromServiceRequest {
            source_server_id: fresh.clone(),
            ..Default::default()
        })
        .await
        .expect("disconnect a healthy server");
    let status = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: UNKNOWN_SERVER.into(),
        })
        .await
        .expect_err("unknown");
    expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    let status = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: broken.clone(),
        })
        .await
        .expect_err("still unreadable");
    expect_error(status, Code::Internal, "InternalError");
}

#[tokio::test]
async fn every_success_carries_its_request_id() {
    let server = TestServer::start(WATCHABLE);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut accounts = server.accounts().await;
    let mut seen: Vec<String> = Vec::new();
    let mut check = |metadata: &MetadataMap, body: &str| {
        let header = header(metadata);
        assert_eq!(body, header);
        assert_eq!(header.len(), 32, "{header}");
        seen.push(header);
    };

    let r = accounts
        .initialize_service(InitializeServiceRequest::default())
        .await
        .expect("init");
    check(r.metadata(), &r.get_ref().request_id);
    assert!(
        !r.get_ref().newly_initialized,
        "the built-in account starts initialised"
    );
    let r = servers
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect("register");
    check(r.metadata(), &r.get_ref().request_id);
    let id = r.into_inner().source_server_id;
    let r = servers
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect("register");
    check(r.metadata(), &r.get_ref().request_id);
    let source = r.into_inner().source_server_id;
    let r = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: id.clone(),
        })
        .await
        .expect("get");
    check(r.metadata(), &r.get_ref().request_id);
    let r = servers
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe");
    check(r.metadata(), &r.get_ref().request_id);
    assert!(
        r.get_ref().items.iter().all(|s| s.request_id.is_empty()),
        "items carry no request id"
    );

    wait_for_state(&mut servers, &id, LifeCycleState::ReadyForTest).await;
    let r = servers
        .start_test(StartTestRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("test");
    check(r.metadata(), &r.get_ref().request_id);
    let r = servers
        .change_server_life_cycle_state(ChangeServerLifeCycleStateRequest {
            source_server_id: id.clone(),
            state: LifeCycleState::ReadyForCutover as i32,
            ..Default::default()
        })
        .await
        .expect("ready for cutover");
    check(r.metadata(), &r.get_ref().request_id);
    let r = servers
        .start_cutover(StartCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("cutover");
    check(r.metadata(), &r.get_ref().request_id);
    let r = servers
        .finalize_cutover(FinalizeCutoverRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("finalize");
    check(r.metadata(), &r.get_ref().request_id);
    let r = servers
        .mark_as_archived(MarkAsArchivedRequest {
            source_server_id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("archive");
    check(r.metadata(), &r.get_ref().request_id);

    wait_for_state(&mut servers, &source, LifeCycleState::ReadyForTest).await;
    let r = jobs
        .create_replication_job(CreateReplicationJobRequest {
            source_id: source.clone(),
            run_once: Some(false),
            frequency: 24,
            max_number_of_image_to_keep: 2,
            ..Default::default()
        })
        .await
        .expect("create job");
    check(r.metadata(), &r.get_ref().request_id);
    let job_id = r.into_inner().job_id;
    let r = jobs
        .get_replication_job(GetReplicationJobRequest {
            job_id: job_id.clone(),
        })
        .await
        .expect("get job");
    check(r.metadata(), &r.get_ref().request_id);
    let r = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest::default())
        .await
        .expect("describe jobs");
    check(r.metadata(), &r.get_ref().request_id);
    let r = jobs
        .start_replication_job(StartReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect("start job");
    check(r.metadata(), &r.get_ref().request_id);
    // Syncing lasts 4 ticks (400 ms); stop early in it.
    wait_for_job(&mut jobs, &job_id, |job| {
        job.business_status == ReplicationJobBusinessStatus::Syncing as i32 && job.progress < 50.0
    })
    .await;
    let r = jobs
        .stop_replication_job(StopReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect("stop job while Syncing");
    check(r.metadata(), &r.get_ref().request_id);
    let r = jobs
        .start_replication_job(StartReplicationJobRequest {
            job_id: job_id.clone(),
            ..Default::default()
        })
        .await
        .expect("restart job");
    check(r.metadata(), &r.get_ref().request_id);
    wait_for_job(&mut jobs, &job_id, |job| {
        job.status == ReplicationJobStatus::Waiting as i32
    })
    .await;
    let r = jobs
        .cut_over_replication_job(CutOverReplicationJobRequest {
            job_id: job_id.clone(),
            sync_data: true,
            ..Default::default()
        })
        .await
        .expect("cut over");
    check(r.metadata(), &r.get_ref().request_id);

    // Errors too: x-request-id equals ErrorInfo's requestId (expect_error
    // checks it), and every call got its own id.
    let status = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: UNKNOWN_SERVER.into(),
        })
        .await
        .expect_err("unknown");
    let status = expect_not_found(status, "SourceServer", UNKNOWN_SERVER);
    seen.push(header(status.metadata()));
    let status = servers
        .get_source_server(GetSourceServerRequest {
            source_server_id: "bad".into(),
        })
        .await
        .expect_err("malformed");
    let status = expect_violation(status, "source_server_id");
    seen.push(header(status.metadata()));
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "request ids are unique: {seen:?}");
    assert_eq!(seen.len(), 19);
}

/// Polls, as `token`'s account, until the server reaches `state`.
async fn wait_for_state_as(server: &TestServer, token: &str, id: &str, state: LifeCycleState) {
    let client = server.servers().await;
    eventually(DEADLINE, &format!("{id} to reach {state:?}"), || {
        let mut client = client.clone();
        async move {
            let found = client
                .get_source_server(bearer(
                    GetSourceServerRequest {
                        source_server_id: id.into(),
                    },
                    token,
                ))
                .await
                .expect("GetSourceServer")
                .into_inner();
            (found.life_cycle.map(|l| l.state) == Some(state as i32)).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn jobs_are_isolated_between_accounts_and_initialisation_is_durable() {
    const ALPHA: &str = "alpha-secret";
    const BRAVO: &str = "bravo-secret";
    const ACCOUNT_A: &str = "123456789012";
    let dir = tempfile::TempDir::new().expect("dir");
    let tokens = write_tokens(dir.path(), &[(ALPHA, ACCOUNT_A), (BRAVO, "210987654321")]);
    let tokens = tokens.to_str().expect("utf-8 path").to_owned();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let args = ["--sim-speed", "100", "--tokens-file", tokens.as_str()];
    let mut server = TestServer::start_in(&data, &args);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut accounts = server.accounts().await;
    for token in [ALPHA, BRAVO] {
        let init = accounts
            .initialize_service(bearer(InitializeServiceRequest::default(), token))
            .await
            .expect("initialise")
            .into_inner();
        assert!(init.newly_initialized);
    }

    let source = servers
        .register_source_server(bearer(RegisterSourceServerRequest::default(), ALPHA))
        .await
        .expect("register for A")
        .into_inner()
        .source_server_id;
    wait_for_state_as(&server, ALPHA, &source, LifeCycleState::ReadyForTest).await;
    let job_id = jobs
        .create_replication_job(bearer(
            CreateReplicationJobRequest {
                source_id: source.clone(),
                ..Default::default()
            },
            ALPHA,
        ))
        .await
        .expect("A creates a job")
        .into_inner()
        .job_id;

    let b_cannot_see = |jobs: &mut ReplicationJobServiceClient<Channel>| {
        let mut jobs = jobs.clone();
        let job_id = job_id.clone();
        let source = source.clone();
        async move {
            let status = jobs
                .get_replication_job(bearer(
                    GetReplicationJobRequest {
                        job_id: job_id.clone(),
                    },
                    BRAVO,
                ))
                .await
                .expect_err("B reads A's job");
            expect_not_found(status, "ReplicationJob", &job_id);
            let status = jobs
                .start_replication_job(bearer(
                    StartReplicationJobRequest {
                        job_id: job_id.clone(),
                        ..Default::default()
                    },
                    BRAVO,
                ))
                .await
                .expect_err("B starts A's job");
            expect_not_found(status, "ReplicationJob", &job_id);
            let status = jobs
                .stop_replication_job(bearer(
                    StopReplicationJobRequest {
                        job_id: job_id.clone(),
                        ..Default::default()
                    },
                    BRAVO,
                ))
                .await
                .expect_err("B stops A's job");
            expect_not_found(status, "ReplicationJob", &job_id);
            let status = jobs
                .cut_over_replication_job(bearer(
                    CutOverReplicationJobRequest {
                        job_id: job_id.clone(),
                        ..Default::default()
                    },
                    BRAVO,
                ))
                .await
                .expect_err("B cuts over A's job");
            expect_not_found(status, "ReplicationJob", &job_id);
            for request in [
                DescribeReplicationJobsRequest::default(),
                DescribeReplicationJobsRequest {
                    job_ids: vec![job_id.clone()],
                    ..Default::default()
                },
                DescribeReplicationJobsRequest {
                    source_ids: vec![source.clone()],
                    ..Default::default()
                },
            ] {
                let listed = jobs
                    .describe_replication_jobs(bearer(request, BRAVO))
                    .await
                    .expect("B lists jobs")
                    .into_inner();
                assert!(
                    listed.replication_jobs.is_empty(),
                    "B sees A's job: {listed:?}"
                );
            }
        }
    };
    b_cannot_see(&mut jobs).await;
    let a_jobs = jobs
        .describe_replication_jobs(bearer(DescribeReplicationJobsRequest::default(), ALPHA))
        .await
        .expect("A lists jobs")
        .into_inner();
    let listed: Vec<&str> = a_jobs
        .replication_jobs
        .iter()
        .map(|j| j.job_id.as_str())
        .collect();
    assert_eq!(listed, vec![job_id.as_str()]);
    let job = jobs
        .get_replication_job(bearer(
            GetReplicationJobRequest {
                job_id: job_id.clone(),
            },
            ALPHA,
        ))
        .await
        .expect("A reads its job")
        .into_inner();
    assert_eq!(
        job.status,
        ReplicationJobStatus::Ready as i32,
        "B's attempts changed nothing"
    );
    assert_eq!(job.account_id, ACCOUNT_A);

    // After a restart both accounts are still initialised, and still apart.
    drop((servers, jobs, accounts));
    server.stop();
    let server = TestServer::start_in(&data, &args);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut accounts = server.accounts().await;
    servers
        .register_source_server(bearer(RegisterSourceServerRequest::default(), BRAVO))
        .await
        .expect("B is still initialised");
    let again = accounts
        .initialize_service(bearer(InitializeServiceRequest::default(), ALPHA))
        .await
        .expect("initialise A again")
        .into_inner();
    assert!(
        !again.newly_initialized,
        "initialisation survives a restart"
    );
    b_cannot_see(&mut jobs).await;
    jobs.get_replication_job(bearer(
        GetReplicationJobRequest {
            job_id: job_id.clone(),
        },
        ALPHA,
    ))
    .await
    .expect("A still reads its job");
}

#[tokio::test]
async fn a_locked_store_is_unavailable_and_the_server_recovers() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut servers = server.servers().await;
    let id = register(&mut servers).await;

    // Another process holds the database's write lock for longer than the
    // server waits: a write fails with a status that says retrying helps.
    let db =
        rusqlite::Connection::open(server.data_dir.join("cutover.db")).expect("open cutover.db");
    db.execute_batch("BEGIN EXCLUSIVE")
        .expect("take the write lock");
    let status = servers
        .register_source_server(RegisterSourceServerRequest::default())
        .await
        .expect_err("register while the store is locked");
    let status = expect_error(status, Code::Unavailable, "InternalError");
    assert_eq!(status.message(), INTERNAL_MESSAGE);
    assert_eq!(metadata(&status)["httpStatus"], "500");
    db.execute_batch("ROLLBACK")
        .expect("release the write lock");
    drop(db);

    // Once the lock is gone the same call succeeds.
    let fresh = register(&mut servers).await;
    assert_ne!(fresh, id);
    let listed = servers
        .describe_source_servers(DescribeSourceServersRequest::default())
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(
        listed.items.len(),
        2,
        "the failed write left nothing behind"
    );
}
