// Long lists, virtualised: only the rows in view (and a few either side)
// are in the document, so ten thousand servers cost what forty do.

const OVERSCAN = 8;

/** Text safe to put in HTML. */
export function escape(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `ms` as `1h 02m`, `3m 20s` or `45s`; empty when unknown. */
export function duration(ms) {
  if (ms === null || ms === undefined) return "";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** Epoch milliseconds as local `HH:MM:SS`; empty when unknown. */
export function clock(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** A scrolling list of fixed-height rows. */
export class VirtualRows {
  /**
   * `container` scrolls; `html(row)` renders one row; `onPick(id)` is
   * called with the `data-id` of a clicked row.
   */
  constructor(container, rowHeight, html, onPick) {
    this.container = container;
    this.rowHeight = rowHeight;
    this.html = html;
    this.rows = [];
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    this.window = document.createElement("div");
    this.window.className = "window";
    this.spacer.append(this.window);
    container.append(this.spacer);
    this.drawn = { first: -1, last: -1, version: -1, html: "" };
    this.version = 0;
    let pending = false;
    container.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.draw();
      });
    });
    container.addEventListener("click", (event) => {
      const row = event.target.closest("[data-id]");
      if (row) onPick(row.dataset.id);
    });
  }

  /** Shows `rows` (already filtered and sorted). */
  set(rows) {
    this.rows = rows;
    this.version += 1;
    this.spacer.style.height = `${rows.length * this.rowHeight}px`;
    this.draw();
  }

  draw() {
    const height = this.container.clientHeight || this.rowHeight * 20;
    const first = Math.max(0, Math.floor(this.container.scrollTop / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.rows.length, first + Math.ceil(height / this.rowHeight) + 2 * OVERSCAN);
    const drawn = this.drawn;
    if (drawn.first === first && drawn.last === last && drawn.version === this.version) return;
    const parts = [];
    for (let i = first; i < last; i += 1) parts.push(this.html(this.rows[i]));
    const html = parts.join("");
    this.window.style.transform = `translateY(${first * this.rowHeight}px)`;
    // Unchanged rows keep their elements (and the pointer's hover).
    if (html !== drawn.html) this.window.innerHTML = html;
    this.drawn = { first, last, version: this.version, html };
  }
}
