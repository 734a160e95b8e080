//! The lifecycle watch over real gRPC: snapshots, resumption, restarts,
//! compaction, filters, bookmarks, slow consumers and many watchers.

use std::{collections::HashSet, time::Duration};

use cutover::pb::v1::{
    lifecycle_service_client::LifecycleServiceClient, watch_lifecycle_events_response::Kind,
    LifecycleEventType, ResourceType, WatchLifecycleEventsRequest,
};
use cutover_testkit::*;
use tonic::{transport::Channel, Code};
use tonic_types::StatusExt;

/// A bookmark every 50 ms.
const BOOKMARKS: Option<prost_types::Duration> = Some(prost_types::Duration {
    seconds: 0,
    nanos: 50_000_000,
});

/// Three transitions per server (registration, disconnection,
/// archival), `servers` times. Returns the server ids.
async fn drive(server: &TestServer, servers: usize) -> Vec<String> {
    churn(&mut server.servers().await, servers).await
}

fn assert_gap_free(revisions: &[u64], first: u64) {
    let expected: Vec<u64> = (first..first + revisions.len() as u64).collect();
    assert_eq!(
        revisions,
        expected.as_slice(),
        "revisions must be contiguous from {first}"
    );
}

#[tokio::test]
async fn snapshot_then_live_has_no_gap_and_no_duplicate_under_writes() {
    let server = TestServer::in_process(&["--sim-speed", "200"]);
    let mut servers = server.servers().await;
    for _ in 0..5 {
        register(&mut servers).await;
    }
    // The simulator keeps writing while the snapshot is taken.
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(&mut lifecycle, watch_snapshot()).await;
    let mut snapshot_ids = HashSet::new();
    let snapshot_revision = loop {
        match next_message(&mut watch).await {
            Kind::Snapshot(snapshot) => {
                let Some(cutover::pb::v1::resource_snapshot::Resource::SourceServer(s)) =
                    snapshot.resource
                else {
                    panic!("only servers exist")
                };
                assert!(
                    snapshot_ids.insert(s.source_server_id),
                    "each resource once"
                );
            }
            Kind::SnapshotEnd(end) => break end.revision,
            other => panic!("unexpected before the snapshot end: {other:?}"),
        }
    };
    assert_eq!(snapshot_ids.len(), 5);
    let live = revisions_until(&mut watch, snapshot_revision + 40).await;
    assert_gap_free(&live, snapshot_revision + 1);

    // An independent full replay agrees on what those revisions were.
    let mut replay = open_watch(&mut lifecycle, watch_from(1)).await;
    let all = revisions_until(&mut replay, snapshot_revision + 40).await;
    assert_gap_free(&all, 1);
}

#[tokio::test]
async fn resuming_after_a_disconnect_gets_exactly_the_missed_events() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut lifecycle = server.lifecycle().await;
    drive(&server, 4).await; // revisions 1..=12
    let mut watch = open_watch(&mut lifecycle, watch_from(1)).await;
    let seen = revisions_until(&mut watch, 7).await;
    assert_gap_free(&seen, 1);
    drop(watch);
    drive(&server, 3).await; // revisions 13..=21
    let mut resumed = open_watch(&mut lifecycle, watch_from(8)).await;
    let rest = revisions_until(&mut resumed, 21).await;
    assert_gap_free(&rest, 8);
    // And nothing after 21 until there is a 22nd change.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), resumed.message())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_watch_resumes_across_a_server_restart_without_missing_anything() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::in_process_in(dir.path(), &["--no-simulator"]);
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(&mut lifecycle, watch_from(0)).await;
    drive(&server, 2).await; // 1..=6
    let seen = revisions_until(&mut watch, 6).await;
    assert_gap_free(&seen, 1);
    server.stop();
    let end = loop {
        match tokio::time::timeout(DEADLINE, watch.message())
            .await
            .expect("end before deadline")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream must end with a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(end.code(), Code::Unavailable, "{end:?}");
    let info = end.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.metadata["resumeRevision"], "7");

    let server = TestServer::in_process_in(dir.path(), &["--no-simulator"]);
    drive(&server, 2).await; // 7..=12 while the watcher is away
    let mut lifecycle = server.lifecycle().await;
    let mut resumed = open_watch(&mut lifecycle, watch_from(7)).await;
    let rest = revisions_until(&mut resumed, 12).await;
    assert_gap_free(&rest, 7);
}

#[tokio::test]
async fn compacted_revisions_end_the_watch_with_out_of_range_and_the_oldest_kept() {
    let server = TestServer::in_process(&[
        "--no-simulator",
        "--event-retention-count",
        "5",
        "--compaction-interval-ms",
        "20",
    ]);
    drive(&server, 5).await; // 1..=15; only 11..=15 are kept
    let mut lifecycle = server.lifecycle().await;
    // Compaction runs in the background: wait until it caught up with the
    // last write, each refusal naming the oldest revision kept at the time.
    eventually(DEADLINE, "compaction to keep only 11..=15", || {
        let mut lifecycle = lifecycle.clone();
        async move {
            let status = lifecycle
                .watch_lifecycle_events(watch_from(1))
                .await
                .err()?;
            assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
            let info = status.get_details_error_info().expect("ErrorInfo");
            assert_eq!(info.reason, "RevisionCompacted");
            assert_eq!(info.metadata["requestedRevision"], "1");
            (info.metadata["oldestRevision"] == "11").then_some(())
        }
    })
    .await;
    let mut watch = open_watch(&mut lifecycle, watch_from(11)).await;
    assert_gap_free(&revisions_until(&mut watch, 15).await, 11);
}

#[tokio::test]
async fn filters_by_resource_id_and_event_type() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut lifecycle = server.lifecycle().await;
    let mut client = server.servers().await;
    let target = register(&mut client).await; // revision 1
    let mut by_id = open_watch(
        &mut lifecycle,
        WatchLifecycleEventsRequest {
            start_revision: 1,
            resource_ids: vec![target.clone()],
            ..Default::default()
        },
    )
    .await;
    let mut by_type = open_watch(
        &mut lifecycle,
        WatchLifecycleEventsRequest {
            start_revision: 1,
            event_types: vec![LifecycleEventType::SourceServerArchived as i32],
            resource_types: vec![ResourceType::SourceServer as i32],
            ..Default::default()
        },
    )
    .await;
    let others = drive(&server, 3).await;
    disconnect(&mut client, &target).await;
    for _ in 0..2 {
        let Kind::Event(event) = next_message(&mut by_id).await else {
            panic!("event")
        };
        assert_eq!(event.resource_id, target);
    }
    for id in &others {
        let Kind::Event(event) = next_message(&mut by_type).await else {
            panic!("event")
        };
        assert_eq!(&event.resource_id, id);
        assert_eq!(
            event.event_type,
            LifecycleEventType::SourceServerArchived as i32
        );
    }
}

#[tokio::test]
async fn bookmarks_advance_a_filtered_watcher_that_sees_nothing() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut client = server.servers().await;
    let quiet = register(&mut client).await; // revision 1
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(
        &mut lifecycle,
        WatchLifecycleEventsRequest {
            start_revision: 2,
            resource_ids: vec![quiet],
            progress_interval: BOOKMARKS,
            ..Default::default()
        },
    )
    .await;
    drive(&server, 2).await; // 2..=7, none about the quiet server
    let bookmark = loop {
        match next_message(&mut watch).await {
            Kind::Bookmark(mark) if mark.revision == 7 => break mark.revision,
            Kind::Bookmark(mark) => assert!(mark.revision < 7),
            other => panic!("the filter matches nothing: {other:?}"),
        }
    };
    // Resuming from the bookmark skips what the watcher already considered.
    let mut resumed = open_watch(&mut lifecycle, watch_from(bookmark + 1)).await;
    drive(&server, 1).await;
    assert_gap_free(&revisions_until(&mut resumed, 10).await, 8);
}

/// The server keeps no queue per watcher: one that falls out of the live
/// window re-reads what it missed from the stored log. So what bounds its
/// memory is that mechanism, observed here through the metric it raises,
/// rather than the process's RSS (which depends on the allocator).
#[tokio::test]
async fn a_slow_consumer_falls_back_to_the_log_and_still_gets_everything() {
    let server = TestServer::in_process(&["--no-simulator", "--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics_addr.clone().expect("metrics address");
    let fell_behind = || {
        let page = http1(&metrics, "GET /metrics HTTP/1.1", &[]);
        metric_value(&page, "cutover_watchers_fell_behind_total")
    };
    // HTTP/2's default 64 KiB windows: tonic's client would otherwise take
    // megabytes of events into its own buffers on the watcher's behalf.
    let narrow = Channel::from_shared(server.endpoint.clone())
        .expect("endpoint")
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .expect("connect");
    let mut slow = open_watch(&mut LifecycleServiceClient::new(narrow), watch_from(1)).await;
    // More events than the live broadcast holds (4096), unread.
    let clients = futures_util::future::join_all((0..8).map(|_| server.servers())).await;
    futures_util::future::join_all(clients.into_iter().map(|mut client| async move {
        for _ in 0..650 {
            register(&mut client).await;
        }
    }))
    .await;
    let all = revisions_until(&mut slow, 5200).await;
    assert_gap_free(&all, 1);
    assert!(
        fell_behind() >= 1.0,
        "the slow watcher read what it missed from the log"
    );
}

#[tokio::test]
async fn a_thousand_watchers_each_get_every_event_of_a_cutover_run_in_order() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let channels: Vec<Channel> =
        futures_util::future::join_all((0..10).map(|_| server.channel())).await;
    let mut watchers = Vec::new();
    for i in 0..1000 {
        let mut client = LifecycleServiceClient::new(channels[i % channels.len()].clone());
        watchers.push(open_watch(&mut client, watch_from(1)).await);
    }
    let mut client = server.servers().await;
    let driver = tokio::spawn(async move { churn(&mut client, 67).await });
    let readers: Vec<_> = watchers
        .into_iter()
        .map(|mut watch| tokio::spawn(async move { revisions_until(&mut watch, 201).await }))
        .collect();
    driver.await.expect("driver");
    for reader in readers {
        assert_gap_free(&reader.await.expect("reader"), 1);
    }
}

/// Live events reach each connection's watchers through that connection's
/// relay: watchers leaving one connection, or a new connection arriving,
/// must not disturb the others.
#[tokio::test]
async fn connections_come_and_go_and_every_live_watcher_still_gets_every_event() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut driver = server.servers().await;
    let open_from_now = |channel: Channel| async move {
        let mut client = LifecycleServiceClient::new(channel);
        open_watch(&mut client, watch_from(0)).await
    };
    let (first, second) = (server.channel().await, server.channel().await);
    let mut leaving = Vec::new();
    let mut staying = Vec::new();
    for _ in 0..3 {
        leaving.push(open_from_now(first.clone()).await);
        staying.push(open_from_now(second.clone()).await);
    }
    churn(&mut driver, 1).await; // revisions 1..=3
    for watch in leaving.iter_mut().chain(staying.iter_mut()) {
        assert_gap_free(&revisions_until(watch, 3).await, 1);
    }
    drop(leaving);
    drop(first);
    churn(&mut driver, 1).await; // 4..=6: the first connection's relay retires
    let mut newcomer = open_from_now(server.channel().await).await;
    churn(&mut driver, 1).await; // 7..=9
    for watch in &mut staying {
        assert_gap_free(&revisions_until(watch, 9).await, 4);
    }
    assert_gap_free(&revisions_until(&mut newcomer, 9).await, 7);
}

#[tokio::test]
async fn a_watcher_sees_only_its_own_account() {
    use cutover::pb::v1::{InitializeServiceRequest, RegisterSourceServerRequest};

    let tokens = TokensFile::new(&[("alpha", "111111111111"), ("beta", "222222222222")]);
    let server = TestServer::in_process(&["--no-simulator", "--tokens-file", tokens.path()]);
    let mut accounts = server.accounts().await;
    for token in ["alpha", "beta"] {
        accounts
            .initialize_service(bearer(InitializeServiceRequest::default(), token))
            .await
            .expect("initialize");
    }
    let mut lifecycle = server.lifecycle().await;
    let beta_from_1 = WatchLifecycleEventsRequest {
        start_revision: 1,
        progress_interval: BOOKMARKS,
        ..Default::default()
    };
    let mut beta_watch = lifecycle
        .watch_lifecycle_events(bearer(beta_from_1, "beta"))
        .await
        .expect("watch")
        .into_inner();
    let mut servers = server.servers().await;
    for _ in 0..3 {
        servers
            .register_source_server(bearer(RegisterSourceServerRequest::default(), "alpha"))
            .await
            .expect("register");
    }
    // Beta's watcher considers alpha's revisions 1..=3 but is shown none.
    loop {
        match next_message(&mut beta_watch).await {
            Kind::Bookmark(mark) if mark.revision == 3 => break,
            Kind::Bookmark(_) => {}
            other => panic!("another account's event leaked: {other:?}"),
        }
    }
    let mut snapshot = lifecycle
        .watch_lifecycle_events(bearer(watch_snapshot(), "beta"))
        .await
        .expect("watch")
        .into_inner();
    assert!(
        matches!(next_message(&mut snapshot).await, Kind::SnapshotEnd(end) if end.revision == 3),
        "beta's snapshot is empty"
    );
    let unauthenticated = lifecycle
        .watch_lifecycle_events(watch_from(0))
        .await
        .expect_err("no token");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
}
