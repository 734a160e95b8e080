"""Alibaba Cloud's current SMC SDK (`alibabacloud-smc20190601` on
tea-openapi), unmodified, against cutover's SMC endpoint: ACS3-HMAC-SHA256
signatures by default, HMAC-SHA1 v1 with `signature_algorithm="v2"`.

Usage: sdk_smc.py CONFIG_JSON

CONFIG_JSON names the endpoint (`host:port`), an access key (`key`,
`secret`) and two source servers Available for a job (`sources`). Prints
one line per check, then `N passed, M failed`, and `RESULT <json>`.
"""

import datetime
import json
import os
import sys
import time
from unittest import mock

from alibabacloud_smc20190601 import models as smc
from alibabacloud_smc20190601.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402


def client(cfg, key, secret, **extra):
    return Client(Config(access_key_id=key, access_key_secret=secret, region_id="cn-hangzhou",
                         endpoint=cfg["endpoint"], protocol="http", **extra))


def error_of(call):
    try:
        call()
    except AlibabaCloudException as err:
        return err
    return None


def job(c, job_id):
    body = c.describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou", job_id=[job_id])).body
    jobs = body.replication_jobs.replication_job
    return jobs[0] if len(jobs) == 1 else None


def wait_for(c, job_id, status, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = job(c, job_id)
        if current is not None and current.status == status:
            return current
        time.sleep(0.05)
    return job(c, job_id)


def cutover(c, source, sync_data):
    created = c.create_replication_job(smc.CreateReplicationJobRequest(
        region_id="cn-hangzhou", source_id=source, name=f"wave-{source}", run_once=False,
        frequency=1, max_number_of_image_to_keep=2, client_token=f"create-{source}"))
    job_id = created.body.job_id
    check("CreateReplicationJob returns a job id", job_id.startswith("j-"), job_id)
    retried = c.create_replication_job(smc.CreateReplicationJobRequest(
        region_id="cn-hangzhou", source_id=source, name=f"wave-{source}", run_once=False,
        frequency=1, max_number_of_image_to_keep=2, client_token=f"create-{source}"))
    check("a retry with the same ClientToken returns the same job", retried.body.job_id == job_id)
    c.start_replication_job(smc.StartReplicationJobRequest(job_id=job_id))
    waiting = wait_for(c, job_id, "Waiting")
    check("the job reaches Waiting", waiting is not None and waiting.status == "Waiting", waiting and waiting.status)
    answer = c.cut_over_replication_job(smc.CutOverReplicationJobRequest(job_id=job_id, sync_data=sync_data))
    check("CutOverReplicationJob answers a RequestId", len(answer.body.request_id) == 36, answer.body.request_id)
    finished = wait_for(c, job_id, "Finished")
    check("the job is Finished", finished is not None and finished.status == "Finished", finished and finished.status)
    runs = finished.replication_job_runs.replication_job_run if finished else []
    return job_id, runs, finished


def errors(c, cfg, job_id):
    again = error_of(lambda: c.cut_over_replication_job(smc.CutOverReplicationJobRequest(job_id=job_id, sync_data=True)))
    check("a second cutover is ReplicationJob.InvalidStatus", again is not None and again.code == "ReplicationJob.InvalidStatus" and again.status_code == 400, again)
    check("its message is SMC's template", again is not None and "The specified replication job status: Finished is invalid." in again.message, again and again.message)
    missing = error_of(lambda: c.start_replication_job(smc.StartReplicationJobRequest(job_id="j-00000000000000000000")))
    check("an unknown job is InvalidJobId.NotFound (404)", missing is not None and missing.code == "InvalidJobId.NotFound" and missing.status_code == 404, missing)
    wrong = error_of(lambda: client(cfg, cfg["key"], "not-the-secret").describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou")))
    check("a wrong secret is SignatureDoesNotMatch", wrong is not None and wrong.code == "SignatureDoesNotMatch", wrong)
    unknown = error_of(lambda: client(cfg, "AKIDUNKNOWN", "x").describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou")))
    check("an unknown key is InvalidAccessKeyId.NotFound", unknown is not None and unknown.code == "InvalidAccessKeyId.NotFound", unknown)
    stale = (datetime.datetime.utcnow() - datetime.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with mock.patch("alibabacloud_tea_openapi.utils.Utils.get_timestamp", return_value=stale):
        skewed = error_of(lambda: c.describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou")))
    check("a clock 20 minutes slow is InvalidTimeStamp.Expired", skewed is not None and skewed.code == "InvalidTimeStamp.Expired", skewed)


def pages(c, job_ids):
    first = c.describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou", page_size=1, page_number=1)).body
    second = c.describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou", page_size=1, page_number=2)).body
    ids = [j.job_id for j in first.replication_jobs.replication_job + second.replication_jobs.replication_job]
    check("PageNumber and PageSize walk the jobs", first.total_count == len(job_ids) and sorted(ids) == sorted(job_ids), (first.total_count, ids))
    finished = c.describe_replication_jobs(smc.DescribeReplicationJobsRequest(region_id="cn-hangzhou", status="Finished", source_id=[])).body
    check("the Status filter matches", finished.total_count == len(job_ids))


def main():
    cfg = json.loads(sys.argv[1])
    c = client(cfg, cfg["key"], cfg["secret"])
    first, runs, synced = cutover(c, cfg["sources"][0], True)
    check("the final sync is recorded as a run", len(runs) >= 2, runs)
    check("the job's ImageId is the final sync's image", synced is not None and synced.image_id == "FINAL", synced and synced.image_id)
    v1 = client(cfg, cfg["key"], cfg["secret"], signature_algorithm="v2")
    second, _, _ = cutover(v1, cfg["sources"][1], False)
    errors(c, cfg, first)
    pages(c, [first, second])
    finish({"synced": first, "released": second})


if __name__ == "__main__":
    main()
