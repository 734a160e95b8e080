//! Whole operations from the command line: a migration wave of servers
//! and a replication job's cutover with a final sync.

use std::time::{Duration, Instant};

use serde_json::Value;

use cutover_testkit::TestServer;

use super::{comparable, ctl, get, grpcurl_json, register, watch_until, WAIT};

#[test]
fn a_migration_wave_runs_from_the_cli() {
    let server = TestServer::start(&["--sim-speed", "100"]);
    let ids: Vec<String> = (0..3).map(|_| register(&server)).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let ready = watch_until(&server, &ids, "ready-for-test");
    ready.ok();
    assert!(
        ready.stderr.contains("3 of 3 watched resources reached"),
        "{}",
        ready.stderr
    );
    for id in &ids {
        ctl(&server, &["servers", "start-test", id]).ok();
        ctl(&server, &["servers", "mark-ready", id]).ok();
        let cutting = ctl(&server, &["servers", "start-cutover", id, "-o", "json"]).json();
        assert_eq!(
            cutting["sourceServer"]["lifeCycle"]["state"],
            "LIFE_CYCLE_STATE_CUTTING_OVER"
        );
        let done = ctl(&server, &["servers", "finalize", id, "-o", "json"]).json();
        assert_eq!(done["lifeCycle"]["state"], "LIFE_CYCLE_STATE_CUTOVER");
        assert_eq!(
            done["dataReplicationInfo"]["dataReplicationState"],
            "DATA_REPLICATION_STATE_DISCONNECTED"
        );
        assert_eq!(done["followUpTasks"].as_array().map(Vec::len), Some(2));
    }
    let started = Instant::now();
    let watched = watch_until(&server, &ids, "tasks-done");
    watched.ok();
    assert!(started.elapsed() < Duration::from_secs(30));
    // Plain lines: revision, id, event type, new state; revisions increase.
    let mut last = 0u64;
    for line in watched.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let revision: u64 = fields[0].parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(revision >= last, "{}", watched.stdout);
        last = revision;
        assert!(ids.contains(&fields[1]), "{line}");
        assert!(fields[3].starts_with("lifecycle=CUTOVER"), "{line}");
    }
    for id in &ids {
        let json = get(&server, id);
        let tasks = json["followUpTasks"].as_array().expect("tasks");
        assert!(tasks
            .iter()
            .all(|t| t["state"] == "FOLLOW_UP_TASK_STATE_COMPLETED"));
    }
    let table = ctl(&server, &["servers", "list", "--state", "cutover"]);
    assert_eq!(
        table.ok().matches("2/2 done").count(),
        3,
        "{}",
        table.stdout
    );
}

#[test]
fn a_job_cuts_over_with_a_final_sync() {
    let server = TestServer::start(&["--sim-speed", "100"]);
    let source = register(&server);
    watch_until(&server, &[&source], "ready-for-test").ok();
    let created = ctl(
        &server,
        &[
            "jobs",
            "create",
            "--source",
            &source,
            "--name",
            "wave-1",
            "--frequency",
            "24",
            "--max-images",
            "2",
            "-o",
            "json",
        ],
    )
    .json();
    let job = created["jobId"].as_str().expect("job id").to_owned();
    assert!(job.starts_with("j-"), "{created}");
    let get = |format: &str| ctl(&server, &["jobs", "get", &job, "-o", format]);
    assert_eq!(get("json").json()["status"], "REPLICATION_JOB_STATUS_READY");

    ctl(&server, &["jobs", "cutover", &job, "--sync-data"]).fails(
        4,
        &[
            "error: ReplicationJob.InvalidStatus",
            "The specified replication job status: Ready is invalid.",
            "currentState: Ready",
        ],
    );
    assert!(ctl(&server, &["jobs", "start", &job]).ok().contains(&job));
    let waiting = ctl(
        &server,
        &[
            "watch",
            "--job",
            &job,
            "--until",
            "waiting",
            "--timeout",
            WAIT,
        ],
    );
    assert!(
        waiting.ok().contains("REPLICATION_JOB_STATUS_CHANGED"),
        "{}",
        waiting.stdout
    );
    ctl(&server, &["jobs", "stop", &job]).fails(4, &["ReplicationJob.InvalidStatus"]);

    let listed = ctl(
        &server,
        &["jobs", "list", "--status", "waiting", "--source", &source],
    );
    let row = listed.ok().lines().nth(1).expect("a row");
    assert!(
        row.starts_with(&job) && row.contains("WAITING"),
        "{}",
        listed.stdout
    );
    let page = ctl(
        &server,
        &[
            "jobs",
            "list",
            "--id",
            &job,
            "--max-results",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(page.json()["replicationJobs"][0]["jobId"], job.as_str());

    let cut_over = [
        "jobs",
        "cutover",
        &job,
        "--sync-data",
        "--client-token",
        "cut-1",
    ];
    let cut = ctl(&server, &cut_over);
    assert!(cut.ok().contains("cutting over"), "{}", cut.stdout);
    let retry = ctl(&server, &cut_over);
    retry.ok();
    let finished = ctl(
        &server,
        &[
            "watch",
            "--job",
            &job,
            "--until",
            "finished",
            "--timeout",
            WAIT,
        ],
    );
    assert!(
        finished.ok().contains("status=FINISHED"),
        "{}",
        finished.stdout
    );

    let json = get("json").json();
    assert_eq!(json["status"], "REPLICATION_JOB_STATUS_FINISHED");
    assert_eq!(
        json["progress"], 100,
        "whole numbers print as grpcurl prints them"
    );
    assert_eq!(json["cutOver"]["syncData"], true);
    let runs = json["replicationJobRuns"].as_array().expect("runs");
    assert_eq!(
        runs.last().map(|r| &r["imageId"]),
        Some(&Value::from("FINAL"))
    );
    let method = "cutover.v1.ReplicationJobService/GetReplicationJob";
    let theirs = grpcurl_json(&server, None, method, &format!(r#"{{"jobId":"{job}"}}"#));
    assert_eq!(comparable(get("json").ok()), comparable(&theirs));
    let yaml: Value = serde_yaml_ng::from_str(get("yaml").ok()).expect("YAML parses");
    assert_eq!(yaml["status"], "REPLICATION_JOB_STATUS_FINISHED");
    assert!(get("table").ok().contains("FINISHED"));
    ctl(&server, &["jobs", "get", "j-00000000000000000000"])
        .fails(3, &["ResourceNotFoundException"]);
    ctl(&server, &["jobs", "start", "nope"]).fails(5, &["ValidationException"]);
}
