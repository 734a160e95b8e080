//! A real headless Chromium, driven over WebDriver by `chromedriver`
//! (Debian's `chromium` and `chromium-driver`, which `scripts/test`
//! installs).

use std::{
    net::TcpListener,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{wd::WebDriverCompatibleCommand, Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// How long the page may take to show what a test waits for.
const DEADLINE: Duration = Duration::from_secs(60);

/// A browser session; the driver process dies with it.
pub(crate) struct Browser {
    client: Client,
    driver: Child,
    // Chromium's profile and temporary files: removed with the browser,
    // even when it was killed rather than closed.
    _temp: tempfile::TempDir,
}

/// A Chrome DevTools Protocol command, through chromedriver's
/// `goog/cdp/execute` extension.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

fn executable(variable: &str, name: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| name.to_owned())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a `width`×`height`
    /// window.
    pub(crate) async fn start(width: u32, height: u32) -> Browser {
        Browser::start_with(width, height, &[]).await
    }

    /// [`Browser::start`] with more Chromium arguments.
    pub(crate) async fn start_with(width: u32, height: u32, args: &[&str]) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let chromedriver = executable("CHROMEDRIVER", "chromedriver");
        // Its own process group, so that dropping the session kills the
        // browser too (chromedriver's children outlive a killed driver).
        let temp = tempfile::TempDir::new().expect("browser temp dir");
        let driver = Command::new(&chromedriver)
            .process_group(0)
            .env("TMPDIR", temp.path())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run `{chromedriver}` ({err}): run `scripts/test`, which installs \
                     Debian's chromium and chromium-driver, instead of a bare `cargo test`"
                )
            });
        let window = format!("--window-size={width},{height}");
        let mut chromium_args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            &window,
        ];
        chromium_args.extend_from_slice(args);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": executable("CHROMIUM", "/usr/bin/chromium"),
                "args": chromium_args,
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let mut builder = ClientBuilder::new(HttpConnector::new());
            match builder
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // chromedriver is still starting.
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("no WebDriver session from {chromedriver}: {err}"),
            }
        };
        Browser {
            client,
            driver,
            _temp: temp,
        }
    }

    /// Loads `url`.
    pub(crate) async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("load the page");
    }

    /// The value of the JavaScript expression `expression`.
    pub(crate) async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|err| panic!("evaluating {expression}: {err}"))
    }

    /// Polls `expression` until it is truthy (not false, null, 0 or "");
    /// returns it. Fails after the deadline with what the page shows.
    pub(crate) async fn until(&self, what: &str, expression: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(expression).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > DEADLINE {
                let status = self
                    .eval("document.getElementById('connection').textContent")
                    .await;
                panic!(
                    "the page never showed {what} ({expression} = {value}); connection: {status}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element `selector` matches (found again if the page
    /// redrew it between finding and clicking).
    pub(crate) async fn click(&self, selector: &str) {
        let mut last_error = None;
        for _ in 0..5 {
            let clicked = match self.client.find(fantoccini::Locator::Css(selector)).await {
                Ok(element) => element.click().await,
                Err(err) => Err(err),
            };
            match clicked {
                Ok(()) => return,
                Err(err) => last_error = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {selector}: {last_error:?}");
    }

    /// Types `text` into the input `selector` matches.
    pub(crate) async fn type_into(&self, selector: &str, text: &str) {
        self.client
            .find(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|err| panic!("no {selector}: {err}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("typing into {selector}: {err}"));
    }

    /// Makes every request whose URL matches one of `patterns` fail, as
    /// a dropped network would (an empty list lets everything through).
    pub(crate) async fn block_urls(&self, patterns: &[&str]) {
        for (command, params) in [
            ("Network.enable", json!({})),
            ("Network.setBlockedURLs", json!({ "urls": patterns })),
        ] {
            self.client
                .issue_cmd(DevTools { command, params })
                .await
                .unwrap_or_else(|err| panic!("{command}: {err}"));
        }
    }

    /// Saves a PNG of the window to `path`.
    pub(crate) async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot directory");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Ends the session; dropping the browser then ends the processes.
    pub(crate) async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Kills chromedriver and the browser it started (its process group),
    /// also when a test fails half-way.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
