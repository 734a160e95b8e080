//! Connections that hold resources without using them: thousands of idle
//! or half-open TCP connections and a watcher that never reads. Other
//! clients keep their latency, and the server's memory stays bounded.

use std::{
    io::Write,
    net::TcpStream,
    time::{Duration, Instant},
};

use cutover::pb::v1::{watch_lifecycle_events_response::Kind, WatchLifecycleEventsRequest};

use cutover_testkit::*;

/// The p99 of `calls` GetSourceServer round trips.
async fn get_p99(server: &TestServer, id: &str, calls: usize) -> Duration {
    let mut client = server.servers().await;
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        get_server(&mut client, id).await;
        times.push(started.elapsed());
    }
    times.sort();
    times[(calls * 99 / 100).min(calls - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_open_connections_do_not_starve_other_clients() {
    let server = TestServer::start(&["--no-simulator"]);
    let id = register(&mut server.servers().await).await;
    let before = get_p99(&server, &id, 200).await;

    // 1,500 connections that never send a byte, and 500 that stop in the
    // middle of the HTTP/2 preface.
    let mut idle = Vec::new();
    for n in 0..2_000 {
        let mut stream = TcpStream::connect(&server.addr).expect("connect");
        if n % 4 == 0 {
            stream
                .write_all(b"PRI * HTTP/2.0\r\n")
                .expect("half a preface");
        }
        idle.push(stream);
    }
    let rss_with_idle = server.rss_kib();
    let during = get_p99(&server, &id, 200).await;
    println!(
        "GetSourceServer p99: {before:?} alone, {during:?} beside 2,000 idle connections; \
         server RSS {rss_with_idle} KiB"
    );
    assert!(
        during < before * 10 + Duration::from_millis(50),
        "idle connections slowed others: {before:?} -> {during:?}"
    );
    assert!(
        rss_with_idle < 512 * 1024,
        "2,000 idle connections cost {rss_with_idle} KiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_never_reads_holds_up_neither_other_watchers_nor_memory() {
    let server = TestServer::start(&["--no-simulator"]);
    let mut lifecycle = server.lifecycle().await;
    // Opened and never read: its connection's window fills and stays full.
    let _stalled = open_watch(&mut lifecycle, WatchLifecycleEventsRequest::default()).await;
    let mut reader = open_watch(
        &mut server.lifecycle().await,
        WatchLifecycleEventsRequest::default(),
    )
    .await;
    let rss_before = server.rss_kib();
    let ids = churn(&mut server.servers().await, 700).await;
    let head = 3 * ids.len() as u64;
    let mut last = 0;
    while last < head {
        if let Kind::Event(event) = next_message(&mut reader).await {
            last = event.revision;
        }
    }
    let grown = server.rss_kib().saturating_sub(rss_before);
    println!("2,100 events past a stalled watcher: the reader kept up; RSS +{grown} KiB");
    assert!(grown < 64 * 1024, "the stalled watcher cost {grown} KiB");
}
