#!/usr/bin/env node
// A Node.js client of cutoverd: @grpc/grpc-js with @grpc/proto-loader
// reading proto/ at run time. It drives a whole FinalizeCutover and a whole
// CutOverReplicationJob, resumes a watch from a revision, and decodes the
// google.rpc.ErrorInfo of an error from its grpc-status-details-bin
// trailer.
//
// Usage: node flows.js HOST:PORT   (a cutoverd with its simulator on and a
// fast --sim-speed). Prints one line per check and `N passed, M failed`;
// exits non-zero when anything failed.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const DEADLINE_MS = 30000;
const POLL_MS = 20;

const definition = protoLoader.loadSync(
  [
    'cutover/v1/source_server.proto',
    'cutover/v1/replication_job.proto',
    'cutover/v1/lifecycle.proto',
  ],
  {
    includeDirs: [path.join(__dirname, '..', '..', 'proto')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  },
);
const v1 = grpc.loadPackageDefinition(definition).cutover.v1;

// The two google.rpc messages the error model uses, as published.
const rpc = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
`).root;
const Status = rpc.lookupType('google.rpc.Status');
const ErrorInfo = rpc.lookupType('google.rpc.ErrorInfo');

const addr = process.argv[2];
const servers = new v1.SourceServerService(addr, grpc.credentials.createInsecure());
const jobs = new v1.ReplicationJobService(addr, grpc.credentials.createInsecure());
const lifecycle = new v1.LifecycleService(addr, grpc.credentials.createInsecure());

function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10000 }, (err, reply) =>
      err ? reject(err) : resolve(reply),
    );
  });
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function eventually(what, probe) {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const getServer = (id) => call(servers, 'GetSourceServer', { sourceServerId: id });
const getJob = (id) => call(jobs, 'GetReplicationJob', { jobId: id });

async function replicatingServer() {
  const { sourceServerId: id } = await call(servers, 'RegisterSourceServer', {});
  await eventually(`${id} READY_FOR_TEST`, async () =>
    (await getServer(id)).lifeCycle.state === 'LIFE_CYCLE_STATE_READY_FOR_TEST');
  return id;
}

async function finalizeCutover() {
  const id = await replicatingServer();
  await call(servers, 'StartTest', { sourceServerId: id });
  await call(servers, 'ChangeServerLifeCycleState', {
    sourceServerId: id,
    state: 'LIFE_CYCLE_STATE_READY_FOR_CUTOVER',
  });
  await call(servers, 'StartCutover', { sourceServerId: id });
  const done = await call(servers, 'FinalizeCutover', { sourceServerId: id });
  check(done.lifeCycle.state === 'LIFE_CYCLE_STATE_CUTOVER', 'lifecycle CUTOVER');
  check(done.lifeCycle.lastCutover.finalized.apiCallDateTime, 'finalized stamped');
  const info = done.dataReplicationInfo;
  check(info.dataReplicationState === 'DATA_REPLICATION_STATE_DISCONNECTED', 'DISCONNECTED');
  check(!info.lagDuration && !info.etaDateTime, 'lag and ETA nulled');
  check(info.replicatedDisks.length > 0, 'disks');
  check(info.replicatedDisks.every((d) => d.totalStorageBytes === '0'), 'totals 0, present');
  check(done.followUpTasks.length === 2, 'two follow-up tasks');
  await eventually('both follow-up tasks done', async () =>
    (await getServer(id)).followUpTasks.every((t) => t.state === 'FOLLOW_UP_TASK_STATE_COMPLETED'));
  return id;
}

async function cutOverJob() {
  const source = await replicatingServer();
  const { jobId } = await call(jobs, 'CreateReplicationJob', {
    sourceId: source,
    name: 'node-wave',
    runOnce: false,
    frequency: 24,
    maxNumberOfImageToKeep: 2,
  });
  await call(jobs, 'StartReplicationJob', { jobId });
  await eventually('the job Waiting', async () =>
    (await getJob(jobId)).status === 'REPLICATION_JOB_STATUS_WAITING');
  await call(jobs, 'CutOverReplicationJob', { jobId, syncData: true });
  const done = await eventually('the job Finished', async () => {
    const job = await getJob(jobId);
    return job.status === 'REPLICATION_JOB_STATUS_FINISHED' && job;
  });
  check(done.replicationJobRuns.some((r) => r.imageId === 'FINAL'), 'the final sync is recorded');
  check(done.progress === 100, 'a finished job is at 100%');
}

function readEvents(request, count) {
  return new Promise((resolve, reject) => {
    const events = [];
    const stream = lifecycle.WatchLifecycleEvents(request);
    stream.on('data', (message) => {
      if (message.event) events.push(message.event);
      if (events.length === count) {
        stream.cancel();
        resolve(events);
      }
    });
    stream.on('error', (err) => {
      if (err.code !== grpc.status.CANCELLED) reject(err);
    });
  });
}

async function resumedWatch() {
  const first = await readEvents({ startRevision: '1' }, 5);
  const revisions = first.map((e) => Number(e.revision));
  check(revisions.join() === '1,2,3,4,5', `gap-free from 1: ${revisions}`);
  const resumed = await readEvents({ startRevision: String(revisions[4] + 1) }, 3);
  check(Number(resumed[0].revision) === 6, 'resumed exactly after the last one read');
}

async function errorInfo(id) {
  const err = await call(servers, 'FinalizeCutover', { sourceServerId: id }).then(
    () => null,
    (e) => e,
  );
  check(err && err.code === grpc.status.FAILED_PRECONDITION, 'a second finalize is refused');
  const [details] = err.metadata.get('grpc-status-details-bin');
  const status = Status.decode(details);
  const any = status.details.find((d) => d.typeUrl.endsWith('/google.rpc.ErrorInfo'));
  check(any, 'an ErrorInfo detail');
  const info = ErrorInfo.decode(any.value);
  check(info.reason === 'ConflictException', `reason ${info.reason}`);
  check(info.domain === 'cutover', 'domain');
  check(info.metadata.currentState === 'CUTOVER', 'current state named');
  check(info.metadata.resourceId === id, 'resource named');
}

async function main() {
  let passed = 0;
  let failed = 0;
  const run = async (name, flow) => {
    try {
      const value = await flow();
      passed += 1;
      console.log(`ok ${name}`);
      return value;
    } catch (err) {
      failed += 1;
      console.log(`FAILED ${name}: ${err.stack || err}`);
      return undefined;
    }
  };
  const cutOver = await run('FinalizeCutover from registration to tasks done', finalizeCutover);
  await run('CutOverReplicationJob with syncData to Finished', cutOverJob);
  await run('a watch resumed from a revision', resumedWatch);
  if (cutOver) await run('ErrorInfo of a ConflictException', () => errorInfo(cutOver));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed === 4 ? 0 : 1);
}

main();
