//! A wave on the page: five agents (one never acknowledges its uninstall),
//! a replication job, the cutover, a restart the page resumes through,
//! a compaction it lists again after, a server's history, and the token
//! prompt of an authenticating service.

use std::{net::TcpListener, time::Duration};

use cutover::pb::v1::ReplicationJobStatus;
use tempfile::TempDir;
use tonic::Code;

use crate::{
    browser::Browser, count, output_dir, set_filter, stat, support::*, unique_rows, SERVER_ROW_IDS,
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
    format!("document.querySelector('#server-rows .row[data-id=\"{id}\"]')?.dataset.archived === 'true'")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wave_runs_live_on_the_page_through_a_restart_and_a_compaction() {
    let socket = TcpListener::bind("127.0.0.1:0").expect("socket");
    let dir = TempDir::new().expect("data dir");
    let mut server = TestServer::start_on(&socket, dir.path(), &SERVER_ARGS);
    let mut agents: Vec<AgentProcess> = (0..4)
        .map(|_| AgentProcess::start(&server, &AGENT_ARGS))
        .collect();
    let mut stubborn_args = AGENT_ARGS.to_vec();
    stubborn_args.push("--ignore-uninstall");
    agents.push(AgentProcess::start(&server, &stubborn_args));
    let ids: Vec<String> = agents.iter().map(|a| a.server_id.clone()).collect();
    let stubborn = ids[4].clone();

    let browser = Browser::start(1600, 1000).await;
    browser.open(&format!("{}/", server.endpoint)).await;
    browser
        .until(
            "the five servers",
            "document.getElementById('server-total').textContent === '5'",
        )
        .await;
    assert_eq!(unique_rows(&browser).await.len(), 5);

    // A replication job: created, Waiting after its first run, cut over
    // with a final sync, Finished, each on the page as it happens.
    let job = waiting_job_for(&server, &ids[0], 1, 1).await;
    let job_status =
        format!("document.querySelector('#job-rows .row[data-id=\"{job}\"]')?.dataset.status");
    browser
        .until("the job Waiting", &format!("{job_status} === 'WAITING'"))
        .await;
    let mut jobs = server.jobs().await;
    cut_over_job(&mut jobs, &job, true)
        .await
        .expect("CutOverReplicationJob");
    wait_for_job_status(&mut jobs, &job, ReplicationJobStatus::Finished).await;
    browser
        .until("the job Finished", &format!("{job_status} === 'FINISHED'"))
        .await;
    assert_eq!(browser.eval(&count("job-counts", "FINISHED")).await, 1);

    // The cutover of the wave.
    let mut servers = server.servers().await;
    for (done, id) in ids.iter().enumerate() {
        if done == 3 {
            // Mid-wave: the README's picture.
            browser
                .until(
                    "three in CUTOVER",
                    &format!("{} === 3", count("server-counts", "CUTOVER")),
                )
                .await;
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
                "document.getElementById('server-shown').textContent === '3 shown' && \
                 {SERVER_ROW_IDS}.length === 3 && \
                 [...document.querySelectorAll('#server-rows .row')].every(r => r.dataset.state === 'CUTOVER')"
            );
            browser
                .until("the three in CUTOVER alone", &only_cutover)
                .await;
            browser.eval(&set_filter("filter-state", "")).await;
            browser
                .until(
                    "every server again",
                    "document.getElementById('server-shown').textContent === '5 shown'",
                )
                .await;
        }
        take_to_cutover(&mut servers, id).await;
    }
    browser
        .until(
            "five servers in CUTOVER",
            &format!("{} === 5", count("server-counts", "CUTOVER")),
        )
        .await;
    assert_eq!(
        browser
            .eval(&count("server-counts", "READY_FOR_TEST"))
            .await,
        0
    );
    browser
        .until("five finalised cutovers on the timeline", "document.getElementById('finalized-total').textContent === '5' && document.querySelectorAll('#timeline polyline').length === 1")
        .await;
    for id in &ids[..4] {
        for kind in ["AGENT_UNINSTALL", "REPLICATION_RESOURCES_TEARDOWN"] {
            browser
                .until(
                    &format!("{kind} of {id} done"),
                    &format!("{} === 'done'", task_status(id, kind)),
                )
                .await;
        }
    }
    browser
        .until(
            "the ignored uninstall overdue",
            &format!(
                "{} === 'overdue'",
                task_status(&stubborn, "AGENT_UNINSTALL")
            ),
        )
        .await;
    let highlighted = format!(
        "getComputedStyle(document.querySelector('#server-rows .row[data-id=\"{stubborn}\"] .task.overdue')).backgroundColor"
    );
    assert_ne!(
        browser.eval(&highlighted).await,
        "rgba(0, 0, 0, 0)",
        "the overdue task stands out"
    );
    browser
        .until(
            "the stubborn server's teardown done",
            &format!(
                "{} === 'done'",
                task_status(&stubborn, "REPLICATION_RESOURCES_TEARDOWN")
            ),
        )
        .await;

    // Filters: by state, by id, and attention only.
    browser.eval(&set_filter("filter-state", "NOT_READY")).await;
    browser
        .until(
            "none NOT_READY",
            "document.getElementById('server-shown').textContent === '0 shown'",
        )
        .await;
    browser.eval(&set_filter("filter-state", "")).await;
    browser.eval(&set_filter("filter-attention", "true")).await;
    browser
        .until(
            "only the overdue server",
            "document.getElementById('server-shown').textContent === '1 shown'",
        )
        .await;
    assert_eq!(unique_rows(&browser).await, vec![stubborn.clone()]);
    browser.eval(&set_filter("filter-attention", "false")).await;
    let prefix = ids[1][..8].to_owned();
    browser.eval(&set_filter("filter-id", &prefix)).await;
    // Every row shown matches the prefix (whatever the case), and the
    // server it was taken from is one of them.
    let filtered = format!(
        "(() => {{ const ids = {SERVER_ROW_IDS}; \
         return ids.includes('{}') && ids.every(id => id.toLowerCase().includes('{}')); }})()",
        ids[1],
        prefix.to_lowercase()
    );
    browser.until("the id filter", &filtered).await;
    browser.eval(&set_filter("filter-id", "")).await;
    browser
        .until(
            "every server again",
            "document.getElementById('server-shown').textContent === '5 shown'",
        )
        .await;
    browser.screenshot(&output_dir().join("wave.png")).await;

    // A click shows the server's history, from its registration on.
    browser
        .click(&format!("#server-rows .row[data-id=\"{stubborn}\"]"))
        .await;
    browser
        .until(
            "the history read",
            "document.getElementById('history-note').textContent.startsWith('complete')",
        )
        .await;
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

    // A dropped connection: the page resumes from its revision.
    let connects = browser
        .eval(&stat("connects"))
        .await
        .as_u64()
        .expect("connects");
    server.kill();
    browser
        .until(
            "the page offline",
            "document.getElementById('connection').dataset.state !== 'live'",
        )
        .await;
    server = TestServer::start_on(&socket, dir.path(), &SERVER_ARGS);
    let mut servers = server.servers().await;
    archive(&mut servers, &ids[1]).await;
    browser
        .until("the archival after the restart", &archived(&ids[1]))
        .await;
    assert!(browser.eval(&stat("connects")).await.as_u64() > Some(connects));
    assert!(browser.eval(&stat("resumes")).await.as_u64() >= Some(1));
    assert_eq!(
        browser.eval(&stat("snapshots")).await,
        1,
        "resumed, not listed again"
    );
    assert_eq!(unique_rows(&browser).await.len(), 5);

    // A drop long enough for the events it missed to be compacted: the
    // page lists again (OUT_OF_RANGE) and shows what it missed.
    browser
        .until(
            "the page live",
            "document.getElementById('connection').dataset.state === 'live'",
        )
        .await;
    let revision = browser
        .eval(&stat("revision"))
        .await
        .as_u64()
        .expect("revision");
    browser.block_urls(&["*WatchLifecycleEvents*"]).await;
    server.kill();
    browser
        .until(
            "the page offline",
            "document.getElementById('connection').dataset.state !== 'live'",
        )
        .await;
    let mut compacting = SERVER_ARGS.to_vec();
    compacting.extend([
        "--event-retention-count",
        "1",
        "--compaction-interval-ms",
        "20",
    ]);
    server = TestServer::start_on(&socket, dir.path(), &compacting);
    let mut servers = server.servers().await;
    archive(&mut servers, &ids[2]).await;
    archive(&mut servers, &ids[3]).await;
    eventually(DEADLINE, "the missed events compacted", || async {
        compacted(&server, revision + 1).await.then_some(())
    })
    .await;
    browser.block_urls(&[]).await;
    browser
        .until(
            "the page listed again",
            &format!("{} >= 1", stat("relists")),
        )
        .await;
    browser
        .until(
            "the missed archivals",
            &format!("{} && {}", archived(&ids[2]), archived(&ids[3])),
        )
        .await;
    assert_eq!(browser.eval(&stat("snapshots")).await, 2);
    assert_eq!(unique_rows(&browser).await.len(), 5);
    assert_eq!(browser.eval(&count("server-counts", "CUTOVER")).await, 5);
    browser.close().await;
    drop(agents);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_asks_for_a_bearer_token_when_the_service_authenticates() {
    let tokens = TokensFile::new(&[("wave-room-token", "111122223333")]);
    let server = TestServer::start(&["--tokens-file", tokens.path(), "--sim-speed", "600"]);
    server
        .accounts()
        .await
        .initialize_service(bearer(Default::default(), "wave-room-token"))
        .await
        .expect("InitializeService");
    let mut servers = server.servers().await;
    let id = servers
        .register_source_server(bearer(Default::default(), "wave-room-token"))
        .await
        .expect("register")
        .into_inner()
        .source_server_id;

    let browser = Browser::start(1200, 800).await;
    browser.open(&format!("{}/", server.endpoint)).await;
    browser
        .until(
            "the token prompt",
            "!document.getElementById('token-form').hidden",
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('connection').dataset.state")
            .await,
        "auth"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('server-total').textContent")
            .await,
        ""
    );

    browser.type_into("#token-input", "not-a-token").await;
    browser.click("#token-form button[type=submit]").await;
    browser
        .until(
            "the prompt again after a wrong token",
            "!document.getElementById('token-form').hidden",
        )
        .await;

    browser
        .eval("(() => { document.getElementById('token-input').value = ''; return true; })()")
        .await;
    browser.type_into("#token-input", "wave-room-token").await;
    browser.click("#token-form button[type=submit]").await;
    browser
        .until(
            "the account's server",
            &format!("document.querySelector('#server-rows .row[data-id=\"{id}\"]') !== null"),
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('connection').dataset.state")
            .await,
        "live"
    );
    browser.close().await;
}
