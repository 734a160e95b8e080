//! The live wave dashboard in a real browser: headless Chromium loads the
//! page `cutoverd` serves, a wave runs on real agents and the simulated
//! infrastructure, and the test reads the DOM: counts reach CUTOVER, tasks
//! turn done, an overdue task is highlighted, a dropped connection resumes
//! without duplicate rows and a compacted one lists again, a click shows a
//! server's history; off loopback the page asks for a bearer token; ten
//! thousand servers render at once and a burst of events streams in.
//!
//! Screenshots go to `$CARGO_TARGET_TMPDIR/dashboard/`. Needs Debian's
//! `chromium` and `chromium-driver`: `scripts/test` installs them.

mod auth;
mod browser;
mod codec;
mod scale;
mod wave;

use std::path::PathBuf;

use browser::Browser;
use serde_json::Value;

/// Where the tests leave their screenshots.
fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard")
}

/// JavaScript: the number the count bar of `state` shows in `counts`.
fn count(counts: &str, state: &str) -> String {
    format!("Number(document.querySelector('#{counts} [data-state=\"{state}\"]')?.dataset.count)")
}

/// JavaScript: the ids of the server rows in the document, in order.
const SERVER_ROW_IDS: &str =
    "[...document.querySelectorAll('#server-rows .row')].map(r => r.dataset.id)";

/// JavaScript: whether the server table says `n` rows are shown.
fn shown(n: usize) -> String {
    format!("document.getElementById('server-shown').textContent === '{n} shown'")
}

/// JavaScript: one of the page's counters (`window.cutoverDashboard.stats`).
fn stat(name: &str) -> String {
    format!("window.cutoverDashboard.stats.{name}")
}

/// JavaScript: sets the filter control `id` to `value` as a user would.
fn set_filter(id: &str, value: &str) -> String {
    format!(
        "(() => {{ const e = document.getElementById('{id}'); \
         if (e.type === 'checkbox') e.checked = {value:?} === 'true'; else e.value = {value:?}; \
         e.dispatchEvent(new Event('input')); return true; }})()"
    )
}

/// The ids the server table shows, checking that none repeats.
async fn unique_rows(browser: &Browser) -> Vec<String> {
    let rows: Vec<String> = match browser.eval(SERVER_ROW_IDS).await {
        Value::Array(ids) => ids
            .into_iter()
            .map(|id| id.as_str().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("row ids: {other}"),
    };
    let mut sorted = rows.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), rows.len(), "duplicate rows: {rows:?}");
    rows
}
