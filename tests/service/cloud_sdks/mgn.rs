//! MGN through boto3 and the AWS SDK for Rust.

use std::process::Command;

use cutover::pb::v1::{DataReplicationState, LifeCycleState};
use serde_json::json;

use super::*;

/// Registers `n` servers and waits until the simulator has them
/// READY_FOR_TEST.
async fn replicating_servers(server: &TestServer, n: usize) -> Vec<String> {
    let mut servers = server.servers().await;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(register(&mut servers).await);
    }
    for id in &ids {
        wait_for_state(&mut servers, id, LifeCycleState::ReadyForTest).await;
    }
    ids
}

#[tokio::test]
async fn boto3_cuts_over_a_wave_that_grpc_cutoverctl_and_the_watch_see() {
    let cloud = CloudServer::start();
    let server = &cloud.server;
    let wave = replicating_servers(server, 3).await;
    let retire = register(&mut server.servers().await).await;
    let config = json!({
        "endpoint": cloud.mgn_endpoint(),
        "key": KEY, "secret": SECRET,
        "stranger_key": STRANGER_KEY, "stranger_secret": STRANGER_SECRET,
        "servers": wave, "retire": retire,
    });
    let result = run_python("sdk_mgn.py", &config);

    let mut servers = server.servers().await;
    for id in &wave {
        let seen = get_server(&mut servers, id).await;
        assert_eq!(state_of(&seen), Some(LifeCycleState::Cutover));
        let info = seen.data_replication_info.expect("replication info");
        assert_eq!(
            info.data_replication_state,
            DataReplicationState::Disconnected as i32
        );
        let cutover = seen
            .life_cycle
            .and_then(|l| l.last_cutover)
            .expect("lastCutover");
        assert_eq!(
            cutover.initiated.map(|i| i.job_id),
            result["cutover_job"].as_str().map(str::to_owned),
            "gRPC shows the job boto3 got"
        );
        let ctl = cutoverctl_json(server, &["servers", "get", id]);
        assert_eq!(ctl["lifeCycle"]["state"], "LIFE_CYCLE_STATE_CUTOVER");
    }
    let archived = cutoverctl_json(server, &["servers", "get", &retire]);
    assert_eq!(archived["isArchived"], true, "{archived}");

    let log = whole_log(server).await;
    for id in &wave {
        let states = server_states(&log, id);
        let expected = [
            LifeCycleState::ReadyForTest,
            LifeCycleState::Testing,
            LifeCycleState::ReadyForCutover,
            LifeCycleState::CuttingOver,
            LifeCycleState::Cutover,
        ]
        .map(|s| s as i32);
        assert!(
            states.ends_with(&expected),
            "the watch carried {states:?} for {id}"
        );
    }
    assert_eq!(
        server_states(&log, &retire).last(),
        Some(&(LifeCycleState::Disconnected as i32))
    );
}

#[tokio::test]
async fn the_aws_sdk_for_rust_finalizes_a_cutover_and_reads_a_typed_conflict() {
    let check = aws_sdk_check();
    let cloud = CloudServer::start();
    let server = &cloud.server;
    let [id] = <[String; 1]>::try_from(replicating_servers(server, 1).await).expect("one");
    take_to_cutting_over(&mut server.servers().await, &id).await;
    let output = Command::new(check)
        .args([&cloud.mgn_endpoint(), &id, KEY, SECRET])
        .output()
        .expect("run the AWS SDK check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the AWS SDK check failed");
    for line in [
        "FinalizeCutover CUTOVER DISCONNECTED zeroed",
        "ConflictException on a second FinalizeCutover",
        "request id",
    ] {
        assert!(stdout.contains(line), "{line:?} not in {stdout}");
    }
    let seen = get_server(&mut server.servers().await, &id).await;
    assert_eq!(state_of(&seen), Some(LifeCycleState::Cutover));
    let log = whole_log(server).await;
    assert_eq!(
        server_states(&log, &id).last(),
        Some(&(LifeCycleState::Cutover as i32))
    );
}
