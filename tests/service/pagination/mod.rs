//! DescribeSourceServers and DescribeReplicationJobs pagination over real
//! gRPC: complete and duplicate-free walks at several page sizes, a walk
//! that stays consistent while servers are being registered, filters, and
//! next tokens that only resume the query they were issued for.
//!
//! This file holds the walkers; the cases are in [`walks`], [`filters`]
//! and [`jobs`].

mod filters;
mod jobs;
mod walks;

use std::{
    collections::BTreeSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use cutover::pb::v1::{
    source_server_service_client::SourceServerServiceClient, DescribeSourceServersFilters,
    DescribeSourceServersRequest,
};
use cutover_testkit::{register, request_id_header};
use tonic::transport::Channel;

const NO_SIMULATOR: &[&str] = &["--no-simulator"];

/// Registers `count` servers with `tasks` concurrent callers.
pub(crate) async fn register_many(
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

pub(crate) fn describe(
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

/// One page of a listing: its ids, which must be strictly sorted, and the
/// next token; the answer's request id is its header's.
pub(crate) async fn page(
    client: &mut SourceServerServiceClient<Channel>,
    filters: Option<DescribeSourceServersFilters>,
    max_results: i32,
    next_token: &str,
) -> (Vec<String>, String) {
    let response = client
        .describe_source_servers(describe(filters, max_results, next_token))
        .await
        .expect("DescribeSourceServers");
    let header = request_id_header(response.metadata());
    let page = response.into_inner();
    assert_eq!(page.request_id, header);
    let ids: Vec<String> = page.items.into_iter().map(|s| s.source_server_id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "a page is not strictly sorted by id: {ids:?}"
    );
    (ids, page.next_token)
}

/// Asserts `ids` continue a walk that has seen `seen` so far.
pub(crate) fn assert_goes_on(seen: &[String], ids: &[String]) {
    if let (Some(previous), Some(first)) = (seen.last(), ids.first()) {
        assert!(
            previous < first,
            "the walk goes back: {previous} then {first}"
        );
    }
}

/// Walks every page of a listing; returns the pages' ids. Asserts that
/// each page is sorted by id, continues where the previous one ended, is
/// full unless it is the last, and that only the last has no next token.
pub(crate) async fn walk(
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
        let (ids, next_token) = page(client, filters.clone(), max_results, &token).await;
        assert_goes_on(pages.last().map_or(&[], Vec::as_slice), &ids);
        assert!(ids.len() <= page_size, "page larger than max_results");
        let last = next_token.is_empty();
        if !last {
            assert_eq!(ids.len(), page_size, "a page before the last is full");
        }
        pages.push(ids);
        if last {
            return pages;
        }
        token = next_token;
        assert!(pages.len() < 10_000, "runaway pagination");
    }
}

/// The ids of all `pages`, each of which must be there once.
pub(crate) fn union(pages: &[Vec<String>]) -> BTreeSet<String> {
    let all: Vec<&String> = pages.iter().flatten().collect();
    let set: BTreeSet<String> = all.iter().map(|s| (*s).clone()).collect();
    assert_eq!(set.len(), all.len(), "an id was returned twice");
    set
}
