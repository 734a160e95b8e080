//! The watch as grpcurl streams it: a snapshot, its end, then live events.

use std::{
    io::Read,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use cutover_testkit::TestServer;

use super::{grpcurl, int, json_stream, register, text, FAST};

#[test]
fn watch_prints_a_snapshot_end_then_live_events() {
    let server = TestServer::start(FAST);
    let known = register(&server);

    let mut child = Command::new(grpcurl())
        .args(["-plaintext", "-max-time", "3", "-d"])
        .arg(r#"{"sendInitialSnapshot":true}"#)
        .arg(&server.addr)
        .arg("cutover.v1.LifecycleService/WatchLifecycleEvents")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn grpcurl");
    let mut stdout = child.stdout.take().expect("stdout");
    let (chunks, received) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if chunks
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });

    // Register only once the snapshot is complete, so it is a live event.
    let mut printed = String::new();
    let started = Instant::now();
    while !json_stream(&printed)
        .iter()
        .any(|v| v.get("snapshotEnd").is_some())
    {
        let left = Duration::from_secs(3).saturating_sub(started.elapsed());
        match received.recv_timeout(left) {
            Ok(chunk) => printed.push_str(&chunk),
            Err(_) => panic!("no snapshotEnd from grpcurl:\n{printed}"),
        }
    }
    let fresh = register(&server);

    let status = child.wait().expect("grpcurl exits at -max-time");
    reader.join().expect("reader");
    printed.extend(received.try_iter());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(
        stderr.contains("DeadlineExceeded"),
        "the watch ends at -max-time: {status} {stderr}"
    );

    let messages = json_stream(&printed);
    let end = messages
        .iter()
        .position(|m| m.get("snapshotEnd").is_some())
        .expect("snapshotEnd");
    let snapshot_revision = int(&messages[end], "/snapshotEnd/revision");
    assert!(snapshot_revision >= 1, "{}", messages[end]);
    assert!(
        messages[..end].iter().all(|m| m.get("snapshot").is_some()),
        "only snapshots before snapshotEnd"
    );
    assert!(
        messages[..end]
            .iter()
            .any(|m| text(m, "/snapshot/sourceServer/sourceServerId") == known),
        "{known} in the snapshot:\n{printed}"
    );

    let events: Vec<&Value> = messages[end + 1..]
        .iter()
        .filter_map(|m| m.get("event"))
        .collect();
    let revisions: Vec<u64> = events.iter().map(|e| int(e, "/revision")).collect();
    let expected: Vec<u64> = (snapshot_revision + 1..).take(revisions.len()).collect();
    assert_eq!(revisions, expected, "live events follow with no gap");
    let registered = events
        .iter()
        .find(|e| {
            text(e, "/resourceId") == fresh
                && text(e, "/eventType") == "LIFECYCLE_EVENT_TYPE_SOURCE_SERVER_REGISTERED"
        })
        .unwrap_or_else(|| panic!("no registration event of {fresh}:\n{printed}"));
    assert!(int(registered, "/revision") > snapshot_revision);
    assert_eq!(
        text(registered, "/resourceType"),
        "RESOURCE_TYPE_SOURCE_SERVER"
    );
    assert_eq!(text(registered, "/sourceServer/sourceServerId"), fresh);
    assert_eq!(
        text(registered, "/newState/sourceServer/lifeCycleState"),
        "LIFE_CYCLE_STATE_PENDING_INSTALLATION"
    );
}
