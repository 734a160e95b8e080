"""Alibaba Cloud's older SMC SDK (`aliyun-python-sdk-smc` on
aliyun-python-sdk-core), unmodified, against cutover's SMC endpoint:
HMAC-SHA1 signature version 1.0, parameters in the query string.

Usage: sdk_smc_legacy.py CONFIG_JSON

CONFIG_JSON names the endpoint (`host:port`), an access key (`key`,
`secret`) and a source server Available for a job (`source`). Prints one
line per check, then `N passed, M failed`, and `RESULT <json>`.
"""

import json
import os
import sys
import time

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdksmc.request.v20190601.CreateReplicationJobRequest import CreateReplicationJobRequest
from aliyunsdksmc.request.v20190601.CutOverReplicationJobRequest import CutOverReplicationJobRequest
from aliyunsdksmc.request.v20190601.DescribeReplicationJobsRequest import DescribeReplicationJobsRequest
from aliyunsdksmc.request.v20190601.StartReplicationJobRequest import StartReplicationJobRequest
from aliyunsdksmc.request.v20190601.StopReplicationJobRequest import StopReplicationJobRequest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402


def send(client, cfg, request):
    request.set_endpoint(cfg["endpoint"])
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


def describe(client, cfg, job_id):
    request = DescribeReplicationJobsRequest()
    request.set_JobIds([job_id])
    jobs = send(client, cfg, request)["ReplicationJobs"]["ReplicationJob"]
    return jobs[0] if len(jobs) == 1 else None


def wait_for(client, cfg, job_id, status, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = describe(client, cfg, job_id)
        if job is not None and job["Status"] == status:
            return job
        time.sleep(0.05)
    return describe(client, cfg, job_id)


def main():
    cfg = json.loads(sys.argv[1])
    client = AcsClient(cfg["key"], cfg["secret"], "cn-hangzhou", auto_retry=False)
    create = CreateReplicationJobRequest()
    create.set_SourceId(cfg["source"])
    create.set_Name("legacy-wave")
    create.set_RunOnce(False)
    create.set_Frequency(1)
    create.set_MaxNumberOfImageToKeep(1)
    job_id = send(client, cfg, create)["JobId"]
    check("CreateReplicationJob returns a job id", job_id.startswith("j-"), job_id)

    start = StartReplicationJobRequest()
    start.set_JobId(job_id)
    send(client, cfg, start)
    stop = StopReplicationJobRequest()
    stop.set_JobId(job_id)
    try:
        send(client, cfg, stop)
        stopped = wait_for(client, cfg, job_id, "Stopped")
        check("StopReplicationJob pauses a syncing job", stopped["Status"] == "Stopped", stopped)
        send(client, cfg, start)
    except ServerException as err:
        # The run may have left Syncing before the stop arrived.
        check("StopReplicationJob outside Syncing is InvalidBusinessStatus or InvalidStatus",
              err.get_error_code() in ("ReplicationJob.InvalidBusinessStatus", "ReplicationJob.InvalidStatus"), err)
    waiting = wait_for(client, cfg, job_id, "Waiting")
    check("the job reaches Waiting", waiting["Status"] == "Waiting", waiting)

    cut = CutOverReplicationJobRequest()
    cut.set_JobId(job_id)
    cut.set_SyncData(True)
    answer = send(client, cfg, cut)
    check("CutOverReplicationJob answers a RequestId", len(answer["RequestId"]) == 36, answer)
    finished = wait_for(client, cfg, job_id, "Finished")
    check("the job is Finished", finished["Status"] == "Finished", finished)
    check("the final sync is recorded as a run", len(finished["ReplicationJobRuns"]["ReplicationJobRun"]) >= 2, finished)
    try:
        send(client, cfg, cut)
        check("a second cutover is refused", False)
    except ServerException as err:
        check("a second cutover is ReplicationJob.InvalidStatus", err.get_error_code() == "ReplicationJob.InvalidStatus" and err.get_http_status() == 400, err)
    wrong = AcsClient(cfg["key"], "not-the-secret", "cn-hangzhou", auto_retry=False)
    try:
        send(wrong, cfg, DescribeReplicationJobsRequest())
        check("a wrong secret is refused", False)
    except ServerException as err:
        # The SDK finds its own string to sign in the server's message, so
        # it knows the secret is what differs.
        check("a wrong secret is InvalidAccessKeySecret", err.get_error_code() == "InvalidAccessKeySecret", err)
    finish({"job": job_id})


if __name__ == "__main__":
    main()
