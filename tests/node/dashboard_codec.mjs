#!/usr/bin/env node
// The dashboard's hand-written protobuf codec (src/api/dashboard/assets/codec.js)
// checked against protobufjs, a reference implementation: messages
// protobufjs encodes from proto/ decode to the same values (maps, packed
// enums, optional and 64-bit integers, negative int32s, Timestamps,
// Durations), what the page encodes decodes in protobufjs to what it meant,
// and a real google.rpc.Status from tonic decodes to its ErrorInfo.
//
// Usage: node dashboard_codec.mjs SCHEMA_JSON STATUS_BIN. Prints one line
// per check and `N passed, M failed`; exits non-zero when anything failed.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const protobuf = require("protobufjs");
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

// codec.js is an ES module served to browsers; outside a "type": "module"
// package Node needs it as a data: URL.
const source = readFileSync(join(repo, "src/api/dashboard/assets/codec.js"));
const { Codec } = await import(`data:text/javascript;base64,${source.toString("base64")}`);
const codec = new Codec(JSON.parse(readFileSync(process.argv[2], "utf8")));

const root = new protobuf.Root();
root.resolvePath = (_, target) => (target.startsWith("google/protobuf/") ? target : join(repo, "proto", target));
root.loadSync(["cutover/v1/lifecycle.proto"], { keepCase: false });
const type = (name) => root.lookupType(name);

let passed = 0;
let failed = 0;
function check(name, actual, expected) {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a === e) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}: got ${a}, expected ${e}`);
  }
}

const TB = 2 ** 40 + 7;
const server = type("cutover.v1.SourceServer");
const encoded = server.encode(server.fromObject({
  sourceServerId: "s-0123456789abcdefg",
  tags: { wave: "3", "app/tier": "web ✓" },
  lifeCycle: { state: "LIFE_CYCLE_STATE_CUTOVER", lastCutover: { finalized: { apiCallDateTime: { seconds: 1796000000, nanos: 250000000 } } } },
  dataReplicationInfo: {
    dataReplicationState: "DATA_REPLICATION_STATE_DISCONNECTED",
    lagDuration: { seconds: 90, nanos: 500000000 },
    replicatedDisks: [{ deviceName: "/dev/sda", totalStorageBytes: 0, replicatedStorageBytes: TB }, { deviceName: "/dev/sdb" }],
  },
  followUpTasks: [{ taskId: "t-1", kind: "FOLLOW_UP_TASK_KIND_AGENT_UNINSTALL", attempts: -1, overdue: true, progress: 42.5 }],
})).finish();
const decoded = codec.decode("cutover.v1.SourceServer", encoded);
check("string and map", [decoded.sourceServerId, decoded.tags], ["s-0123456789abcdefg", { wave: "3", "app/tier": "web ✓" }]);
check("enum names", [decoded.lifeCycle.state, decoded.dataReplicationInfo.dataReplicationState], ["LIFE_CYCLE_STATE_CUTOVER", "DATA_REPLICATION_STATE_DISCONNECTED"]);
check("timestamp as epoch ms", decoded.lifeCycle.lastCutover.finalized.apiCallDateTime, 1796000000250);
check("duration as ms", decoded.dataReplicationInfo.lagDuration, 90500);
check("optional int64 zero kept, 64-bit value exact", decoded.dataReplicationInfo.replicatedDisks.map((d) => [d.totalStorageBytes, d.replicatedStorageBytes]), [[0, TB], [undefined, undefined]]);
check("negative int32, bool, double", [decoded.followUpTasks[0].attempts, decoded.followUpTasks[0].overdue, decoded.followUpTasks[0].progress], [-1, true, 42.5]);

const event = type("cutover.v1.LifecycleEvent");
const eventBytes = event.encode(event.fromObject({
  revision: 12345678901,
  changes: ["LIFECYCLE_EVENT_TYPE_LIFE_CYCLE_STATE_CHANGED", "LIFECYCLE_EVENT_TYPE_DATA_REPLICATION_STATE_CHANGED"],
  sourceServer: { sourceServerId: "s-x" },
})).finish();
const decodedEvent = codec.decode("cutover.v1.LifecycleEvent", eventBytes);
check("packed repeated enum", decodedEvent.changes, ["LIFECYCLE_EVENT_TYPE_LIFE_CYCLE_STATE_CHANGED", "LIFECYCLE_EVENT_TYPE_DATA_REPLICATION_STATE_CHANGED"]);
check("uint64 revision and oneof member", [decodedEvent.revision, decodedEvent.sourceServer.sourceServerId], [12345678901, "s-x"]);

const request = type("cutover.v1.WatchLifecycleEventsRequest");
const sent = request.toObject(request.decode(codec.encode("cutover.v1.WatchLifecycleEventsRequest", {
  resourceIds: ["s-a", "j-b"], startRevision: TB, sendInitialSnapshot: true, progressInterval: 1500,
})), { longs: Number, enums: String });
check("the page's request as protobufjs reads it", [sent.resourceIds, sent.startRevision, sent.sendInitialSnapshot, sent.progressInterval], [["s-a", "j-b"], TB, true, { seconds: 1, nanos: 500000000 }]);

const status = codec.decode("google.rpc.Status", readFileSync(process.argv[3]));
const any = (status.details || []).find((d) => d.typeUrl.endsWith("google.rpc.ErrorInfo"));
const info = any ? codec.decode("google.rpc.ErrorInfo", any.value) : {};
check("google.rpc.Status from tonic", [status.code, info.reason, info.metadata], [11, "RevisionCompacted", { oldestRevision: "42" }]);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
