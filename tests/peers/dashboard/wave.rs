//! A wave on the page: five agents (one never acknowledges its
//! uninstall), a replication job, the cutover, the filters, a server's
//! history, a restart the page resumes through, and a compaction it lists
//! again after.

use std::{net::TcpListener, time::Duration};

use cutover::pb::v1::ReplicationJobStatus;
use tempfile::TempDir;
use tonic::Code;

use cutover_testkit::*;

use super::{
    browser::Browser, count, output_dir, set_filter, shown, stat, unique_rows, SERVER_ROW_IDS,
};

const SERVER_ARGS: [&str; 4] = ["--simulator", "infrastructure", "--sim-speed", "600"];
const AGENT_ARGS: [&str; 2] = ["--speed", "600"];

/// Whether the events from `revision` on are compacted away.
async fn compacted(server: &TestServer, revision: u64) -> bool {
    let mut lifecycle = server.lifecycle().await;
    match lifecycle.watch_lifecycle_events(watch_from(revision)).await {
        Err(status) => status.code() == Code::OutOfRange,
        Ok(stream) => {
            let mut stream = stream.into_inner();
            matches!(
                tokio::time::timeout(Duration::from_millis(200), stream.message()).await,
                Ok(Err(status)) if status.code() == Code::OutOfRange
            )
        }
    }
}

/// JavaScript: the status of task `kind` in the row of server `id`.
fn task_status(id: &str, kind: &str) -> String {
    format!(
        "document.querySelector('#server-rows .row[data-id=\"{id}\"] .task[data-kind=\"{kind}\"]')?.dataset.status"
    )
}

/// JavaScript: whether the row of server `id` shows it archived.
fn archived(id: &str) -> String {
    format!(
        "document.querySelector('#server-rows .row[data-id=\"{id}\"]')?.dataset.archived === 'true'"
    )
}

/// JavaScript: whether the connection badge says `state`.
fn connection(state: &str) -> String {
    format!("document.getElementById('connection').dataset.state === '{state}'")
}

/// The service (restartable on its socket), its agents and the page.
struct Wave {
    socket: TcpListener,
    dir: TempDir,
    server: TestServer,
    _agents: Vec<AgentProcess>,
    ids: Vec<String>,
    browser: Browser,
}

impl Wave {
    /// Five agents replicating, the last ignoring its uninstall; the page
    /// open on them.
    async fn start() -> Wave {
        let socket = TcpListener::bind("127.0.0.1:0").expect("socket");
        let dir = TempDir::new().expect("data dir");
        let server = TestServer::start_on(&socket, dir.path(), &SERVER_ARGS);
        let mut agents: Vec<AgentProcess> = (0..4)
            .map(|_| AgentProcess::start(&server, &AGENT_ARGS))
            .collect();
        let mut stubborn = AGENT_ARGS.to_vec();
        stubborn.push("--ignore-uninstall");
        agents.push(AgentProcess::start(&server, &stubborn));
        let ids = agents.iter().map(|a| a.server_id.clone()).collect();
        let browser = Browser::start(1600, 1000).await;
        browser.open(&format!("{}/", server.endpoint)).await;
        let page = "document.getElementById('server-total').textContent === '5'";
        browser.until("the five servers", page).await;
        assert_eq!(unique_rows(&browser).await.len(), 5);
        Wave {
            socket,
            dir,
            server,
            _agents: agents,
            ids,
            browser,
        }
    }

    /// The server whose agent never acknowledges its uninstall.
    fn stubborn(&self) -> &str {
        &self.ids[4]
    }

    /// Kills the service, waits for the page to notice, and starts it
    /// again on the same socket and data with `extra` arguments.
    async fn restart(&mut self, extra: &[&str]) {
        self.server.kill();
        let page = "document.getElementById('connection').dataset.state !== 'live'";
        self.browser.until("the page offline", page).await;
        let mut args = SERVER_ARGS.to_vec();
        args.extend_from_slice(extra);
        self.server = TestServer::start_on(&self.socket, self.dir.path(), &args);
    }

    /// A replication job: Waiting after its first run, then cut over with
    /// a final sync and Finished, each on the page as it happens.
    async fn cut_over_a_job(&self) {
        let job = waiting_job_for(&self.server, &self.ids[0], 1, 1).await;
        let status =
            format!("document.querySelector('#job-rows .row[data-id=\"{job}\"]')?.dataset.status");
        let waiting = format!("{status} === 'WAITING'");
        self.browser.until("the job Waiting", &waiting).await;
        let mut jobs = self.server.jobs().await;
        cut_over_job(&mut jobs, &job, true)
            .await
            .expect("CutOverReplicationJob");
        wait_for_job_status(&mut jobs, &job, ReplicationJobStatus::Finished).await;
        let finished = format!("{status} === 'FINISHED'");
        self.browser.until("the job Finished", &finished).await;
        assert_eq!(self.browser.eval(&count("job-counts", "FINISHED")).await, 1);
    }

    /// Mid-wave (three of five cut over): the README's picture, sane
    /// percentages, and the state filter on a mixed wave.
    async fn check_mid_wave(&self) {
        let browser = &self.browser;
        let three = format!("{} === 3", count("server-counts", "CUTOVER"));
        browser.until("three in CUTOVER", &three).await;
        browser.screenshot(&output_dir().join("mid-wave.png")).await;
        let percents = browser
            .eval("(document.getElementById('server-rows').textContent.match(/[0-9.]+%/g) || []).map(parseFloat)")
            .await;
        let percents: Vec<f64> = serde_json::from_value(percents).expect("numbers");
        assert!(
            percents.iter().all(|p| (0.0..=100.0).contains(p)),
            "{percents:?}"
        );
        browser.eval(&set_filter("filter-state", "CUTOVER")).await;
        let only_cutover = format!(
            "{} && {SERVER_ROW_IDS}.length === 3 && \
             [...document.querySelectorAll('#server-rows .row')].every(r => r.dataset.state === 'CUTOVER')",
            shown(3)
        );
        browser
            .until("the three in CUTOVER alone", &only_cutover)
            .await;
        browser.eval(&set_filter("filter-state", "")).await;
        browser.until("every server again", &shown(5)).await;
    }

    /// Counts at CUTOVER, the timeline, tasks done, and the ignored
    /// uninstall overdue and highlighted.
    async fn check_cut_over(&self) {
        let browser = &self.browser;
        let all = format!("{} === 5", count("server-counts", "CUTOVER"));
        browser.until("five servers in CUTOVER", &all).await;
        assert_eq!(
            browser
                .eval(&count("server-counts", "READY_FOR_TEST"))
                .await,
            0
        );
        let timeline = "document.getElementById('finalized-total').textContent === '5' \
             && document.querySelectorAll('#timeline polyline').length === 1";
        browser
            .until("five cutovers on the timeline", timeline)
            .await;
        for id in &self.ids[..4] {
            for kind in ["AGENT_UNINSTALL", "REPLICATION_RESOURCES_TEARDOWN"] {
                let done = format!("{} === 'done'", task_status(id, kind));
                browser.until(&format!("{kind} of {id} done"), &done).await;
            }
        }
        let stubborn = self.stubborn();
        let overdue = format!("{} === 'overdue'", task_status(stubborn, "AGENT_UNINSTALL"));
        browser
            .until("the ignored uninstall overdue", &overdue)
            .await;
        let highlighted = format!(
            "getComputedStyle(document.querySelector('#server-rows .row[data-id=\"{stubborn}\"] .task.overdue')).backgroundColor"
        );
        assert_ne!(browser.eval(&highlighted).await, "rgba(0, 0, 0, 0)");
        let teardown = format!(
            "{} === 'done'",
            task_status(stubborn, "REPLICATION_RESOURCES_TEARDOWN")
        );
        browser
            .until("the stubborn server's teardown", &teardown)
            .await;
    }

    /// Filters by state, attention and id.
    async fn check_filters(&self) {
        let browser = &self.browser;
        browser.eval(&set_filter("filter-state", "NOT_READY")).await;
        browser.until("none NOT_READY", &shown(0)).await;
        browser.eval(&set_filter("filter-state", "")).await;
        browser.eval(&set_filter("filter-attention", "true")).await;
        browser.until("only the overdue server", &shown(1)).await;
        assert_eq!(unique_rows(browser).await, vec![self.stubborn().to_owned()]);
        browser.eval(&set_filter("filter-attention", "false")).await;
        let prefix = self.ids[1][..8].to_owned();
        browser.eval(&set_filter("filter-id", &prefix)).await;
        // Every row shown matches the prefix (whatever the case), and the
        // server it was taken from is one of them.
        let filtered = format!(
            "(() => {{ const ids = {SERVER_ROW_IDS}; \
             return ids.includes('{}') && ids.every(id => id.toLowerCase().includes('{}')); }})()",
            self.ids[1],
            prefix.to_lowercase()
        );
        browser.until("the id filter", &filtered).await;
        browser.eval(&set_filter("filter-id", "")).await;
        browser.until("every server again", &shown(5)).await;
        browser.screenshot(&output_dir().join("wave.png")).await;
    }

    /// A click shows the server's history from its registration on, in
    /// revision order.
    async fn check_history(&self) {
        let browser = &self.browser;
        let row = format!("#server-rows .row[data-id=\"{}\"]", self.stubborn());
        browser.click(&row).await;
        let read = "document.getElementById('history-note').textContent.startsWith('complete')";
        browser.until("the history read", read).await;
        let history = browser
            .eval("[...document.querySelectorAll('#history-events li')].map(li => [Number(li.dataset.revision), li.textContent])")
            .await;
        let history = history.as_array().expect("history items").clone();
        let revisions: Vec<u64> = history.iter().filter_map(|item| item[0].as_u64()).collect();
        assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
        let texts = serde_json::to_string(&history).expect("json");
        for wanted in [
            "SOURCE_SERVER_REGISTERED",
            "LIFE_CYCLE_STATE_CHANGED",
            "FOLLOW_UP_TASK_OVERDUE",
        ] {
            assert!(texts.contains(wanted), "{wanted} in {texts}");
        }
        browser.screenshot(&output_dir().join("history.png")).await;
        browser.click("#history-close").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wave_runs_live_on_the_page_through_a_restart_and_a_compaction() {
    let mut wave = Wave::start().await;
    wave.cut_over_a_job().await;
    let mut servers = wave.server.servers().await;
    for (done, id) in wave.ids.iter().enumerate() {
        if done == 3 {
            wave.check_mid_wave().await;
        }
        take_to_cutover(&mut servers, id).await;
    }
    wave.check_cut_over().await;
    wave.check_filters().await;
    wave.check_history().await;

    // A dropped connection: the page resumes from its revision.
    let connects = wave.browser.eval(&stat("connects")).await.as_u64();
    wave.restart(&[]).await;
    archive(&mut wave.server.servers().await, &wave.ids[1]).await;
    let browser = &wave.browser;
    browser
        .until("the archival after the restart", &archived(&wave.ids[1]))
        .await;
    assert!(browser.eval(&stat("connects")).await.as_u64() > connects);
    assert!(browser.eval(&stat("resumes")).await.as_u64() >= Some(1));
    assert_eq!(
        browser.eval(&stat("snapshots")).await,
        1,
        "resumed, not listed again"
    );
    assert_eq!(unique_rows(browser).await.len(), 5);

    // A drop long enough for the events it missed to be compacted: the
    // page lists again (OUT_OF_RANGE) and shows what it missed.
    browser.until("the page live", &connection("live")).await;
    let revision = browser
        .eval(&stat("revision"))
        .await
        .as_u64()
        .expect("revision");
    browser.block_urls(&["*WatchLifecycleEvents*"]).await;
    wave.restart(&[
        "--event-retention-count",
        "1",
        "--compaction-interval-ms",
        "20",
    ])
    .await;
    let mut servers = wave.server.servers().await;
    archive(&mut servers, &wave.ids[2]).await;
    archive(&mut servers, &wave.ids[3]).await;
    eventually(DEADLINE, "the missed events compacted", || async {
        compacted(&wave.server, revision + 1).await.then_some(())
    })
    .await;
    let browser = &wave.browser;
    browser.block_urls(&[]).await;
    browser
        .until(
            "the page listed again",
            &format!("{} >= 1", stat("relists")),
        )
        .await;
    let missed = format!("{} && {}", archived(&wave.ids[2]), archived(&wave.ids[3]));
    browser.until("the missed archivals", &missed).await;
    assert_eq!(browser.eval(&stat("snapshots")).await, 2);
    assert_eq!(unique_rows(browser).await.len(), 5);
    assert_eq!(browser.eval(&count("server-counts", "CUTOVER")).await, 5);
    wave.browser.close().await;
}
