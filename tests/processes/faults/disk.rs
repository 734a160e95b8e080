//! A full disk: writes answer UNAVAILABLE saying the storage is full,
//! reads go on, writing resumes by itself once space is freed, and nothing
//! acknowledged is lost, across a restart too.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use cutover::pb::v1::RegisterSourceServerRequest;
use tonic::Code;

use cutover_testkit::*;

use super::mount::Tmpfs;

/// Fills the file system of `dir` with one file; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("create the filler");
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    path
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_loses_nothing_acknowledged() {
    let disk = Tmpfs::mount("24m");
    let data = disk.path().join("data");
    let mut server = TestServer::start_in(&data, &["--no-simulator"]);
    let mut client = server.servers().await;
    let mut acknowledged = Vec::new();
    for _ in 0..10 {
        acknowledged.push(register(&mut client).await);
    }

    let filler = fill(disk.path());
    // The WAL has room left from earlier writes: write until it is used up.
    let mut refusal = None;
    for _ in 0..200_000 {
        match client
            .register_source_server(RegisterSourceServerRequest::default())
            .await
        {
            Ok(response) => acknowledged.push(response.into_inner().source_server_id),
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let status = refusal.expect("a write refused once the disk is full");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("storage is full"),
        "a clear message: {}",
        status.message()
    );
    let read = get_server(&mut client, &acknowledged[0]).await;
    assert_eq!(read.source_server_id, acknowledged[0], "reads go on");

    std::fs::remove_file(filler).expect("free the space");
    let resumed = eventually(DEADLINE, "writes to resume", || {
        let mut client = client.clone();
        async move {
            client
                .register_source_server(RegisterSourceServerRequest::default())
                .await
                .ok()
                .map(|r| r.into_inner().source_server_id)
        }
    })
    .await;
    acknowledged.push(resumed);

    server.stop();
    let server = TestServer::start_in(&data, &["--no-simulator"]);
    let mut client = server.servers().await;
    for id in &acknowledged {
        assert_eq!(&get_server(&mut client, id).await.source_server_id, id);
    }
    println!(
        "{} acknowledged registrations survived the full disk",
        acknowledged.len()
    );
}
