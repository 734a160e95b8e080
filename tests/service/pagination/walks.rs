//! Walks of every server at several page sizes, during writes, across a
//! restart, and small pages served without stalls.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use cutover_testkit::{eventually, register, TestServer};

use super::{assert_goes_on, describe, page, register_many, union, walk, NO_SIMULATOR};

#[tokio::test]
async fn thousands_of_servers_page_completely_and_consistently_under_writes() {
    let server = TestServer::in_process(NO_SIMULATOR);
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
        let (ids, next_token) = page(&mut client, None, 100, &token).await;
        assert_goes_on(&seen, &ids);
        seen.extend(ids);
        pages += 1;
        if next_token.is_empty() {
            break;
        }
        token = next_token;
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

/// Small pages must not stall: a listing answer is written in several
/// pieces, and without TCP_NODELAY on the server's sockets Nagle's
/// algorithm holds the last piece until the client's delayed ACK (40 ms
/// on Linux), so each page of two or more servers took ~44 ms and a walk
/// of 2,500 servers at 7 per page took 16 s.
#[tokio::test]
async fn small_pages_are_served_without_stalls() {
    let server = TestServer::in_process(NO_SIMULATOR);
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
    let mut server = TestServer::in_process_in(dir.path(), NO_SIMULATOR);
    let client = server.servers().await;
    let ids: BTreeSet<String> = register_many(&client, 5, 1).await.into_iter().collect();
    let (mut seen, mut token) = page(&mut client.clone(), None, 2, "").await;
    assert!(!token.is_empty());
    drop(client);
    server.stop();

    let server = TestServer::in_process_in(dir.path(), NO_SIMULATOR);
    let mut client = server.servers().await;
    while !token.is_empty() {
        // A token issued before the restart resumes the walk.
        let (ids, next_token) = page(&mut client, None, 2, &token).await;
        seen.extend(ids);
        token = next_token;
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), ids);
}
