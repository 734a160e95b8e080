//! Unit tests of the metrics and their HTTP endpoint.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tonic::Code;

use super::labels::OTHER_METHOD;
use super::{Metrics, Wire, CONTENT_TYPE, DURATION_BUCKETS, MAX_METHODS, OK};
use cutover_proto::code_name;

const FINALIZE: &str = "FinalizeCutover";
const GET: &str = "GetSourceServer";

/// A gRPC call of `operation` finished with `code`.
fn grpc(metrics: &Metrics, operation: &str, code: Code, elapsed: Duration) {
    metrics.request_finished(Wire::Grpc, operation, code_name(code), elapsed);
}

/// The samples of an exposition: series (name and labels) to value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample line has a value");
            let value = value.parse::<f64>().expect("sample value parses");
            (series.to_owned(), value)
        })
        .collect()
}

fn value(text: &str, series: &str) -> Option<f64> {
    samples(text).get(series).copied()
}

fn requests(operation: &str, code: &str) -> String {
    requests_on("grpc", operation, code)
}

fn requests_on(wire: &str, operation: &str, code: &str) -> String {
    format!("cutover_requests_total{{wire=\"{wire}\",operation=\"{operation}\",code=\"{code}\"}}")
}

fn errors(operation: &str, code: &str) -> String {
    format!(
        "cutover_request_errors_total{{wire=\"grpc\",operation=\"{operation}\",code=\"{code}\"}}"
    )
}

#[test]
fn fresh_metrics_render_every_scalar_at_zero() {
    let text = Metrics::new().render();
    assert!(text.ends_with("# EOF\n"), "{text}");
    for name in [
        "cutover_open_watchers",
        "cutover_watchers_fell_behind_total",
        "cutover_events_committed_total",
        "cutover_follow_up_tasks_pending",
        "cutover_follow_up_tasks_overdue",
    ] {
        assert_eq!(value(&text, name), Some(0.0), "{name} in {text}");
    }
    for family in [
        "# TYPE cutover_open_watchers gauge",
        "# TYPE cutover_watchers_fell_behind counter",
        "# TYPE cutover_events_committed counter",
        "# TYPE cutover_follow_up_tasks_pending gauge",
        "# TYPE cutover_follow_up_tasks_overdue gauge",
    ] {
        assert!(text.contains(family), "{family} missing from {text}");
    }
    // Labelled families show up with their first sample.
    assert!(!text.contains("cutover_request"), "{text}");
}

#[test]
fn labelled_families_appear_with_their_first_sample() {
    let metrics = Metrics::new();
    grpc(&metrics, FINALIZE, Code::Aborted, Duration::from_millis(1));
    let text = metrics.render();
    for family in [
        "# TYPE cutover_requests counter",
        "# TYPE cutover_request_errors counter",
        "# TYPE cutover_request_duration_seconds histogram",
        "# UNIT cutover_request_duration_seconds seconds",
    ] {
        assert!(text.contains(family), "{family} missing from {text}");
    }
}

#[test]
fn rpc_counters_count_by_method_and_code_and_errors_only_non_ok() {
    let metrics = Metrics::new();
    let ms = Duration::from_millis(1);
    grpc(&metrics, FINALIZE, Code::Ok, ms);
    grpc(&metrics, FINALIZE, Code::Ok, ms);
    grpc(&metrics, FINALIZE, Code::FailedPrecondition, ms);
    grpc(&metrics, GET, Code::NotFound, ms);
    let text = metrics.render();

    assert_eq!(value(&text, &requests(FINALIZE, "OK")), Some(2.0), "{text}");
    assert_eq!(
        value(&text, &requests(FINALIZE, "FAILED_PRECONDITION")),
        Some(1.0)
    );
    assert_eq!(value(&text, &requests(GET, "NOT_FOUND")), Some(1.0));
    assert_eq!(value(&text, &errors(FINALIZE, "OK")), None, "{text}");
    assert_eq!(
        value(&text, &errors(FINALIZE, "FAILED_PRECONDITION")),
        Some(1.0)
    );
    assert_eq!(value(&text, &errors(GET, "NOT_FOUND")), Some(1.0));
    let count =
        format!("cutover_request_duration_seconds_count{{wire=\"grpc\",operation=\"{FINALIZE}\"}}");
    assert_eq!(value(&text, &count), Some(3.0));
}

#[test]
fn duration_histogram_fills_cumulative_buckets_from_half_ms_to_ten_s() {
    let metrics = Metrics::new();
    for elapsed in [
        Duration::from_micros(300),
        Duration::from_millis(3),
        Duration::from_millis(700),
        Duration::from_secs(20),
    ] {
        grpc(&metrics, FINALIZE, Code::Ok, elapsed);
    }
    let text = metrics.render();
    let all = samples(&text);
    let bucket = |le: &str| {
        let series =
            format!("cutover_request_duration_seconds_bucket{{le=\"{le}\",wire=\"grpc\",operation=\"{FINALIZE}\"}}");
        *all.get(&series)
            .unwrap_or_else(|| panic!("{series} missing from {text}"))
    };
    assert_eq!(bucket("0.0005"), 1.0);
    assert_eq!(bucket("0.001"), 1.0);
    assert_eq!(bucket("0.005"), 2.0);
    assert_eq!(bucket("0.5"), 2.0);
    assert_eq!(bucket("1.0"), 3.0);
    assert_eq!(bucket("10.0"), 3.0);
    assert_eq!(bucket("+Inf"), 4.0);

    let bucket_lines = all
        .keys()
        .filter(|series| series.starts_with("cutover_request_duration_seconds_bucket{"))
        .count();
    assert_eq!(bucket_lines, DURATION_BUCKETS.len() + 1);
    assert_eq!(DURATION_BUCKETS.first(), Some(&0.0005));
    assert_eq!(DURATION_BUCKETS.last(), Some(&10.0));

    let sum =
        format!("cutover_request_duration_seconds_sum{{wire=\"grpc\",operation=\"{FINALIZE}\"}}");
    let sum = all[&sum];
    assert!((sum - 20.7033).abs() < 1e-9, "sum {sum}");
}

#[test]
fn watcher_guard_raises_the_gauge_until_dropped() {
    let metrics = Metrics::new();
    let open = |m: &Metrics| value(&m.render(), "cutover_open_watchers");
    let first = metrics.watcher_opened();
    let second = metrics.watcher_opened();
    assert_eq!(open(&metrics), Some(2.0));
    drop(first);
    assert_eq!(open(&metrics), Some(1.0));
    drop(second);
    assert_eq!(open(&metrics), Some(0.0));
}

#[test]
fn events_counter_adds_and_follow_up_gauges_are_set() {
    let metrics = Metrics::new();
    metrics.events_committed(3);
    metrics.events_committed(0);
    metrics.events_committed(4);
    metrics.set_follow_up_tasks(9, 2);
    metrics.set_follow_up_tasks(5, 1);
    let text = metrics.render();
    assert_eq!(value(&text, "cutover_events_committed_total"), Some(7.0));
    assert_eq!(value(&text, "cutover_follow_up_tasks_pending"), Some(5.0));
    assert_eq!(value(&text, "cutover_follow_up_tasks_overdue"), Some(1.0));

    metrics.set_follow_up_tasks(u64::MAX, 0);
    let text = metrics.render();
    assert_eq!(
        value(&text, "cutover_follow_up_tasks_pending"),
        Some(i64::MAX as f64)
    );
}

#[test]
fn operation_label_is_capped_per_wire_and_the_rest_fold_into_other() {
    let metrics = Metrics::new();
    let extra = 10;
    for i in 0..MAX_METHODS + extra {
        grpc(&metrics, &format!("/svc/M{i}"), Code::Ok, Duration::ZERO);
    }
    // Methods admitted before the cap keep their own label afterwards.
    grpc(&metrics, "/svc/M0", Code::Ok, Duration::ZERO);
    let text = metrics.render();
    let methods: HashSet<String> = samples(&text)
        .keys()
        .filter_map(|series| {
            series.strip_prefix("cutover_requests_total{wire=\"grpc\",operation=\"")
        })
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(methods.len(), MAX_METHODS + 1, "{methods:?}");
    assert!(methods.contains(OTHER_METHOD));
    assert_eq!(
        value(&text, &requests(OTHER_METHOD, "OK")),
        Some(extra as f64)
    );
    assert_eq!(value(&text, &requests("/svc/M0", "OK")), Some(2.0));
    let last = format!("/svc/M{}", MAX_METHODS + extra - 1);
    assert_eq!(value(&text, &requests(&last, "OK")), None);
}

#[test]
fn each_wire_counts_its_own_calls_with_its_own_codes() {
    let metrics = Metrics::new();
    let ms = Duration::from_millis(1);
    grpc(&metrics, FINALIZE, Code::Ok, ms);
    metrics.request_finished(Wire::Mgn, FINALIZE, OK, ms);
    metrics.request_finished(Wire::Mgn, FINALIZE, OK, ms);
    metrics.request_finished(Wire::Mgn, FINALIZE, "ConflictException", ms);
    metrics.request_finished(
        Wire::Smc,
        "CutOverReplicationJob",
        "InvalidJobId.NotFound",
        ms,
    );
    let text = metrics.render();
    assert_eq!(value(&text, &requests(FINALIZE, "OK")), Some(1.0), "{text}");
    assert_eq!(value(&text, &requests_on("mgn", FINALIZE, "OK")), Some(2.0));
    assert_eq!(
        value(&text, &requests_on("mgn", FINALIZE, "ConflictException")),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "cutover_request_errors_total{wire=\"smc\",operation=\"CutOverReplicationJob\",code=\"InvalidJobId.NotFound\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn odd_method_strings_are_escaped() {
    let metrics = Metrics::new();
    grpc(&metrics, "/a\"b\\c\nd", Code::Internal, Duration::ZERO);
    let text = metrics.render();
    assert_eq!(
        value(&text, &requests("/a\\\"b\\\\c\\nd", "INTERNAL")),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn code_names_are_the_grpc_spec_names() {
    let names: HashSet<&str> = (0..=16).map(|i| code_name(Code::from_i32(i))).collect();
    assert_eq!(names.len(), 17);
    assert_eq!(code_name(Code::Ok), "OK");
    assert_eq!(code_name(Code::FailedPrecondition), "FAILED_PRECONDITION");
    assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
}

/// A raw HTTP/1.1 GET of `path`: (status line, lower-cased headers, body).
async fn http_get(
    addr: std::net::SocketAddr,
    path: &str,
) -> (String, HashMap<String, String>, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

#[tokio::test]
async fn serve_exposes_metrics_and_healthz_and_stops_on_cancel() {
    let metrics = Metrics::new();
    grpc(&metrics, FINALIZE, Code::Ok, Duration::from_millis(2));
    metrics.events_committed(5);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(Arc::clone(&metrics).serve(listener, shutdown.clone()));

    let limit = Duration::from_secs(10);
    let (status, headers, body) = tokio::time::timeout(limit, http_get(addr, "/metrics"))
        .await
        .expect("metrics answered in time");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some(CONTENT_TYPE)
    );
    assert_eq!(value(&body, &requests(FINALIZE, "OK")), Some(1.0), "{body}");
    assert_eq!(value(&body, "cutover_events_committed_total"), Some(5.0));
    assert!(body.ends_with("# EOF\n"));

    let (status, _, body) = tokio::time::timeout(limit, http_get(addr, "/healthz"))
        .await
        .expect("healthz answered in time");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(body, "ok");

    let (status, _, _) = tokio::time::timeout(limit, http_get(addr, "/nope"))
        .await
        .expect("unknown path answered in time");
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");

    shutdown.cancel();
    let result = tokio::time::timeout(limit, server)
        .await
        .expect("server stopped after cancel")
        .expect("server task did not panic");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn serve_stops_on_cancel_despite_an_idle_keep_alive_connection() {
    let metrics = Metrics::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(Arc::clone(&metrics).serve(listener, shutdown.clone()));

    // A scraper that keeps its connection open between scrapes.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let limit = Duration::from_secs(10);
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    while !raw.ends_with(b"# EOF\n") {
        let n = tokio::time::timeout(limit, stream.read(&mut chunk))
            .await
            .expect("response in time")
            .expect("read");
        assert_ne!(n, 0, "connection closed early");
        raw.extend_from_slice(&chunk[..n]);
    }

    shutdown.cancel();
    let result = tokio::time::timeout(limit, server)
        .await
        .expect("server stopped after cancel")
        .expect("server task did not panic");
    assert!(result.is_ok(), "{result:?}");
    drop(stream);
}
