//! DescribeSourceServers and DescribeReplicationJobs pagination over real
//! gRPC: complete and duplicate-free walks at several page sizes, a walk
//! that stays consistent while servers are being registered, filters, and
//! next tokens that only resume the query they were issued for.

mod support;

use std::{
    collections::{BTreeSet, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient, CreateReplicationJobRequest,
    DescribeReplicationJobsRequest, DescribeSourceServersFilters, DescribeSourceServersRequest,
    DisconnectFromServiceRequest, LifeCycleState, MarkAsArchivedRequest,
    RegisterSourceServerRequest, ReplicationJobBusinessStatus, ReplicationJobStatus,
    ReplicationType,
};
use support::*;
use tonic::{transport::Channel, Code};
use tonic_types::StatusExt;

const NO_SIMULATOR: &[&str] = &["--no-simulator"];

/// Registers `count` servers with `tasks` concurrent callers.
async fn register_many(
    client: &SourceServerServiceClient<Channel>,
    count: usize,
    tasks: usize,
) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let mut client = client.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < count {
                    ids.push(register(&mut client).await);
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(count);
    for handle in handles {
        ids.extend(handle.await.expect("register task"));
    }
    assert_eq!(ids.len(), count);
    ids
}

fn describe(
    filters: Option<DescribeSourceServersFilters>,
    max_results: i32,
    next_token: &str,
) -> DescribeSourceServersRequest {
    DescribeSourceServersRequest {
        filters,
        max_results,
        next_token: next_token.to_owned(),
    }
}

/// Walks every page of a listing; returns the pages' ids. Asserts that
/// each page is sorted by id, continues where the previous one ended, is
/// full unless it is the last, and that only the last has no next token.
async fn walk(
    client: &mut SourceServerServiceClient<Channel>,
    filters: Option<DescribeSourceServersFilters>,
    max_results: i32,
) -> Vec<Vec<String>> {
    let page_size = if max_results == 0 {
        1000
    } else {
        max_results as usize
    };
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut token = String::new();
    loop {
        let response = client
            .describe_source_servers(describe(filters.clone(), max_results, &token))
            .await
            .expect("DescribeSourceServers");
        let header = response
            .metadata()
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .expect("ascii")
            .to_owned();
        let page = response.into_inner();
        assert_eq!(page.request_id, header);
        let ids: Vec<String> = page
            .items
            .iter()
            .map(|s| s.source_server_id.clone())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "page {} is not strictly sorted by id",
            pages.len()
        );
        if let (Some(previous), Some(first)) = (pages.last().and_then(|p| p.last()), ids.first()) {
            assert!(
                previous < first,
                "page {} goes back: {previous} then {first}",
                pages.len()
            );
        }
        assert!(ids.len() <= page_size, "page larger than max_results");
        let last = page.next_token.is_empty();
        if !last {
            assert_eq!(ids.len(), page_size, "a page before the last is full");
        }
        pages.push(ids);
        if last {
            return pages;
        }
        token = page.next_token;
        assert!(pages.len() < 10_000, "runaway pagination");
    }
}

fn union(pages: &[Vec<String>]) -> BTreeSet<String> {
    let all: Vec<&String> = pages.iter().flatten().collect();
    let set: BTreeSet<String> = all.iter().map(|s| (*s).clone()).collect();
    assert_eq!(set.len(), all.len(), "an id was returned twice");
    set
}

fn expect_next_token_rejected(status: tonic::Status) {
    let status = expect_error(status, Code::InvalidArgument, "ValidationException");
    let bad = status.get_details_bad_request().expect("BadRequest");
    assert!(
        bad.field_violations.iter().any(|v| v.field == "next_token"),
        "{bad:?}"
    );
}

#[tokio::test]
async fn thousands_of_servers_page_completely_and_consistently_under_writes() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut client = server.servers().await;
    let ids = register_many(&client, 2500, 16).await;
    let expected: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(expected.len(), 2500, "ids are unique");

    // Default and maximum page size: 1000, 1000, 500.
    let pages = walk(&mut client, None, 1000).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(union(&pages), expected);
    let default = walk(&mut client, None, 0).await;
    assert_eq!(default, pages, "max_results 0 means 1000");

    // Exactly divisible: no trailing empty page.
    let pages = walk(&mut client, None, 500).await;
    assert_eq!(pages.len(), 5);
    assert!(pages.iter().all(|p| p.len() == 500));
    assert_eq!(union(&pages), expected);

    // A small, odd page size.
    let pages = walk(&mut client, None, 7).await;
    assert_eq!(pages.len(), 2500usize.div_ceil(7));
    assert_eq!(pages.last().map(Vec::len), Some(2500 % 7));
    assert_eq!(union(&pages), expected);

    // A walk while 200 more servers are being registered: the writer is
    // kept ahead of the walk page by page so the two really interleave.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let mut client = client.clone();
        let written = written.clone();
        tokio::spawn(async move {
            let mut new = Vec::new();
            for _ in 0..200 {
                new.push(register(&mut client).await);
                written.fetch_add(1, Ordering::SeqCst);
            }
            new
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut pages = 0usize;
    loop {
        let page = client
            .describe_source_servers(describe(None, 100, &token))
            .await
            .expect("DescribeSourceServers during writes")
            .into_inner();
        let page_ids: Vec<String> = page
            .items
            .iter()
            .map(|s| s.source_server_id.clone())
            .collect();
        assert!(page_ids.windows(2).all(|w| w[0] < w[1]), "page sorted");
        if let (Some(previous), Some(first)) = (seen.last(), page_ids.first()) {
            assert!(previous < first, "the walk never goes back");
        }
        seen.extend(page_ids);
        pages += 1;
        if page.next_token.is_empty() {
            break;
        }
        token = page.next_token;
        let target = (pages * 8).min(200);
        eventually(Duration::from_secs(20), "the writer to keep up", || {
            let written = written.clone();
            async move { (written.load(Ordering::SeqCst) >= target).then_some(()) }
        })
        .await;
    }
    let new: Vec<String> = writer.await.expect("writer");
    let during_walk = written.load(Ordering::SeqCst);
    assert_eq!(during_walk, 200);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no id is returned twice");
    for id in &expected {
        assert!(
            unique.contains(id),
            "{id} existed before the walk and was missed"
        );
    }
    let new_set: HashSet<&String> = new.iter().collect();
    assert!(
        seen.iter()
            .all(|id| expected.contains(id) || new_set.contains(id)),
        "only real ids are returned"
    );
    assert!(pages >= 25, "the walk spanned the writes ({pages} pages)");

    // Once the writes are done, a walk sees all 2,700.
    let after = union(&walk(&mut client, None, 1000).await);
    assert_eq!(after.len(), 2700);
    assert!(new.iter().all(|id| after.contains(id)));
}

#[tokio::test]
async fn filters_select_and_tokens_are_bound_to_their_filter() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut client = server.servers().await;
    let ids = register_many(&client, 30, 4).await;
    let mut snapshot = Vec::new();
    for _ in 0..5 {
        snapshot.push(
            client
                .register_source_server(RegisterSourceServerRequest {
                    replication_type: ReplicationType::SnapshotShipping as i32,
                    ..Default::default()
                })
                .await
                .expect("register snapshot shipping")
                .into_inner()
                .source_server_id,
        );
    }
    let all: BTreeSet<String> = ids.iter().chain(&snapshot).cloned().collect();
    let disconnected: BTreeSet<String> = ids[..10].iter().cloned().collect();
    let archived: BTreeSet<String> = ids[..4].iter().cloned().collect();
    for id in &disconnected {
        client
            .disconnect_from_service(DisconnectFromServiceRequest {
                source_server_id: id.clone(),
                ..Default::default()
            })
            .await
            .expect("disconnect");
    }
    for id in &archived {
        client
            .mark_as_archived(MarkAsArchivedRequest {
                source_server_id: id.clone(),
                ..Default::default()
            })
            .await
            .expect("archive");
    }
    let pending: BTreeSet<String> = all.difference(&disconnected).cloned().collect();
    let unarchived: BTreeSet<String> = all.difference(&archived).cloned().collect();

    let filter = |f: DescribeSourceServersFilters| Some(f);
    let listed = |pages: Vec<Vec<String>>| union(&pages);

    // No filter: everything, archived included.
    assert_eq!(listed(walk(&mut client, None, 4).await), all);
    assert_eq!(
        listed(
            walk(
                &mut client,
                filter(DescribeSourceServersFilters::default()),
                4
            )
            .await
        ),
        all,
        "empty filters match everything"
    );

    // is_archived.
    let archived_only = filter(DescribeSourceServersFilters {
        is_archived: Some(true),
        ..Default::default()
    });
    assert_eq!(
        listed(walk(&mut client, archived_only.clone(), 3).await),
        archived
    );
    let unarchived_only = filter(DescribeSourceServersFilters {
        is_archived: Some(false),
        ..Default::default()
    });
    let pages = walk(&mut client, unarchived_only.clone(), 3).await;
    assert_eq!(pages.len(), unarchived.len().div_ceil(3));
    assert_eq!(listed(pages), unarchived);

    // life_cycle_states.
    let states = |states: &[LifeCycleState]| {
        filter(DescribeSourceServersFilters {
            life_cycle_states: states.iter().map(|s| *s as i32).collect(),
            ..Default::default()
        })
    };
    assert_eq!(
        listed(walk(&mut client, states(&[LifeCycleState::Disconnected]), 3).await),
        disconnected
    );
    assert_eq!(
        listed(
            walk(
                &mut client,
                states(&[LifeCycleState::PendingInstallation]),
                7
            )
            .await
        ),
        pending
    );
    assert_eq!(
        listed(
            walk(
                &mut client,
                states(&[
                    LifeCycleState::PendingInstallation,
                    LifeCycleState::Disconnected
                ]),
                7
            )
            .await
        ),
        all
    );
    assert!(
        walk(&mut client, states(&[LifeCycleState::Cutover]), 7).await
            == vec![Vec::<String>::new()],
        "no server is CUTOVER: one empty page without a token"
    );

    // Combined: disconnected but not archived.
    let combined = filter(DescribeSourceServersFilters {
        is_archived: Some(false),
        life_cycle_states: vec![LifeCycleState::Disconnected as i32],
        ..Default::default()
    });
    let expected: BTreeSet<String> = disconnected.difference(&archived).cloned().collect();
    assert_eq!(listed(walk(&mut client, combined, 2).await), expected);

    // replication_types.
    let types = |t: ReplicationType| {
        filter(DescribeSourceServersFilters {
            replication_types: vec![t as i32],
            ..Default::default()
        })
    };
    assert_eq!(
        listed(walk(&mut client, types(ReplicationType::SnapshotShipping), 2).await),
        snapshot.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        listed(walk(&mut client, types(ReplicationType::AgentBased), 100).await),
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );

    // source_server_ids: the listed ones that exist; an unknown one is
    // simply absent.
    let chosen: Vec<String> = vec![
        ids[0].clone(),
        ids[15].clone(),
        ids[29].clone(),
        snapshot[2].clone(),
    ];
    let by_id = filter(DescribeSourceServersFilters {
        source_server_ids: chosen
            .iter()
            .cloned()
            .chain(["s-00000000000000000".to_owned()])
            .collect(),
        ..Default::default()
    });
    let pages = walk(&mut client, by_id.clone(), 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 1]);
    assert_eq!(
        listed(pages),
        chosen.iter().cloned().collect::<BTreeSet<_>>()
    );
    let by_id_unarchived = filter(DescribeSourceServersFilters {
        source_server_ids: chosen.clone(),
        is_archived: Some(false),
        ..Default::default()
    });
    assert_eq!(
        listed(walk(&mut client, by_id_unarchived, 10).await),
        chosen[1..].iter().cloned().collect::<BTreeSet<_>>(),
        "ids[0] is archived"
    );

    // A token only resumes the query it was issued for.
    let token = client
        .describe_source_servers(describe(unarchived_only.clone(), 3, ""))
        .await
        .expect("first page")
        .into_inner()
        .next_token;
    assert!(!token.is_empty());
    for other in [
        None,
        archived_only.clone(),
        states(&[LifeCycleState::PendingInstallation]),
        by_id.clone(),
        filter(DescribeSourceServersFilters::default()),
    ] {
        let status = client
            .describe_source_servers(describe(other.clone(), 3, &token))
            .await
            .expect_err("a token sent with another filter");
        expect_next_token_rejected(status);
    }
    // The same filter with another page size resumes fine.
    let resumed = client
        .describe_source_servers(describe(unarchived_only.clone(), 50, &token))
        .await
        .expect("same filter, another page size")
        .into_inner();
    assert_eq!(resumed.items.len(), unarchived.len() - 3);
    assert!(resumed.next_token.is_empty());

    // A server's token is no job token.
    let mut jobs = server.jobs().await;
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: token,
            ..Default::default()
        })
        .await
        .expect_err("a source server token for jobs");
    expect_next_token_rejected(status);
}

async fn walk_jobs(
    jobs: &mut ReplicationJobServiceClient<Channel>,
    request: DescribeReplicationJobsRequest,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut request = request;
    loop {
        let page = jobs
            .describe_replication_jobs(request.clone())
            .await
            .expect("DescribeReplicationJobs")
            .into_inner();
        let ids: Vec<String> = page
            .replication_jobs
            .iter()
            .map(|j| j.job_id.clone())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "page sorted by job id");
        pages.push(ids);
        if page.next_token.is_empty() {
            return pages;
        }
        request.next_token = page.next_token;
        assert!(pages.len() < 1000, "runaway pagination");
    }
}

#[tokio::test]
async fn replication_jobs_page_and_filter() {
    let server = TestServer::start(&["--sim-speed", "100"]);
    let mut servers = server.servers().await;
    let mut jobs = server.jobs().await;
    let mut sources = Vec::new();
    for _ in 0..5 {
        sources.push(register(&mut servers).await);
    }
    let mut job_ids = Vec::new();
    for source in &sources {
        wait_for_state(&mut servers, source, LifeCycleState::ReadyForTest).await;
        job_ids.push(
            jobs.create_replication_job(CreateReplicationJobRequest {
                source_id: source.clone(),
                name: "page".into(),
                ..Default::default()
            })
            .await
            .expect("CreateReplicationJob")
            .into_inner()
            .job_id,
        );
    }
    let all: BTreeSet<String> = job_ids.iter().cloned().collect();
    let everything = DescribeReplicationJobsRequest {
        max_results: 2,
        ..Default::default()
    };
    let pages = walk_jobs(&mut jobs, everything.clone()).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 1]
    );
    assert_eq!(union(&pages), all);

    let by_source = DescribeReplicationJobsRequest {
        source_ids: vec![sources[1].clone(), sources[3].clone()],
        max_results: 1,
        ..Default::default()
    };
    assert_eq!(
        union(&walk_jobs(&mut jobs, by_source.clone()).await),
        BTreeSet::from([job_ids[1].clone(), job_ids[3].clone()])
    );
    let by_id = DescribeReplicationJobsRequest {
        job_ids: vec![job_ids[0].clone(), job_ids[4].clone()],
        ..Default::default()
    };
    assert_eq!(
        union(&walk_jobs(&mut jobs, by_id).await),
        BTreeSet::from([job_ids[0].clone(), job_ids[4].clone()])
    );
    let ready = DescribeReplicationJobsRequest {
        statuses: vec![ReplicationJobStatus::Ready as i32],
        max_results: 3,
        ..Default::default()
    };
    assert_eq!(union(&walk_jobs(&mut jobs, ready).await), all);
    let running = DescribeReplicationJobsRequest {
        statuses: vec![ReplicationJobStatus::Running as i32],
        ..Default::default()
    };
    assert_eq!(
        walk_jobs(&mut jobs, running).await,
        vec![Vec::<String>::new()]
    );
    let syncing = DescribeReplicationJobsRequest {
        business_statuses: vec![ReplicationJobBusinessStatus::Syncing as i32],
        ..Default::default()
    };
    assert_eq!(
        walk_jobs(&mut jobs, syncing).await,
        vec![Vec::<String>::new()]
    );

    // A token issued for one filter is refused with another.
    let token = jobs
        .describe_replication_jobs(everything)
        .await
        .expect("first page")
        .into_inner()
        .next_token;
    assert!(!token.is_empty());
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: token,
            ..by_source
        })
        .await
        .expect_err("token of another filter");
    expect_next_token_rejected(status);
}

/// Small pages must not stall: a listing answer is written in several
/// pieces, and without TCP_NODELAY on the server's sockets Nagle's
/// algorithm holds the last piece until the client's delayed ACK (40 ms
/// on Linux), so each page of two or more servers took ~44 ms and a walk
/// of 2,500 servers at 7 per page took 16 s.
#[tokio::test]
async fn small_pages_are_served_without_stalls() {
    let server = TestServer::start(NO_SIMULATOR);
    let mut client = server.servers().await;
    register_many(&client, 20, 4).await;
    client
        .describe_source_servers(describe(None, 7, ""))
        .await
        .expect("warm up");
    let mut times = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let page = client
            .describe_source_servers(describe(None, 7, ""))
            .await
            .expect("DescribeSourceServers")
            .into_inner();
        times.push(start.elapsed());
        assert_eq!(page.items.len(), 7);
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(
        median < Duration::from_millis(25),
        "a 7-server page took {median:?} (median of 21): {times:?}"
    );
}

#[tokio::test]
async fn a_next_token_survives_a_restart() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::start_in(dir.path(), NO_SIMULATOR);
    let client = server.servers().await;
    let ids: BTreeSet<String> = register_many(&client, 5, 1).await.into_iter().collect();
    let first = {
        let mut client = client.clone();
        client
            .describe_source_servers(describe(None, 2, ""))
            .await
            .expect("first page")
            .into_inner()
    };
    assert!(!first.next_token.is_empty());
    drop(client);
    server.stop();

    let server = TestServer::start_in(dir.path(), NO_SIMULATOR);
    let mut client = server.servers().await;
    let mut seen: Vec<String> = first
        .items
        .iter()
        .map(|s| s.source_server_id.clone())
        .collect();
    let mut token = first.next_token;
    while !token.is_empty() {
        let page = client
            .describe_source_servers(describe(None, 2, &token))
            .await
            .expect("a token issued before the restart")
            .into_inner();
        seen.extend(page.items.iter().map(|s| s.source_server_id.clone()));
        token = page.next_token;
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), ids);
}
