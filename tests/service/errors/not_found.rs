//! ResourceNotFoundException with ResourceInfo: every call aimed at an id
//! that is well-formed but names nothing.

use cutover::pb::v1::DescribeReplicationJobsRequest;

use cutover_testkit::{expect_not_found, TestServer};

use super::{
    api::{Api, JOB_ID_CALLS, SERVER_ID_CALLS},
    NO_SIMULATOR, UNKNOWN_JOB, UNKNOWN_SERVER,
};

#[tokio::test]
async fn unknown_resources_are_not_found_with_resource_info() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;
    api.new_server().await;

    let servers = [UNKNOWN_SERVER, "s-ZZZZZZZZZZZZZZZZZ", "s-abcdefghijABCDEFG"];
    let jobs = [UNKNOWN_JOB, "j-zzzzzzzzzzzzzzzzzzzz"];
    for (kind, ids, calls) in [
        ("SourceServer", &servers[..], SERVER_ID_CALLS),
        ("ReplicationJob", &jobs[..], JOB_ID_CALLS),
    ] {
        for &id in ids {
            for &(call, _) in calls.iter().filter(|(call, _)| !call.lists()) {
                expect_not_found(api.refused(call, id).await, kind, id);
            }
        }
    }

    // A listing of unknown ids is empty, not an error.
    assert!(api.list_servers(&[UNKNOWN_SERVER]).await.is_empty());
    for request in [
        DescribeReplicationJobsRequest {
            job_ids: vec![UNKNOWN_JOB.into()],
            ..Default::default()
        },
        DescribeReplicationJobsRequest {
            source_ids: vec![UNKNOWN_SERVER.into()],
            ..Default::default()
        },
    ] {
        assert!(api.list_jobs(request).await.is_empty());
    }
}
