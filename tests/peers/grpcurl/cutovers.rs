//! Both cutovers with JSON bodies: a source server's (MGN) to CUTOVER and
//! its follow-up tasks, and a replication job's (SMC) to Finished.

use serde_json::Value;

use cutover_testkit::{eventually_blocking, TestServer, DEADLINE};

use super::{
    call, call_err, get_job, get_server, id_body, int, job_body, register, register_json, text,
    wait_for_job, wait_for_state, FAST, JOBS, SERVERS,
};

#[test]
fn server_cutover_with_json_bodies() {
    let server = TestServer::start(FAST);
    let registered = register_json(&server);
    let id = text(&registered, "/sourceServerId").to_owned();
    assert_eq!(
        text(&registered, "/lifeCycle/state"),
        "LIFE_CYCLE_STATE_PENDING_INSTALLATION"
    );
    assert!(!text(&registered, "/requestId").is_empty(), "{registered}");

    let ready = wait_for_state(&server, &id, "LIFE_CYCLE_STATE_READY_FOR_TEST");
    assert_eq!(
        text(&ready, "/dataReplicationInfo/dataReplicationState"),
        "DATA_REPLICATION_STATE_CONTINUOUS"
    );
    assert!(
        text(&ready, "/dataReplicationInfo/lagDuration").ends_with('s'),
        "lag is a JSON duration once CONTINUOUS: {ready}"
    );
    assert_eq!(text(&ready, "/sourceState"), "SOURCE_STATE_AVAILABLE");

    let test = call(&server, &format!("{SERVERS}/StartTest"), &id_body(&id));
    assert!(text(&test, "/job/jobId").starts_with("mgnjob-"), "{test}");
    assert_eq!(
        text(&test, "/sourceServer/lifeCycle/state"),
        "LIFE_CYCLE_STATE_TESTING"
    );

    let changed = call(
        &server,
        &format!("{SERVERS}/ChangeServerLifeCycleState"),
        &format!(r#"{{"sourceServerId":"{id}","state":"LIFE_CYCLE_STATE_READY_FOR_CUTOVER"}}"#),
    );
    assert_eq!(
        text(&changed, "/lifeCycle/state"),
        "LIFE_CYCLE_STATE_READY_FOR_CUTOVER"
    );

    let cutover = call(&server, &format!("{SERVERS}/StartCutover"), &id_body(&id));
    let cutover_job = text(&cutover, "/job/jobId").to_owned();
    assert!(cutover_job.starts_with("mgnjob-"), "{cutover}");
    assert_eq!(
        text(&cutover, "/sourceServer/lifeCycle/state"),
        "LIFE_CYCLE_STATE_CUTTING_OVER"
    );

    let done = call(
        &server,
        &format!("{SERVERS}/FinalizeCutover"),
        &id_body(&id),
    );
    assert_eq!(text(&done, "/sourceServerId"), id);
    assert!(!text(&done, "/requestId").is_empty(), "{done}");
    assert_eq!(text(&done, "/lifeCycle/state"), "LIFE_CYCLE_STATE_CUTOVER");
    assert!(
        !text(&done, "/lifeCycle/lastCutover/finalized/apiCallDateTime").is_empty(),
        "{done}"
    );
    assert_eq!(
        text(&done, "/lifeCycle/lastCutover/initiated/jobID"),
        "",
        "JSON names are lowerCamel: jobId, not jobID"
    );
    assert_eq!(
        text(&done, "/lifeCycle/lastCutover/initiated/jobId"),
        cutover_job
    );
    let info = &done["dataReplicationInfo"];
    assert_eq!(
        text(info, "/dataReplicationState"),
        "DATA_REPLICATION_STATE_DISCONNECTED"
    );
    assert!(info.get("lagDuration").is_none(), "lag is nulled: {info}");
    assert!(info.get("etaDateTime").is_none(), "eta is nulled: {info}");
    let disks = info["replicatedDisks"].as_array().expect("replicatedDisks");
    assert!(!disks.is_empty());
    for disk in disks {
        // The 0 MGN promises is there, not omitted (field presence).
        assert_eq!(
            disk.pointer("/totalStorageBytes"),
            Some(&serde_json::json!("0")),
            "{disk}"
        );
        assert!(int(disk, "/replicatedStorageBytes") > 0, "{disk}");
    }
    assert_eq!(text(&done, "/launchedInstance/jobId"), cutover_job);
    let tasks = done["followUpTasks"].as_array().expect("followUpTasks");
    assert_eq!(tasks.len(), 2, "{done}");
    let mut kinds: Vec<&str> = tasks.iter().map(|t| text(t, "/kind")).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "FOLLOW_UP_TASK_KIND_AGENT_UNINSTALL",
            "FOLLOW_UP_TASK_KIND_REPLICATION_RESOURCES_TEARDOWN"
        ]
    );
    for task in tasks {
        assert_eq!(text(task, "/state"), "FOLLOW_UP_TASK_STATE_PENDING");
        assert!(!text(task, "/deadlineDateTime").is_empty(), "{task}");
    }

    // As the README's walk-through shows: the simulated agent completes both.
    eventually_blocking(DEADLINE, "the follow-up tasks to complete", || {
        let now = get_server(&server, &id);
        assert_eq!(text(&now, "/lifeCycle/state"), "LIFE_CYCLE_STATE_CUTOVER");
        let tasks = now["followUpTasks"].as_array()?.clone();
        (tasks.len() == 2
            && tasks.iter().all(|t| {
                text(t, "/state") == "FOLLOW_UP_TASK_STATE_COMPLETED"
                    && !text(t, "/completedDateTime").is_empty()
                    && int(t, "/attempts") >= 1
            }))
        .then_some(())
    });
}

#[test]
fn job_cutover_with_json_bodies() {
    let server = TestServer::start(FAST);
    let source = register(&server);
    wait_for_state(&server, &source, "LIFE_CYCLE_STATE_READY_FOR_TEST");

    let created = call(
        &server,
        &format!("{JOBS}/CreateReplicationJob"),
        &format!(
            r#"{{"sourceId":"{source}","name":"wave-1","runOnce":false,"frequency":24,"maxNumberOfImageToKeep":2}}"#
        ),
    );
    let job = text(&created, "/jobId").to_owned();
    assert!(job.starts_with("j-") && job.len() == 22, "{created}");
    let ready = get_job(&server, &job);
    assert_eq!(text(&ready, "/status"), "REPLICATION_JOB_STATUS_READY");
    assert_eq!(text(&ready, "/sourceId"), source);

    let started = call(
        &server,
        &format!("{JOBS}/StartReplicationJob"),
        &job_body(&job),
    );
    assert!(!text(&started, "/requestId").is_empty(), "{started}");
    let waiting = wait_for_job(&server, &job, "REPLICATION_JOB_STATUS_WAITING");
    assert_eq!(int(&waiting, "/frequency"), 24);
    assert_eq!(int(&waiting, "/maxNumberOfImageToKeep"), 2);
    assert_eq!(text(&waiting, "/replicationJobRuns/0/imageId"), "CYCLE_1");

    let cut = call(
        &server,
        &format!("{JOBS}/CutOverReplicationJob"),
        &format!(r#"{{"jobId":"{job}","syncData":true}}"#),
    );
    assert!(!text(&cut, "/requestId").is_empty(), "{cut}");

    let finished = wait_for_job(&server, &job, "REPLICATION_JOB_STATUS_FINISHED");
    let runs = finished["replicationJobRuns"]
        .as_array()
        .expect("replicationJobRuns");
    let images: Vec<&str> = runs.iter().map(|r| text(r, "/imageId")).collect();
    assert_eq!(images, ["CYCLE_1", "FINAL"], "{finished}");
    let kept: Vec<&str> = finished["imageIds"]
        .as_array()
        .expect("imageIds")
        .iter()
        .map(|id| id.as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kept.last(),
        Some(&"FINAL"),
        "the job's image is its final sync's: {finished}"
    );
    assert_eq!(finished["cutOver"]["syncData"], Value::Bool(true));
    assert!(!text(&finished, "/endTime").is_empty(), "{finished}");
    assert_eq!(finished["progress"].as_f64(), Some(100.0), "{finished}");

    let again = call_err(
        &server,
        &format!("{JOBS}/CutOverReplicationJob"),
        &format!(r#"{{"jobId":"{job}","syncData":true}}"#),
    );
    let all = again.all();
    assert!(
        all.contains("FailedPrecondition")
            && all.contains(r#""reason":"ReplicationJob.InvalidStatus""#)
            && all.contains("The specified replication job status: Finished is invalid."),
        "{all}"
    );
}
