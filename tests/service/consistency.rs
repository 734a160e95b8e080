//! What the read model promises clients, over real gRPC: a watch snapshot
//! is the state at exactly its revision even while writes go on, and a
//! caller reads its own writes the moment its mutation returns, through
//! any connection.

use std::collections::{BTreeMap, HashSet};

use cutover::pb::v1::{
    lifecycle_event, resource_snapshot, watch_lifecycle_events_response::Kind,
    DescribeSourceServersFilters, DescribeSourceServersRequest, LifeCycleState, SourceServer,
};
use cutover_testkit::*;

/// A server as both a snapshot and an event show it: without the request
/// id of a call and the source state derived at read time.
fn comparable(mut server: SourceServer) -> SourceServer {
    server.request_id.clear();
    server.source_state = 0;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_the_state_at_its_revision_while_writes_go_on() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let mut client = server.servers().await;
    let mut ids = Vec::new();
    for _ in 0..600 {
        ids.push(register(&mut client).await);
    }
    // A writer changes servers (and adds some) while the snapshot streams.
    let writer = {
        let mut client = server.servers().await;
        let ids = ids.clone();
        tokio::spawn(async move {
            for id in ids.iter().step_by(3) {
                disconnect(&mut client, id).await;
                archive(&mut client, id).await;
                register(&mut client).await;
            }
        })
    };
    let mut lifecycle = server.lifecycle().await;
    let mut watch = open_watch(&mut lifecycle, watch_snapshot()).await;
    let mut snapshot = BTreeMap::new();
    let revision = loop {
        match next_message(&mut watch).await {
            Kind::Snapshot(item) => match item.resource {
                Some(resource_snapshot::Resource::SourceServer(s)) => {
                    let id = s.source_server_id.clone();
                    assert!(snapshot.insert(id, comparable(s)).is_none(), "once each");
                }
                other => panic!("only servers exist: {other:?}"),
            },
            Kind::SnapshotEnd(end) => break end.revision,
            other => panic!("unexpected before the snapshot's end: {other:?}"),
        }
    };
    // Live events continue at the next revision.
    let live = events_until(&mut watch, revision + 1).await;
    assert_eq!(live[0].revision, revision + 1);
    writer.await.expect("writer");

    // The state at `revision`, rebuilt from the log: each server as its
    // last event at or before it left it.
    let mut full = open_watch(&mut lifecycle, watch_from(1)).await;
    let log = events_until(&mut full, revision).await;
    let mut expected = BTreeMap::new();
    for event in log.into_iter().filter(|e| e.revision <= revision) {
        if let Some(lifecycle_event::Resource::SourceServer(s)) = event.resource {
            expected.insert(s.source_server_id.clone(), comparable(s));
        }
    }
    assert_eq!(snapshot.len(), expected.len());
    assert_eq!(snapshot, expected);
    let head = snapshot_head(&server).await;
    assert!(
        head > revision,
        "writes went on after the snapshot's revision ({revision} -> {head})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_reads_its_own_write_at_once_through_any_connection() {
    let server = TestServer::in_process(&["--no-simulator"]);
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let server_endpoint = server.endpoint.clone();
            tokio::spawn(async move {
                let connect = || async {
                    cutover::pb::v1::source_server_service_client::SourceServerServiceClient::connect(
                        server_endpoint.clone(),
                    )
                    .await
                    .expect("connect")
                };
                let (mut writes, mut reads) = (connect().await, connect().await);
                let mut mine = HashSet::new();
                for _ in 0..25 {
                    let id = register(&mut writes).await;
                    // Another connection, right after the mutation returned.
                    assert_eq!(get_server(&mut reads, &id).await.source_server_id, id);
                    let after = disconnect(&mut writes, &id).await;
                    assert_eq!(
                        state_of(&get_server(&mut reads, &id).await),
                        state_of(&after)
                    );
                    mine.insert(id);
                }
                let listed = reads
                    .describe_source_servers(DescribeSourceServersRequest {
                        filters: Some(DescribeSourceServersFilters {
                            life_cycle_states: vec![LifeCycleState::Disconnected as i32],
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await
                    .expect("describe")
                    .into_inner();
                let listed: HashSet<String> = listed
                    .items
                    .into_iter()
                    .map(|s| s.source_server_id)
                    .collect();
                assert!(mine.is_subset(&listed), "a page shows my writes too");
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("caller");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_mutations_of_concurrent_callers_survive_kill_9() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut server = TestServer::start_in(dir.path(), &["--no-simulator"]);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // 16 callers register as fast as they can, so commits go in groups;
    // the server is killed with calls in flight.
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let endpoint = server.endpoint.clone();
            let acknowledged = std::sync::Arc::clone(&acknowledged);
            tokio::spawn(async move {
                let mut client =
                    cutover::pb::v1::source_server_service_client::SourceServerServiceClient::connect(
                        endpoint,
                    )
                    .await
                    .expect("connect");
                while let Ok(reply) = client
                    .register_source_server(cutover::pb::v1::RegisterSourceServerRequest::default())
                    .await
                {
                    let id = reply.into_inner().source_server_id;
                    acknowledged.lock().expect("lock").push(id);
                }
            })
        })
        .collect();
    eventually(DEADLINE, "a few hundred registrations", || {
        let count = acknowledged.lock().expect("lock").len();
        async move { (count >= 300).then_some(()) }
    })
    .await;
    server.kill();
    for caller in callers {
        caller.await.expect("caller ends when the server dies");
    }

    let server = TestServer::in_process_in(dir.path(), &["--no-simulator"]);
    let mut client = server.servers().await;
    let ids = acknowledged.lock().expect("lock").clone();
    for id in &ids {
        assert_eq!(&get_server(&mut client, id).await.source_server_id, id);
    }
    // The log has every revision once, from 1 to its head, with nothing
    // after an acknowledged event missing.
    let head = snapshot_head(&server).await;
    let mut lifecycle = server.lifecycle().await;
    let mut log = open_watch(&mut lifecycle, watch_from(1)).await;
    let revisions: Vec<u64> = events_until(&mut log, head)
        .await
        .iter()
        .map(|e| e.revision)
        .collect();
    assert_eq!(revisions, (1..=head).collect::<Vec<_>>());
    assert!(head as usize >= ids.len());
}
