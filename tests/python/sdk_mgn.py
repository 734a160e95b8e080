"""boto3's own `mgn` client, unmodified, against cutover's MGN endpoint.

Usage: sdk_mgn.py CONFIG_JSON

CONFIG_JSON names the endpoint, an access key of an initialised account
(`key`, `secret`), one of an account never initialised (`stranger_key`,
`stranger_secret`), and the source servers to cut over (`servers`, each
READY_FOR_TEST, replicated by the simulator) and to retire (`retire`).
Prints one line per check, then `N passed, M failed`, and a last line
`RESULT <json>` the Rust side checks against gRPC and the watch.
"""

import datetime
import json
import os
import sys
from unittest import mock

import boto3
import botocore
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402


def client(cfg, key, secret, **config):
    return boto3.client(
        "mgn",
        endpoint_url=cfg["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def error_of(call):
    """The ClientError `call` raises, or None."""
    try:
        call()
    except botocore.exceptions.ClientError as err:
        return err
    return None


def lifecycle(mgn, cfg):
    servers = cfg["servers"]
    init = mgn.initialize_service()
    check("InitializeService answers 204", init["ResponseMetadata"]["HTTPStatusCode"] == 204)
    check("a request id comes back", len(init["ResponseMetadata"]["RequestId"]) > 0)

    paginator = mgn.get_paginator("describe_source_servers")
    seen = []
    pages = 0
    for page in paginator.paginate(filters={"sourceServerIDs": servers}, PaginationConfig={"PageSize": 2}):
        pages += 1
        seen += [item["sourceServerID"] for item in page["items"]]
    check("the paginator walks every page", sorted(seen) == sorted(servers) and pages == (len(servers) + 1) // 2, f"{pages} pages, {seen}")
    ready = mgn.describe_source_servers(filters={"lifeCycleStates": ["READY_FOR_TEST"], "sourceServerIDs": servers})
    check("the lifeCycleStates filter matches", len(ready["items"]) == len(servers))

    test = mgn.start_test(sourceServerIDs=servers, tags={"wave": "1"})["job"]
    check("StartTest returns one job for every server", test["jobID"].startswith("mgnjob-") and len(test["participatingServers"]) == len(servers))
    check("the job is a LAUNCH by START_TEST", test["type"] == "LAUNCH" and test["initiatedBy"] == "START_TEST" and test["tags"] == {"wave": "1"})
    for sid in servers:
        changed = mgn.change_server_life_cycle_state(sourceServerID=sid, lifeCycle={"state": "READY_FOR_CUTOVER"})
        check(f"{sid} READY_FOR_CUTOVER", changed["lifeCycle"]["state"] == "READY_FOR_CUTOVER")
    cutover = mgn.start_cutover(sourceServerIDs=servers)["job"]
    check("StartCutover returns a START_CUTOVER job", cutover["initiatedBy"] == "START_CUTOVER" and cutover["jobID"] != test["jobID"])
    finalized = {}
    for sid in servers:
        server = mgn.finalize_cutover(sourceServerID=sid)
        info = server["dataReplicationInfo"]
        finalized[sid] = server["lifeCycle"]["lastCutover"]["finalized"]["apiCallDateTime"]
        check(f"{sid} CUTOVER", server["lifeCycle"]["state"] == "CUTOVER")
        check(f"{sid} DISCONNECTED", info["dataReplicationState"] == "DISCONNECTED")
        check(f"{sid} disks zeroed", info["replicatedDisks"] and all(d["totalStorageBytes"] == 0 for d in info["replicatedDisks"]), info["replicatedDisks"])
        check(f"{sid} lag and ETA gone", "lagDuration" not in info and "etaDateTime" not in info)
        check(f"{sid} lastCutover.initiated names the job", server["lifeCycle"]["lastCutover"]["initiated"]["jobID"] == cutover["jobID"])
    return {"cutover_job": cutover["jobID"], "test_job": test["jobID"], "finalized": finalized}


def exceptions(mgn, cfg):
    sid = cfg["servers"][0]
    try:
        mgn.finalize_cutover(sourceServerID=sid)
        check("a second FinalizeCutover conflicts", False)
    except mgn.exceptions.ConflictException as err:
        check("a second FinalizeCutover is ConflictException", err.response["resourceId"] == sid and err.response["ResponseMetadata"]["HTTPStatusCode"] == 409, err.response)
    try:
        mgn.finalize_cutover(sourceServerID="s-0000000000000000a")
        check("an unknown server is not found", False)
    except mgn.exceptions.ResourceNotFoundException as err:
        check("an unknown server is ResourceNotFoundException", err.response["resourceId"] == "s-0000000000000000a")
    try:
        mgn.finalize_cutover(sourceServerID="x-1234567890abcdefg")
        check("a malformed id is refused", False)
    except mgn.exceptions.ValidationException as err:
        check("a malformed id is ValidationException", err.response["reason"] == "fieldValidationFailed" and err.response["fieldList"][0]["name"] == "sourceServerID", err.response)
    try:
        mgn.describe_source_servers(accountID="999999999999")
        check("another account's accountID is refused", False)
    except mgn.exceptions.AccessDeniedException as err:
        check("another account's accountID is AccessDeniedException", err.response["ResponseMetadata"]["HTTPStatusCode"] == 403)
    stranger = client(cfg, cfg["stranger_key"], cfg["stranger_secret"])
    try:
        stranger.describe_source_servers()
        check("an uninitialised account is refused", False)
    except stranger.exceptions.UninitializedAccountException:
        check("an uninitialised account is UninitializedAccountException", True)


def retire(mgn, cfg):
    sid = cfg["retire"]
    server = mgn.disconnect_from_service(sourceServerID=sid)
    check("DisconnectFromService", server["lifeCycle"]["state"] == "DISCONNECTED")
    server = mgn.mark_as_archived(sourceServerID=sid)
    check("MarkAsArchived", server["isArchived"] is True)
    archived = mgn.describe_source_servers(filters={"isArchived": True})["items"]
    check("the isArchived filter finds it", [s["sourceServerID"] for s in archived] == [sid])


def signatures(cfg):
    wrong = error_of(lambda: client(cfg, cfg["key"], "not-the-secret").describe_source_servers())
    check("a wrong secret is InvalidSignatureException", wrong is not None and wrong.response["Error"]["Code"] == "InvalidSignatureException", wrong)
    unknown = error_of(lambda: client(cfg, "AKIDUNKNOWN", "x").describe_source_servers())
    check("an unknown key is UnrecognizedClientException", unknown is not None and unknown.response["Error"]["Code"] == "UnrecognizedClientException", unknown)
    unsigned = error_of(lambda: client(cfg, cfg["key"], cfg["secret"], signature_version=botocore.UNSIGNED).describe_source_servers())
    check("an unsigned call is MissingAuthenticationTokenException", unsigned is not None and unsigned.response["Error"]["Code"] == "MissingAuthenticationTokenException", unsigned)
    skewed_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed_now):
        skewed = error_of(lambda: client(cfg, cfg["key"], cfg["secret"]).describe_source_servers())
    check("a clock 20 minutes slow is InvalidSignatureException (expired)", skewed is not None and skewed.response["Error"]["Code"] == "InvalidSignatureException" and "expired" in skewed.response["Error"]["Message"], skewed)


def main():
    cfg = json.loads(sys.argv[1])
    mgn = client(cfg, cfg["key"], cfg["secret"])
    result = lifecycle(mgn, cfg)
    exceptions(mgn, cfg)
    retire(mgn, cfg)
    signatures(cfg)
    finish(result)


if __name__ == "__main__":
    main()
