// Boots the page: loads the schema, opens the watch with an initial
// snapshot, applies what arrives once per animation frame, and resumes
// from the last revision after a drop (listing again after OUT_OF_RANGE).

import { Codec } from "./codec.js";
import { Code, GrpcError, serverStream } from "./grpc_web.js";
import { Wave } from "./wave.js";
import { View } from "./view.js";

const WATCH = "/cutover.v1.LifecycleService/WatchLifecycleEvents";
const REQUEST = "cutover.v1.WatchLifecycleEventsRequest";
const RESPONSE = "cutover.v1.WatchLifecycleEventsResponse";
const BOOKMARK_MS = 5000;
const RETRY_MS = [250, 500, 1000, 2000, 4000];
const TOKEN_KEY = "cutover.token";
const $ = (id) => document.getElementById(id);

/** What the page has done, for the status line and for tests. */
const stats = {
  connects: 0, resumes: 0, relists: 0, snapshots: 0, applied: 0, frames: 0,
  maxFrameMs: 0, firstRenderMs: 0, revision: 0,
};

let codec;
let wave = new Wave();
let view;
let pending = [];
let frameRequested = false;
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let tokenEntered = null;
// The newest revision received (applied or waiting for the next frame).
let received = 0;
// Whether the current call delivered anything.
let heard = false;
// Whether a call is open and has delivered something.
let connected = false;

function scheduleFrame() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(frame);
}

// Everything that arrived since the last frame, applied at once.
function frame() {
  frameRequested = false;
  const started = performance.now();
  const batch = pending;
  pending = [];
  const history = view.historyId();
  const historyEvents = [];
  let swapped = false;
  for (const item of batch) {
    if (item.snapshot) {
      wave = item.snapshot;
      swapped = true;
    } else if (item.bookmark) {
      wave.bookmark(item.bookmark);
    } else if (wave.apply(item) && history && item.resourceId === history) {
      historyEvents.push(item);
    }
  }
  stats.applied += batch.length;
  view.render(wave);
  if (historyEvents.length) view.appendHistory(historyEvents, { live: true });
  stats.frames += 1;
  stats.revision = wave.revision;
  stats.maxFrameMs = Math.max(stats.maxFrameMs, performance.now() - started);
  if (swapped && !stats.firstRenderMs) {
    // The next frame starts once this one is painted.
    requestAnimationFrame(() => {
      stats.firstRenderMs = Math.round(performance.now());
      document.body.dataset.firstRenderMs = String(stats.firstRenderMs);
    });
  }
  if (connected) showConnection("live", `live · revision ${wave.revision}`);
}

function showConnection(state, text) {
  view.connection(state, text, stats);
}

function request(resume) {
  const base = { progressInterval: BOOKMARK_MS };
  return resume ? { ...base, startRevision: resume } : { ...base, sendInitialSnapshot: true };
}

// One watch call: a snapshot into a fresh Wave (swapped in whole at its
// end, so a re-list never shows half a wave), or a resume from a revision.
// Returns nothing: it ends by throwing the status that ended the call.
async function watchOnce(resume) {
  const incoming = resume ? null : new Wave();
  const calls = serverStream(WATCH, codec.encode(REQUEST, request(resume)), { token });
  stats.connects += 1;
  for await (const bytes of calls) {
    heard = true;
    connected = true;
    const message = codec.decode(RESPONSE, bytes);
    if (message.snapshot && incoming) {
      incoming.put(message.snapshot);
    } else if (message.snapshotEnd && incoming) {
      incoming.revision = message.snapshotEnd.revision || 0;
      received = incoming.revision;
      stats.snapshots += 1;
      pending.push({ snapshot: incoming });
    } else if (message.event) {
      received = Math.max(received, message.event.revision || 0);
      pending.push(message.event);
    } else if (message.bookmark) {
      received = Math.max(received, message.bookmark.revision || 0);
      pending.push({ bookmark: message.bookmark.revision || 0 });
    }
    scheduleFrame();
  }
}

async function watchForever() {
  let attempt = 0;
  for (;;) {
    const resume = received > 0 ? received + 1 : 0;
    try {
      showConnection("connecting", resume ? `resuming from revision ${resume}…` : "loading the wave…");
      if (resume) stats.resumes += 1;
      await watchOnce(resume);
    } catch (err) {
      connected = false;
      const status = err instanceof GrpcError ? err : new GrpcError(Code.UNAVAILABLE, String(err));
      if (status.code === Code.UNAUTHENTICATED || status.code === Code.PERMISSION_DENIED) {
        showConnection("auth", `${status.message}: a bearer token is needed`);
        await askForToken(status.message);
        attempt = 0;
        continue;
      }
      if (status.code === Code.OUT_OF_RANGE) {
        // The events since our revision were compacted: list again.
        received = 0;
        stats.relists += 1;
        continue;
      }
      // A call that delivered something was a success: start the back-off over.
      if (heard) attempt = 0;
      heard = false;
      showConnection("offline", `disconnected (${status.message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
      attempt += 1;
    }
  }
}

function askForToken(reason) {
  $("token-reason").textContent = `This service authenticates its callers (${reason}): give a bearer token.`;
  $("token-form").hidden = false;
  $("token-input").focus();
  return new Promise((resolve) => { tokenEntered = resolve; });
}

function setUpToken() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token-input").value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token-form").hidden = true;
    if (tokenEntered) tokenEntered();
    tokenEntered = null;
  });
  $("token-clear").addEventListener("click", () => {
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    $("token-input").value = "";
  });
  $("token-button").addEventListener("click", () => { $("token-form").hidden = !$("token-form").hidden; });
}

// The picked resource's own history: a filtered watch from revision 1 (or
// from the oldest kept), read until the first bookmark says it caught up.
async function showHistory(id) {
  const row = wave.servers.get(id) || wave.jobs.get(id);
  if (!row) return;
  view.openHistory(row);
  let start = 1;
  let note = "";
  for (let tries = 0; tries < 2; tries += 1) {
    const controller = new AbortController();
    const body = codec.encode(REQUEST, { resourceIds: [id], startRevision: start, progressInterval: 200 });
    try {
      for await (const bytes of serverStream(WATCH, body, { token, signal: controller.signal })) {
        if (view.historyId() !== id) {
          // Closed, or another resource picked: this replay is moot.
          controller.abort();
          return;
        }
        const message = codec.decode(RESPONSE, bytes);
        if (message.event) view.appendHistory([message.event], { live: false });
        if (message.bookmark) {
          controller.abort();
          break;
        }
      }
      view.historyCaughtUp();
      view.historyNote(note || "complete; new events appear as they happen");
      return;
    } catch (err) {
      const oldest = err.code === Code.OUT_OF_RANGE ? oldestRevision(err.details) : 0;
      if (!oldest) {
        view.historyNote(`cannot read the history: ${err.message}`);
        return;
      }
      start = oldest;
      note = `events before revision ${oldest} were compacted`;
    }
  }
}

// google.rpc.Status → ErrorInfo.metadata.oldestRevision.
function oldestRevision(details) {
  if (!details) return 0;
  const status = codec.decode("google.rpc.Status", details);
  for (const any of status.details || []) {
    if (String(any.typeUrl).endsWith("google.rpc.ErrorInfo")) {
      const info = codec.decode("google.rpc.ErrorInfo", any.value);
      return Number((info.metadata || {}).oldestRevision) || 0;
    }
  }
  return 0;
}

async function boot() {
  let schema;
  try {
    const response = await fetch("schema.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    schema = await response.json();
  } catch (err) {
    $("connection").dataset.state = "offline";
    $("connection").textContent = `cannot load the schema (${err.message}); reload to retry`;
    return;
  }
  codec = new Codec(schema);
  view = new View(scheduleFrame, (id) => { showHistory(id); });
  $("history-close").addEventListener("click", () => { $("history").hidden = true; });
  setUpToken();
  window.cutoverDashboard = { stats, wave: () => wave };
  // Deadlines pass and the timeline moves on without any event.
  setInterval(scheduleFrame, 1000);
  watchForever();
}

boot();
