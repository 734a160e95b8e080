//! `watch --until` across a server restart: the watch resumes by revision
//! on the same address.

use std::{
    io::{BufRead, BufReader, Read},
    net::TcpListener,
    process::{Child, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use tempfile::TempDir;

use cutover_testkit::TestServer;

use super::{command, ctl, register, watch_until};

#[test]
fn watch_resumes_by_revision_across_a_server_restart() {
    // The test holds the socket, as systemd would: the restarted server
    // serves the same address, which nothing else can take in between.
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind");
    let dir = TempDir::new().expect("dir");
    let args = ["--sim-speed", "100"];
    let mut server = TestServer::start_on(&socket, dir.path(), &args);
    let id = register(&server);
    watch_until(&server, &[&id], "ready-for-test").ok();

    let mut watch = command(&[
        "watch",
        "--server",
        &id,
        "--until",
        "cutting-over",
        "--timeout",
        "60",
    ])
    .env("CUTOVER_SERVER", &server.endpoint)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn watch");
    let stdout = lines_of(watch.stdout.take().expect("stdout"));
    let stderr = lines_of(watch.stderr.take().expect("stderr"));
    wait_for_line(&stdout, "SNAPSHOT");

    server.stop();
    wait_for_line(&stderr, "resuming from revision");
    let server = TestServer::start_on(&socket, dir.path(), &args);
    ctl(&server, &["servers", "start-test", &id]).ok();
    ctl(&server, &["servers", "mark-ready", &id]).ok();
    ctl(&server, &["servers", "start-cutover", &id]).ok();
    wait_for_line(&stdout, "lifecycle=CUTTING_OVER");
    assert_eq!(exit_status(&mut watch), 0);
}

/// Lines of a child's pipe, as they come.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits (30 s at most) for a line containing `needle`.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(err) => panic!("no line with {needle:?}: {err}"),
        }
    }
}

/// Waits (30 s at most) for a child to exit; its exit code.
fn exit_status(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cutoverctl watch did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
