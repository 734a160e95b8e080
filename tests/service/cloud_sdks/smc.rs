//! SMC through both of Alibaba's Python SDKs.

use cutover::pb::v1::ReplicationJobStatus;
use serde_json::json;

use super::*;

/// The job statuses a synced or released cutover ends with.
const CUT_OVER: [ReplicationJobStatus; 3] = [
    ReplicationJobStatus::Waiting,
    ReplicationJobStatus::Running,
    ReplicationJobStatus::Finished,
];

async fn check_cut_over(server: &TestServer, log: &[LifecycleEvent], job_id: &str) {
    let job = get_job(&mut server.jobs().await, job_id).await;
    assert_eq!(job.status, ReplicationJobStatus::Finished as i32);
    assert!(job.cut_over.is_some(), "gRPC shows the cutover request");
    let ctl = cutoverctl_json(server, &["jobs", "get", job_id]);
    assert_eq!(ctl["status"], "REPLICATION_JOB_STATUS_FINISHED", "{ctl}");
    let statuses = job_statuses(log, job_id);
    assert!(
        statuses.ends_with(&CUT_OVER.map(|s| s as i32)),
        "the watch carried {statuses:?} for {job_id}"
    );
}

#[tokio::test]
async fn the_current_sdk_cuts_jobs_over_with_both_signatures() {
    let cloud = CloudServer::start();
    let server = &cloud.server;
    let mut servers = server.servers().await;
    let sources = [
        available_source(&mut servers).await,
        available_source(&mut servers).await,
    ];
    let config = json!({
        "endpoint": cloud.smc_addr(), "key": KEY, "secret": SECRET, "sources": sources,
    });
    let result = run_python("sdk_smc.py", &config);
    let log = whole_log(server).await;
    for job in ["synced", "released"] {
        let id = result[job].as_str().expect("job id");
        check_cut_over(server, &log, id).await;
    }
}

#[tokio::test]
async fn the_legacy_sdk_cuts_a_job_over() {
    let cloud = CloudServer::start();
    let server = &cloud.server;
    let source = available_source(&mut server.servers().await).await;
    let config = json!({
        "endpoint": cloud.smc_addr(), "key": KEY, "secret": SECRET, "source": source,
    });
    let result = run_python("sdk_smc_legacy.py", &config);
    let log = whole_log(server).await;
    check_cut_over(server, &log, result["job"].as_str().expect("job id")).await;
}
