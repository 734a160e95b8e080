// The wave as the watch stream describes it: every source server and
// replication job by id, the revision it reflects, and what the page shows
// of each row, derived once per change rather than once per frame.

/** Lifecycle states in the order a wave moves through them. */
export const LIFECYCLE_STATES = [
  "DISCOVERED", "PENDING_INSTALLATION", "NOT_READY", "READY_FOR_TEST", "TESTING",
  "READY_FOR_CUTOVER", "CUTTING_OVER", "CUTOVER", "DISCONNECTED", "STOPPED",
];

/** Job statuses in the order a job moves through them. */
export const JOB_STATUSES = [
  "READY", "RUNNING", "WAITING", "STOPPED", "IN_ERROR", "FINISHED", "EXPIRED", "DELETING",
];

const LIFECYCLE_PREFIX = "LIFE_CYCLE_STATE_";
const REPLICATION_PREFIX = "DATA_REPLICATION_STATE_";
const JOB_PREFIX = "REPLICATION_JOB_STATUS_";
const BUSINESS_PREFIX = "REPLICATION_JOB_BUSINESS_STATUS_";

/** Strips a proto enum prefix: `LIFE_CYCLE_STATE_CUTOVER` → `CUTOVER`. */
function short(name, prefix) {
  return typeof name === "string" && name.startsWith(prefix) ? name.slice(prefix.length) : String(name ?? "");
}

/** One source server as a table row. */
function serverRow(server) {
  const info = server.dataReplicationInfo || {};
  const life = server.lifeCycle || {};
  let total = 0;
  let replicated = 0;
  for (const disk of info.replicatedDisks || []) {
    total += disk.totalStorageBytes || 0;
    replicated += disk.replicatedStorageBytes || 0;
  }
  const tasks = (server.followUpTasks || []).map((task) => ({
    kind: short(task.kind, "FOLLOW_UP_TASK_KIND_"),
    state: short(task.state, "FOLLOW_UP_TASK_STATE_"),
    deadline: task.deadlineDateTime || 0,
    completed: task.completedDateTime || 0,
    overdue: Boolean(task.overdue),
    progress: task.progress || 0,
  }));
  const hints = (server.sourceProperties || {}).identificationHints || {};
  const replication = short(info.dataReplicationState, REPLICATION_PREFIX);
  const finalized = ((life.lastCutover || {}).finalized || {}).apiCallDateTime || 0;
  const overdue = tasks.some((t) => t.overdue && t.state !== "COMPLETED");
  return {
    id: server.sourceServerId,
    host: hints.hostname || hints.fqdn || "",
    state: short(life.state, LIFECYCLE_PREFIX),
    replication,
    progress: total > 0 ? replicated / total : null,
    lagMs: info.lagDuration ?? null,
    etaMs: info.etaDateTime ?? null,
    tasks,
    tags: server.tags || {},
    archived: Boolean(server.isArchived),
    finalized,
    attention: overdue || replication === "STALLED" || Boolean((info.dataReplicationError || {}).error),
    search: `${server.sourceServerId} ${hints.hostname || ""} ${hints.fqdn || ""}`.toLowerCase(),
  };
}

/** One replication job as a table row. */
function jobRow(job) {
  return {
    id: job.jobId,
    name: job.name || "",
    source: job.sourceId || "",
    status: short(job.status, JOB_PREFIX),
    business: short(job.businessStatus, BUSINESS_PREFIX),
    progress: job.progress ?? 0,
    runs: (job.replicationJobRuns || []).length,
    attention: short(job.status, JOB_PREFIX) === "IN_ERROR",
    search: `${job.jobId} ${job.name || ""} ${job.sourceId || ""}`.toLowerCase(),
  };
}

/** Every resource of the wave, as of `revision`. */
export class Wave {
  constructor() {
    this.servers = new Map();
    this.jobs = new Map();
    this.revision = 0;
  }

  /** Takes a resource of the initial snapshot or of an event. */
  put(resource) {
    if (resource.sourceServer) {
      const row = serverRow(resource.sourceServer);
      if (row.id) this.servers.set(row.id, row);
    } else if (resource.replicationJob) {
      const row = jobRow(resource.replicationJob);
      if (row.id) this.jobs.set(row.id, row);
    }
  }

  /**
   * Applies one live event; an event at or below the revision already
   * applied (a redelivery after a resume) changes nothing. Returns whether
   * it was new.
   */
  apply(event) {
    const revision = event.revision || 0;
    if (revision <= this.revision) return false;
    this.revision = revision;
    this.put(event);
    return true;
  }

  /** Moves the revision on for a bookmark (nothing matched up to it). */
  bookmark(revision) {
    if (revision > this.revision) this.revision = revision;
  }

  /** Servers per lifecycle state and jobs per status. */
  counts() {
    const servers = new Map();
    for (const row of this.servers.values()) servers.set(row.state, (servers.get(row.state) || 0) + 1);
    const jobs = new Map();
    for (const row of this.jobs.values()) jobs.set(row.status, (jobs.get(row.status) || 0) + 1);
    return { servers, jobs };
  }

  /** Finalisation times of every server cut over, oldest first. */
  finalizations() {
    const times = [];
    for (const row of this.servers.values()) if (row.finalized) times.push(row.finalized);
    return times.sort((a, b) => a - b);
  }
}
