//! Ten thousand servers on the page: the first render, the virtualised
//! table, the tag filter, and a burst of events arriving while the page
//! keeps painting. Prints the figures BENCHMARKS.md quotes (and writes
//! them to `$CARGO_TARGET_TMPDIR/dashboard/scale.json`); asserts what
//! the page shows, not how fast.

use std::{collections::BTreeMap, time::Instant};

use cutover::pb::v1::{
    watch_lifecycle_events_response::Kind, DisconnectFromServiceRequest,
    RegisterSourceServerRequest,
};
use futures_util::{stream, StreamExt};
use serde_json::json;

use cutover_testkit::*;

use super::{browser::Browser, count, output_dir, set_filter, stat};

/// Servers on the page (`CUTOVER_DASHBOARD_SERVERS` overrides, for the
/// figures at other sizes).
fn fleet() -> usize {
    std::env::var("CUTOVER_DASHBOARD_SERVERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

const BURST: usize = 2_000;
const IN_FLIGHT: usize = 64;

/// JavaScript: starts recording the longest gap between animation frames
/// (how long the page went without painting) in `window.frameGaps`.
const FRAME_PROBE: &str = "(() => { const gaps = window.frameGaps = { max: 0, frames: 0 }; \
    let last = performance.now(); \
    const tick = (now) => { gaps.max = Math.max(gaps.max, now - last); gaps.frames += 1; last = now; \
      if (!gaps.stop) requestAnimationFrame(tick); }; \
    requestAnimationFrame(tick); return true; })()";

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_servers_render_at_once_and_a_burst_streams_in() {
    let servers_on_page = fleet();
    let server = TestServer::start(&["--simulator", "none"]);
    let servers = server.servers().await;
    let registering = Instant::now();
    let ids: Vec<String> = stream::iter(0..servers_on_page)
        .map(|i| {
            let mut client = servers.clone();
            async move {
                let tags = BTreeMap::from([("wave".to_owned(), format!("{}", i % 4))]);
                client
                    .register_source_server(RegisterSourceServerRequest {
                        tags: tags.into_iter().collect(),
                        ..Default::default()
                    })
                    .await
                    .expect("register")
                    .into_inner()
                    .source_server_id
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    println!(
        "registered {servers_on_page} servers in {:?}",
        registering.elapsed()
    );

    // The baseline: a Rust client reading the same snapshot over gRPC.
    let reading = Instant::now();
    let mut lifecycle = server.lifecycle().await;
    let mut snapshot = open_watch(&mut lifecycle, watch_snapshot()).await;
    while !matches!(next_message(&mut snapshot).await, Kind::SnapshotEnd(_)) {}
    let snapshot_read = reading.elapsed();
    drop(snapshot);

    let browser = Browser::start(1600, 1000).await;
    browser.open(&format!("{}/", server.endpoint)).await;
    browser
        .until(
            "ten thousand servers",
            &format!("document.getElementById('server-total').textContent === '{servers_on_page}'"),
        )
        .await;
    let first_render = browser
        .until(
            "the first render's time",
            "Number(document.body.dataset.firstRenderMs)",
        )
        .await
        .as_f64()
        .expect("milliseconds");
    let rows_in_document = browser
        .eval("document.querySelectorAll('#server-rows .row').length")
        .await
        .as_u64()
        .expect("rows");
    assert!(
        (1..200).contains(&rows_in_document),
        "{rows_in_document} rows in the document for {servers_on_page} servers: not virtualised"
    );
    let mut sorted = ids.clone();
    sorted.sort();
    browser.eval("(() => { const r = document.getElementById('server-rows'); r.scrollTop = r.scrollHeight; return true; })()").await;
    let last = sorted.last().expect("servers");
    browser
        .until(
            "the last server at the bottom",
            &format!("document.querySelector('#server-rows .row[data-id=\"{last}\"]') !== null"),
        )
        .await;

    browser.eval(&set_filter("filter-tag", "wave=2")).await;
    browser
        .until(
            "a quarter of the wave",
            &format!(
                "document.getElementById('server-shown').textContent === '{} shown'",
                servers_on_page / 4
            ),
        )
        .await;
    browser.eval(&set_filter("filter-tag", "")).await;

    // The burst: BURST disconnections as fast as the service takes them.
    let frames_before = browser
        .eval(&stat("frames"))
        .await
        .as_u64()
        .unwrap_or_default();
    browser.eval(FRAME_PROBE).await;
    let bursting = Instant::now();
    stream::iter(ids.iter().take(BURST).cloned())
        .map(|id| {
            let mut client = servers.clone();
            async move {
                client
                    .disconnect_from_service(DisconnectFromServiceRequest {
                        source_server_id: id,
                        ..Default::default()
                    })
                    .await
                    .expect("disconnect");
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let committed = bursting.elapsed();
    browser
        .until(
            "the burst applied",
            &format!("{} === {BURST}", count("server-counts", "DISCONNECTED")),
        )
        .await;
    let shown = bursting.elapsed();
    let longest_gap = browser
        .eval("(window.frameGaps.stop = true, window.frameGaps.max)")
        .await;
    let longest_apply = browser.eval(&stat("maxFrameMs")).await;
    let frames = browser
        .eval(&stat("frames"))
        .await
        .as_u64()
        .unwrap_or_default()
        - frames_before;
    assert_eq!(
        browser
            .eval(&count("server-counts", "PENDING_INSTALLATION"))
            .await,
        servers_on_page - BURST
    );

    let figures = json!({
        "servers": servers_on_page,
        "first_render_ms": first_render,
        "grpc_snapshot_read_ms": snapshot_read.as_millis(),
        "first_render_vs_grpc_snapshot": first_render / snapshot_read.as_secs_f64() / 1000.0,
        "rows_in_document": rows_in_document,
        "burst_events": BURST,
        "burst_committed_ms": committed.as_millis(),
        "burst_shown_ms": shown.as_millis(),
        "burst_frames": frames,
        "longest_frame_gap_ms": longest_gap,
        "longest_frame_work_ms": longest_apply,
    });
    println!("dashboard figures: {figures}");
    std::fs::create_dir_all(output_dir()).expect("output dir");
    std::fs::write(output_dir().join("scale.json"), figures.to_string()).expect("figures");
    browser.screenshot(&output_dir().join("scale.png")).await;
    browser.close().await;
}
