// What the page shows: counts per state, the timeline of finalised
// cutovers, the filtered server and job tables, the connection, and the
// event history of the server or job picked.

import { JOB_STATUSES, LIFECYCLE_STATES } from "./wave.js";
import { VirtualRows, clock, duration, escape } from "./tables.js";

const ROW_HEIGHT = 30;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function taskHtml(task, now) {
  const name = task.kind === "AGENT_UNINSTALL" ? "uninstall" : task.kind === "REPLICATION_RESOURCES_TEARDOWN" ? "teardown" : task.kind.toLowerCase();
  const done = task.state === "COMPLETED";
  const late = !done && (task.overdue || (task.deadline && task.deadline < now));
  const status = done ? "done" : late ? "overdue" : "pending";
  const detail = done ? `done ${clock(task.completed)}`
    : `${task.progress > 0 ? `${Math.round(task.progress)}% · ` : ""}due ${clock(task.deadline)}`;
  return `<span class="task ${status}" data-kind="${escape(task.kind)}" data-status="${status}">${escape(name)} · ${escape(detail)}</span>`;
}

function serverHtml(row) {
  const now = Date.now();
  const progress = row.progress === null ? "" : `<progress max="1" value="${row.progress}"></progress> ${Math.floor(row.progress * 100)}%`;
  return `<div class="row${row.attention ? " attention" : ""}" data-id="${escape(row.id)}" data-state="${escape(row.state)}" data-archived="${row.archived}">`
    + `<span class="id">${escape(row.id)}</span><span>${escape(row.host)}</span>`
    + `<span class="state" data-state="${escape(row.state)}">${escape(row.state)}${row.archived ? " · archived" : ""}</span>`
    + `<span class="replication">${escape(row.replication)}</span><span>${progress}</span>`
    + `<span>${escape(duration(row.lagMs))}</span><span>${escape(clock(row.etaMs))}</span>`
    + `<span class="tasks">${row.tasks.map((t) => taskHtml(t, now)).join("")}</span></div>`;
}

function jobHtml(row) {
  return `<div class="row${row.attention ? " attention" : ""}" data-id="${escape(row.id)}" data-status="${escape(row.status)}">`
    + `<span class="id">${escape(row.id)}</span><span>${escape(row.name)}</span><span>${escape(row.source)}</span>`
    + `<span class="state" data-state="${escape(row.status)}">${escape(row.status)}</span><span>${escape(row.business)}</span>`
    + `<span><progress max="100" value="${row.progress}"></progress> ${Math.floor(row.progress)}%</span>`
    + `<span>${row.runs}</span></div>`;
}

const SORTS = {
  id: (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  state: (a, b) => LIFECYCLE_STATES.indexOf(a.state) - LIFECYCLE_STATES.indexOf(b.state) || SORTS.id(a, b),
  lag: (a, b) => (b.lagMs ?? -1) - (a.lagMs ?? -1) || SORTS.id(a, b),
  progress: (a, b) => (a.progress ?? 2) - (b.progress ?? 2) || SORTS.id(a, b),
};

/** The page's elements, redrawn from a Wave. */
export class View {
  /** `onChange` asks for a redraw; `onPick(id)` opens a history. */
  constructor(onChange, onPick) {
    this.servers = new VirtualRows($("server-rows"), ROW_HEIGHT, serverHtml, onPick);
    this.jobs = new VirtualRows($("job-rows"), ROW_HEIGHT, jobHtml, onPick);
    for (const [select, names] of [[$("filter-state"), LIFECYCLE_STATES], [$("filter-job-status"), JOB_STATUSES]]) {
      for (const name of names) select.add(new Option(name, name));
    }
    for (const id of ["filter-id", "filter-tag", "filter-state", "filter-job-status", "filter-attention", "sort-servers"]) {
      $(id).addEventListener("input", onChange);
    }
    for (const [counts, filter] of [["server-counts", "filter-state"], ["job-counts", "filter-job-status"]]) {
      $(counts).addEventListener("click", (event) => {
        const bar = event.target.closest("[data-state]");
        if (!bar) return;
        $(filter).value = $(filter).value === bar.dataset.state ? "" : bar.dataset.state;
        onChange();
      });
    }
  }

  /** Redraws everything from `wave`. */
  render(wave) {
    const { servers, jobs } = wave.counts();
    this.#counts($("server-counts"), LIFECYCLE_STATES, servers, wave.servers.size, $("filter-state").value);
    this.#counts($("job-counts"), JOB_STATUSES, jobs, wave.jobs.size, $("filter-job-status").value);
    $("server-total").textContent = `${wave.servers.size}`;
    $("job-total").textContent = `${wave.jobs.size}`;
    this.#timeline(wave.finalizations());

    const text = $("filter-id").value.trim().toLowerCase();
    const [tagKey, tagValue] = $("filter-tag").value.trim().split("=", 2).map((s) => s.trim());
    const state = $("filter-state").value;
    const attention = $("filter-attention").checked;
    const shownServers = [];
    for (const row of wave.servers.values()) {
      if (text && !row.search.includes(text)) continue;
      if (state && row.state !== state) continue;
      if (attention && !row.attention) continue;
      if (tagKey && !(tagKey in row.tags && (tagValue === undefined || row.tags[tagKey] === tagValue))) continue;
      shownServers.push(row);
    }
    shownServers.sort(SORTS[$("sort-servers").value] || SORTS.id);
    this.servers.set(shownServers);
    $("server-shown").textContent = `${shownServers.length} shown`;

    const status = $("filter-job-status").value;
    const shownJobs = [];
    for (const row of wave.jobs.values()) {
      if (text && !row.search.includes(text)) continue;
      if (status && row.status !== status) continue;
      if (attention && !row.attention) continue;
      shownJobs.push(row);
    }
    shownJobs.sort(SORTS.id);
    this.jobs.set(shownJobs);
    $("job-shown").textContent = `${shownJobs.length} shown`;
  }

  /** Shows the connection: `state` is live, connecting, offline or auth. */
  connection(state, text, stats) {
    const element = $("connection");
    element.dataset.state = state;
    element.textContent = text;
    for (const [key, value] of Object.entries(stats)) element.dataset[key] = String(value);
  }

  #counts(element, order, counts, total, selected) {
    const names = [...order, ...[...counts.keys()].filter((name) => !order.includes(name))];
    if (element.childElementCount !== names.length) {
      element.replaceChildren(...names.map((name) => {
        const bar = document.createElement("button");
        bar.type = "button";
        bar.className = "count";
        bar.dataset.state = name;
        bar.innerHTML = `<span class="label">${escape(name)}</span><span class="bar"><span class="fill"></span></span><span class="number"></span>`;
        return bar;
      }));
    }
    for (const bar of element.children) {
      const count = counts.get(bar.dataset.state) || 0;
      bar.dataset.count = String(count);
      bar.classList.toggle("selected", bar.dataset.state === selected);
      bar.classList.toggle("empty", count === 0);
      bar.querySelector(".fill").style.width = `${total ? (100 * count) / total : 0}%`;
      bar.querySelector(".number").textContent = String(count);
    }
  }

  #timeline(times) {
    const svg = $("timeline");
    $("finalized-total").textContent = `${times.length}`;
    if (times.length === 0) {
      svg.replaceChildren();
      $("timeline-axis").textContent = "none yet";
      return;
    }
    // Up to now: a flat end says nothing was finalised lately.
    const start = times[0];
    const end = Math.max(times[times.length - 1], start + 1000, Date.now());
    const x = (t) => (400 * (t - start)) / (end - start);
    const y = (n) => 115 - (110 * n) / times.length;
    let points = `0,${y(0)}`;
    times.forEach((t, i) => { points += ` ${x(t).toFixed(1)},${y(i).toFixed(1)} ${x(t).toFixed(1)},${y(i + 1).toFixed(1)}`; });
    points += ` 400,${y(times.length)}`;
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("class", "cumulative");
    svg.replaceChildren(line);
    $("timeline-axis").textContent = `${clock(start)} → now · ${times.length} finalised, the last ${duration(Date.now() - times[times.length - 1])} ago`;
  }

  /** Opens the side panel on `row` (a server or job row). */
  openHistory(row) {
    $("history").hidden = false;
    $("history").dataset.id = row.id;
    $("history-title").textContent = row.id;
    const facts = row.tags ? [
      ["Host", row.host], ["Lifecycle", row.state], ["Replication", row.replication],
      ["Tags", Object.entries(row.tags).map(([k, v]) => `${k}=${v}`).join(", ")],
      ["Tasks", row.tasks.map((t) => `${t.kind} ${t.state}${t.overdue ? " (overdue)" : ""}`).join(", ")],
    ] : [["Name", row.name], ["Source", row.source], ["Status", row.status], ["Business status", row.business]];
    $("history-facts").innerHTML = facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v || "—")}</dd>`).join("");
    $("history-events").replaceChildren();
    $("history-note").textContent = "loading…";
    this.history = { id: row.id, last: 0, live: false };
  }

  /** The id of the open history, if any. */
  historyId() {
    return $("history").hidden ? null : $("history").dataset.id;
  }

  /**
   * Appends `events` (decoded LifecycleEvents) to the open history. Live
   * events wait until the replay has caught up (it reads them itself);
   * an event already listed is not listed twice.
   */
  appendHistory(events, { live }) {
    const history = this.history;
    if (!history || (live && !history.live)) return;
    const list = $("history-events");
    for (const event of events) {
      if (event.revision <= history.last) continue;
      history.last = event.revision;
      const changes = (event.changes || [event.eventType]).map((c) => String(c).replace("LIFECYCLE_EVENT_TYPE_", ""));
      const progressOnly = changes.every((c) => c.endsWith("PROGRESS") && !c.startsWith("FOLLOW_UP"));
      const previous = list.lastElementChild;
      if (progressOnly && previous && previous.dataset.progress) {
        // A run of progress reports is one line: the history stays
        // readable through hours of replication.
        const reports = Number(previous.dataset.progress) + 1;
        previous.dataset.progress = String(reports);
        previous.dataset.revision = String(event.revision);
        previous.textContent = `#${event.revision} ${clock(event.time)} ${changes.join(", ")} ×${reports}`;
        continue;
      }
      const item = document.createElement("li");
      item.dataset.revision = String(event.revision);
      if (progressOnly) item.dataset.progress = "1";
      const task = event.followUpTask ? ` · ${String(event.followUpTask.kind).replace("FOLLOW_UP_TASK_KIND_", "")}` : "";
      item.textContent = `#${event.revision} ${clock(event.time)} ${changes.join(", ")}${task}`;
      list.append(item);
    }
  }

  /** Says how the history was read (or why it could not be). */
  historyNote(text) {
    $("history-note").textContent = text;
  }

  /** From now on, live events extend the open history. */
  historyCaughtUp() {
    if (this.history) this.history.live = true;
  }
}
