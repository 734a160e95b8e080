#!/usr/bin/env python3
"""A non-Rust client of cutoverd: the MGN and SMC cutover flows, the
lifecycle watch and the error model, through stubs generated at run time
from proto/ with grpc_tools.protoc and `google.rpc` details decoded with
grpcio-status.

Usage: flows.py HOST:PORT   (a cutoverd started with a fast --sim-speed and
its simulator on). Prints one line per check and a final
`N passed, M failed`; exits non-zero when anything failed.
"""

import sys
import time
import traceback

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import stubs

pb = stubs.load()
ss, ss_grpc = pb.source_server, pb.source_server_grpc
rj, rj_grpc = pb.replication_job, pb.replication_job_grpc
lc, lc_grpc = pb.lifecycle, pb.lifecycle_grpc

DEADLINE = 30.0  # seconds for anything the simulator drives
CALL_TIMEOUT = 10.0  # seconds for one unary call
POLL = 0.02  # seconds between two polls

LCS = ss.LifeCycleState
DRS = ss.DataReplicationState
JOB = rj.ReplicationJobStatus


# --------------------------------------------------------------------------
# helpers


class Client:
    """The generated stubs on one channel."""

    def __init__(self, addr):
        self.channel = grpc.insecure_channel(addr)
        grpc.channel_ready_future(self.channel).result(timeout=CALL_TIMEOUT)
        self.servers = ss_grpc.SourceServerServiceStub(self.channel)
        self.jobs = rj_grpc.ReplicationJobServiceStub(self.channel)
        self.lifecycle = lc_grpc.LifecycleServiceStub(self.channel)


def eventually(what, probe, deadline=DEADLINE):
    """Calls `probe` until it returns something truthy; fails after
    `deadline` seconds naming `what`."""
    start = time.monotonic()
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() - start > deadline:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}")
        time.sleep(POLL)


def state_name(enum, value):
    return enum.Name(value)


def get_server(c, sid):
    return c.servers.GetSourceServer(
        ss.GetSourceServerRequest(source_server_id=sid), timeout=CALL_TIMEOUT
    )


def get_job(c, jid):
    return c.jobs.GetReplicationJob(rj.GetReplicationJobRequest(job_id=jid), timeout=CALL_TIMEOUT)


def register(c):
    server = c.servers.RegisterSourceServer(ss.RegisterSourceServerRequest(), timeout=CALL_TIMEOUT)
    sid = server.source_server_id
    assert sid.startswith("s-") and len(sid) == 19, sid
    return sid


def wait_for_state(c, sid, state):
    def probe():
        server = get_server(c, sid)
        return server if server.life_cycle.state == state else None

    return eventually(f"{sid} to reach {LCS.Name(state)}", probe)


def wait_for_job(c, jid, status):
    def probe():
        job = get_job(c, jid)
        return job if job.status == status else None

    return eventually(f"{jid} to reach {JOB.Name(status)}", probe)


def header(metadata, key):
    for k, v in metadata or ():
        if k == key:
            return v
    return None


def expect_error(fn, code, reason):
    """Runs `fn`, expects an RpcError with `code` and ErrorInfo `reason`;
    returns (error, ErrorInfo, {type name: unpacked detail})."""
    try:
        fn()
    except grpc.RpcError as err:
        assert err.code() == code, f"expected {code}, got {err.code()}: {err.details()}"
        status = rpc_status.from_call(err)
        assert status is not None, f"no grpc-status-details-bin on {err.code()}: {err.details()}"
        assert status.code == code.value[0], (status.code, code)
        assert status.message == err.details(), (status.message, err.details())
        details = {}
        for any_detail in status.details:
            for cls in (
                error_details_pb2.ErrorInfo,
                error_details_pb2.BadRequest,
                error_details_pb2.ResourceInfo,
            ):
                if any_detail.Is(cls.DESCRIPTOR):
                    message = cls()
                    any_detail.Unpack(message)
                    details[cls.DESCRIPTOR.full_name] = message
        info = details.get("google.rpc.ErrorInfo")
        assert info is not None, f"no ErrorInfo in {status.details}"
        assert info.reason == reason, (info.reason, reason, err.details())
        assert info.domain == "cutover", info.domain
        assert "httpStatus" in info.metadata, dict(info.metadata)
        request_id = header(err.trailing_metadata(), "x-request-id") or header(
            err.initial_metadata(), "x-request-id"
        )
        assert request_id, "x-request-id metadata on the error"
        assert info.metadata.get("requestId") == request_id, (dict(info.metadata), request_id)
        return err, info, details
    raise AssertionError(f"expected {code} {reason}, the call succeeded")


def to_ready_for_test(c):
    sid = register(c)
    server = wait_for_state(c, sid, LCS.LIFE_CYCLE_STATE_READY_FOR_TEST)
    return sid, server


def to_cutting_over(c):
    sid, _ = to_ready_for_test(c)
    c.servers.StartTest(ss.StartTestRequest(source_server_id=sid), timeout=CALL_TIMEOUT)
    c.servers.ChangeServerLifeCycleState(
        ss.ChangeServerLifeCycleStateRequest(
            source_server_id=sid, state=LCS.LIFE_CYCLE_STATE_READY_FOR_CUTOVER
        ),
        timeout=CALL_TIMEOUT,
    )
    started = c.servers.StartCutover(
        ss.StartCutoverRequest(source_server_id=sid), timeout=CALL_TIMEOUT
    )
    return sid, started


def waiting_job(c):
    sid, _ = to_ready_for_test(c)
    created = c.jobs.CreateReplicationJob(
        rj.CreateReplicationJobRequest(
            source_id=sid,
            name="wave-1",
            run_once=False,
            frequency=24,
            max_number_of_image_to_keep=2,
        ),
        timeout=CALL_TIMEOUT,
    )
    jid = created.job_id
    assert jid.startswith("j-") and len(jid) == 22, jid
    assert created.request_id, created
    c.jobs.StartReplicationJob(rj.StartReplicationJobRequest(job_id=jid), timeout=CALL_TIMEOUT)
    job = wait_for_job(c, jid, JOB.REPLICATION_JOB_STATUS_WAITING)
    return sid, jid, job


# --------------------------------------------------------------------------
# checks


def check_reflection_and_health(c):
    """Both reflection versions answer list_services; health says SERVING.
    (Raw bytes: no reflection or health stubs needed.)"""
    identity = lambda b: b  # noqa: E731
    list_services = b"\x3a\x00"  # ServerReflectionRequest{list_services: ""}
    for version in ("v1", "v1alpha"):
        method = c.channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=identity,
            response_deserializer=identity,
        )
        replies = list(method(iter([list_services]), timeout=CALL_TIMEOUT))
        assert len(replies) == 1, replies
        for service in (
            b"cutover.v1.SourceServerService",
            b"cutover.v1.ReplicationJobService",
            b"cutover.v1.LifecycleService",
            b"cutover.v1.AccountService",
            b"cutover.v1.AgentService",
            b"grpc.health.v1.Health",
        ):
            assert service in replies[0], (version, service, replies[0])
    check = c.channel.unary_unary(
        "/grpc.health.v1.Health/Check", request_serializer=identity, response_deserializer=identity
    )
    for service in ("", "cutover.v1.SourceServerService", "cutover.v1.ReplicationJobService"):
        request = b"\x0a" + bytes([len(service)]) + service.encode() if service else b""
        # HealthCheckResponse{status: SERVING (1)}
        assert check(request, timeout=CALL_TIMEOUT) == b"\x08\x01", service


def check_mgn_flow_to_cutover(c):
    """Register → READY_FOR_TEST → StartTest → READY_FOR_CUTOVER →
    StartCutover → FinalizeCutover, asserting every FinalizeCutover effect,
    then the follow-up tasks completing."""
    sid, ready = to_ready_for_test(c)
    info = ready.data_replication_info
    assert info.data_replication_state == DRS.DATA_REPLICATION_STATE_CONTINUOUS, info
    assert info.HasField("lag_duration"), "lag is set once CONTINUOUS"
    assert info.replicated_disks, info
    assert ready.source_state == ss.SOURCE_STATE_AVAILABLE, ready.source_state
    assert ready.arn.endswith(f":source-server/{sid}"), ready.arn

    test = c.servers.StartTest(ss.StartTestRequest(source_server_id=sid), timeout=CALL_TIMEOUT)
    assert test.job.job_id.startswith("mgnjob-") and len(test.job.job_id) == 24, test.job
    assert test.source_server.life_cycle.state == LCS.LIFE_CYCLE_STATE_TESTING
    assert test.request_id

    ready_for_cutover = c.servers.ChangeServerLifeCycleState(
        ss.ChangeServerLifeCycleStateRequest(
            source_server_id=sid, state=LCS.LIFE_CYCLE_STATE_READY_FOR_CUTOVER
        ),
        timeout=CALL_TIMEOUT,
    )
    assert ready_for_cutover.life_cycle.state == LCS.LIFE_CYCLE_STATE_READY_FOR_CUTOVER

    started = c.servers.StartCutover(
        ss.StartCutoverRequest(source_server_id=sid), timeout=CALL_TIMEOUT
    )
    before = started.source_server
    assert before.life_cycle.state == LCS.LIFE_CYCLE_STATE_CUTTING_OVER
    assert before.life_cycle.last_cutover.initiated.job_id == started.job.job_id

    after, call = c.servers.FinalizeCutover.with_call(
        ss.FinalizeCutoverRequest(source_server_id=sid, client_token="py-finalize-1"),
        timeout=CALL_TIMEOUT,
    )
    request_id = header(call.initial_metadata(), "x-request-id")
    assert request_id and after.request_id == request_id, (after.request_id, request_id)
    assert after.source_server_id == sid
    assert after.life_cycle.state == LCS.LIFE_CYCLE_STATE_CUTOVER, after.life_cycle
    assert after.life_cycle.last_cutover.finalized.HasField("api_call_date_time")
    assert after.life_cycle.last_cutover.initiated.job_id == started.job.job_id
    info = after.data_replication_info
    assert info.data_replication_state == DRS.DATA_REPLICATION_STATE_DISCONNECTED
    assert not info.HasField("lag_duration"), "lag is nulled"
    assert not info.HasField("eta_date_time"), "eta is nulled"
    disks_before = before.data_replication_info.replicated_disks
    assert len(info.replicated_disks) == len(disks_before) > 0
    for disk, old in zip(info.replicated_disks, disks_before):
        assert disk.device_name == old.device_name
        assert disk.HasField("total_storage_bytes") and disk.total_storage_bytes == 0, disk
        assert disk.replicated_storage_bytes == old.replicated_storage_bytes, "kept"
    assert after.launched_instance == before.launched_instance, "cutover instance untouched"
    assert after.launched_instance.job_id == started.job.job_id
    kinds = sorted(ss.FollowUpTaskKind.Name(t.kind) for t in after.follow_up_tasks)
    assert kinds == [
        "FOLLOW_UP_TASK_KIND_AGENT_UNINSTALL",
        "FOLLOW_UP_TASK_KIND_REPLICATION_RESOURCES_TEARDOWN",
    ], kinds
    for task in after.follow_up_tasks:
        assert task.state == ss.FOLLOW_UP_TASK_STATE_PENDING, task
        assert task.deadline_date_time.ToDatetime() > task.created_date_time.ToDatetime()

    # The same client token and request: the first response again.
    retry = c.servers.FinalizeCutover(
        ss.FinalizeCutoverRequest(source_server_id=sid, client_token="py-finalize-1"),
        timeout=CALL_TIMEOUT,
    )
    assert retry.life_cycle.state == LCS.LIFE_CYCLE_STATE_CUTOVER
    assert [t.task_id for t in retry.follow_up_tasks] == [
        t.task_id for t in after.follow_up_tasks
    ]
    # The same token for another request is a validation error on it.
    other = register(c)
    _, _, details = expect_error(
        lambda: c.servers.FinalizeCutover(
            ss.FinalizeCutoverRequest(source_server_id=other, client_token="py-finalize-1"),
            timeout=CALL_TIMEOUT,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ValidationException",
    )
    fields = [v.field for v in details["google.rpc.BadRequest"].field_violations]
    assert fields == ["client_token"], fields
    # Without a token a repeat is a conflict naming the current state.
    _, info, _ = expect_error(
        lambda: c.servers.FinalizeCutover(
            ss.FinalizeCutoverRequest(source_server_id=sid), timeout=CALL_TIMEOUT
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ConflictException",
    )
    assert info.metadata["currentState"] == "CUTOVER", dict(info.metadata)
    assert info.metadata["resourceId"] == sid, dict(info.metadata)

    # The simulated agent uninstalls itself and tears down its resources.
    def tasks_done():
        server = get_server(c, sid)
        done = all(
            t.state == ss.FOLLOW_UP_TASK_STATE_COMPLETED and t.attempts >= 1
            for t in server.follow_up_tasks
        )
        return server if done and len(server.follow_up_tasks) == 2 else None

    done = eventually(f"{sid}'s follow-up tasks to complete", tasks_done)
    for task in done.follow_up_tasks:
        assert task.HasField("completed_date_time"), task


def check_smc_job_cutover(c):
    """An incremental job to Waiting, CutOverReplicationJob(sync_data=true),
    Finished with a FINAL run; a second cutover is InvalidStatus."""
    sid, jid, waiting = waiting_job(c)
    assert waiting.source_id == sid
    assert not waiting.run_once and waiting.frequency == 24
    assert waiting.max_number_of_image_to_keep == 2
    assert [r.image_id for r in waiting.replication_job_runs] == ["CYCLE_1"], waiting
    assert waiting.replication_job_runs[0].type == rj.REPLICATION_JOB_RUN_TYPE_MANUAL
    assert list(waiting.image_ids) == ["CYCLE_1"], waiting.image_ids
    assert waiting.HasField("next_run_time")

    response, call = c.jobs.CutOverReplicationJob.with_call(
        rj.CutOverReplicationJobRequest(job_id=jid, sync_data=True), timeout=CALL_TIMEOUT
    )
    assert response.request_id == header(call.initial_metadata(), "x-request-id"), response

    finished = wait_for_job(c, jid, JOB.REPLICATION_JOB_STATUS_FINISHED)
    images = [r.image_id for r in finished.replication_job_runs]
    assert images == ["CYCLE_1", "FINAL"], images
    final = finished.replication_job_runs[-1]
    assert final.HasField("start_time") and final.HasField("end_time"), final
    assert finished.cut_over.sync_data, finished.cut_over
    assert finished.cut_over.HasField("requested_time")
    assert finished.HasField("end_time")
    assert finished.progress == 100.0, finished.progress

    err, info, _ = expect_error(
        lambda: c.jobs.CutOverReplicationJob(
            rj.CutOverReplicationJobRequest(job_id=jid, sync_data=True), timeout=CALL_TIMEOUT
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ReplicationJob.InvalidStatus",
    )
    assert err.details() == (
        "The specified replication job status: Finished is invalid. "
        "This operation can only be performed in the following status: Waiting."
    ), err.details()
    assert info.metadata["resourceId"] == jid, dict(info.metadata)
    assert info.metadata["httpStatus"] == "400", dict(info.metadata)


def check_watch_from_revision_one(c):
    """WatchLifecycleEvents(start_revision=1) replays the log and goes on
    live, in revision order with no gap, until a server registered just
    before reaches READY_FOR_TEST."""
    sid = register(c)
    call = c.lifecycle.WatchLifecycleEvents(
        lc.WatchLifecycleEventsRequest(start_revision=1), timeout=DEADLINE
    )
    revisions = []
    seen = []
    try:
        for message in call:
            assert message.WhichOneof("kind") in ("event", "bookmark"), message
            if message.WhichOneof("kind") != "event":
                continue
            event = message.event
            revisions.append(event.revision)
            if event.resource_id != sid:
                continue
            seen.append(lc.LifecycleEventType.Name(event.event_type))
            assert event.resource_type == lc.RESOURCE_TYPE_SOURCE_SERVER
            assert event.WhichOneof("resource") == "source_server"
            assert event.source_server.source_server_id == sid
            assert event.HasField("time") and event.account_id, event
            state = event.new_state.source_server
            if state.life_cycle_state == LCS.LIFE_CYCLE_STATE_READY_FOR_TEST:
                break
    finally:
        call.cancel()
    assert revisions[0] == 1, revisions[:5]
    assert revisions == list(range(1, len(revisions) + 1)), "gap or disorder"
    assert seen[0] == "LIFECYCLE_EVENT_TYPE_SOURCE_SERVER_REGISTERED", seen
    assert "LIFECYCLE_EVENT_TYPE_LIFE_CYCLE_STATE_CHANGED" in seen, seen


def check_watch_snapshot_then_live(c):
    """send_initial_snapshot: snapshots, a snapshot_end, then live events
    from its revision + 1 with no gap."""
    known = register(c)
    call = c.lifecycle.WatchLifecycleEvents(
        lc.WatchLifecycleEventsRequest(
            send_initial_snapshot=True, resource_types=[lc.RESOURCE_TYPE_SOURCE_SERVER]
        ),
        timeout=DEADLINE,
    )
    snapshot_ids = set()
    end = None
    fresh = None
    revisions = []
    try:
        for message in call:
            kind = message.WhichOneof("kind")
            if kind == "snapshot":
                assert end is None, "snapshot after snapshot_end"
                snapshot_ids.add(message.snapshot.source_server.source_server_id)
            elif kind == "snapshot_end":
                end = message.snapshot_end.revision
                fresh = register(c)
            elif kind == "event":
                assert end is not None, "event before snapshot_end"
                revisions.append(message.event.revision)
                if message.event.resource_id == fresh:
                    assert message.event.event_type == lc.LIFECYCLE_EVENT_TYPE_SOURCE_SERVER_REGISTERED
                    break
    finally:
        call.cancel()
    assert known in snapshot_ids, (known, snapshot_ids)
    assert end is not None and end >= 1, end
    assert revisions and revisions[0] > end, (end, revisions[:3])
    # Filtered by resource type, so gaps are job events: strictly increasing.
    assert revisions == sorted(set(revisions)), revisions


def check_errors(c):
    """google.rpc details as a grpcio-status client decodes them."""
    # ConflictException: FinalizeCutover outside CUTTING_OVER.
    sid = register(c)
    err, info, _ = expect_error(
        lambda: c.servers.FinalizeCutover(
            ss.FinalizeCutoverRequest(source_server_id=sid), timeout=CALL_TIMEOUT
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "ConflictException",
    )
    metadata = dict(info.metadata)
    assert metadata["httpStatus"] == "409", metadata
    assert metadata["resourceId"] == sid, metadata
    assert metadata["resourceType"] == "SourceServer", metadata
    current = metadata["currentState"]
    assert f"LIFE_CYCLE_STATE_{current}" in LCS.keys(), current
    assert current != "CUTTING_OVER", current

    # ValidationException with a BadRequest field violation.
    err, info, details = expect_error(
        lambda: c.servers.GetSourceServer(
            ss.GetSourceServerRequest(source_server_id="bogus"), timeout=CALL_TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ValidationException",
    )
    assert info.metadata["httpStatus"] == "400"
    violations = details["google.rpc.BadRequest"].field_violations
    assert [v.field for v in violations] == ["source_server_id"], violations
    assert "bogus" in violations[0].description, violations[0]

    _, _, details = expect_error(
        lambda: c.jobs.CreateReplicationJob(
            rj.CreateReplicationJobRequest(
                source_id=sid, run_once=False, frequency=0, max_number_of_image_to_keep=2
            ),
            timeout=CALL_TIMEOUT,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ValidationException",
    )
    fields = [v.field for v in details["google.rpc.BadRequest"].field_violations]
    assert "frequency" in fields, fields

    # ResourceNotFoundException with ResourceInfo.
    missing = "s-00000000000000000"
    _, info, details = expect_error(
        lambda: get_server(c, missing),
        grpc.StatusCode.NOT_FOUND,
        "ResourceNotFoundException",
    )
    assert info.metadata["httpStatus"] == "404"
    resource = details["google.rpc.ResourceInfo"]
    assert resource.resource_name == missing, resource
    assert resource.resource_type == "SourceServer", resource
    _, _, details = expect_error(
        lambda: c.jobs.CutOverReplicationJob(
            rj.CutOverReplicationJobRequest(job_id="j-" + "0" * 20), timeout=CALL_TIMEOUT
        ),
        grpc.StatusCode.NOT_FOUND,
        "ResourceNotFoundException",
    )
    assert "google.rpc.ResourceInfo" in details, details

    # An unknown enum value (a newer client's) is a validation error too.
    expect_error(
        lambda: c.servers.ChangeServerLifeCycleState(
            ss.ChangeServerLifeCycleStateRequest(source_server_id=sid, state=99),
            timeout=CALL_TIMEOUT,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ValidationException",
    )


CHECKS = [
    check_reflection_and_health,
    check_errors,
    check_mgn_flow_to_cutover,
    check_smc_job_cutover,
    check_watch_from_revision_one,
    check_watch_snapshot_then_live,
]


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} HOST:PORT", file=sys.stderr)
        return 2
    if not __debug__:
        print("these checks are asserts: run without -O", file=sys.stderr)
        return 2
    client = Client(argv[1])
    passed = failed = 0
    for check in CHECKS:
        start = time.monotonic()
        try:
            check(client)
        except Exception:  # noqa: BLE001 - a failing check is reported, not fatal
            failed += 1
            print(f"FAIL {check.__name__} ({time.monotonic() - start:.2f}s)")
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {check.__name__} ({time.monotonic() - start:.2f}s)")
        sys.stdout.flush()
    client.channel.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
