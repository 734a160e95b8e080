//! The page against a service deployed as it would be beyond loopback:
//! TLS and bearer tokens. Over TLS the browser speaks HTTP/2; the page asks
//! for a token, asks again after a wrong one, and shows the account's wave
//! with the right one.

use cutover::pb::v1::{
    account_service_client::AccountServiceClient,
    source_server_service_client::SourceServerServiceClient,
};

use cutover_testkit::*;

use super::browser::Browser;

const TOKEN: &str = "wave-room-token";

#[tokio::test(flavor = "multi_thread")]
async fn over_tls_the_page_asks_for_a_bearer_token_and_sends_it() {
    let tokens = TokensFile::new(&[(TOKEN, "111122223333")]);
    let pki = Pki::new();
    let server = pki.server(false, &["--tokens-file", tokens.path()]);
    let channel = pki.channel(&server, None).await.expect("TLS channel");
    AccountServiceClient::new(channel.clone())
        .initialize_service(bearer(Default::default(), TOKEN))
        .await
        .expect("InitializeService");
    let id = SourceServerServiceClient::new(channel)
        .register_source_server(bearer(Default::default(), TOKEN))
        .await
        .expect("register")
        .into_inner()
        .source_server_id;

    // The test's CA is not the browser's: trust is what this test skips,
    // not what it checks.
    let browser = Browser::start_with(1200, 800, &["--ignore-certificate-errors"]).await;
    let port = server.addr.rsplit(':').next().expect("port");
    browser.open(&format!("https://localhost:{port}/")).await;
    let prompt = "!document.getElementById('token-form').hidden";
    browser.until("the token prompt", prompt).await;
    let state = "document.getElementById('connection').dataset.state";
    assert_eq!(browser.eval(state).await, "auth");
    let total = "document.getElementById('server-total').textContent";
    assert_eq!(
        browser.eval(total).await,
        "",
        "nothing shown without a token"
    );

    browser.type_into("#token-input", "not-a-token").await;
    browser.click("#token-form button[type=submit]").await;
    browser
        .until("the prompt after a wrong token", prompt)
        .await;

    browser
        .eval("(() => { document.getElementById('token-input').value = ''; return true; })()")
        .await;
    browser.type_into("#token-input", TOKEN).await;
    browser.click("#token-form button[type=submit]").await;
    let row = format!("document.querySelector('#server-rows .row[data-id=\"{id}\"]') !== null");
    browser.until("the account's server", &row).await;
    assert_eq!(browser.eval(state).await, "live");
    let protocol = "performance.getEntriesByType('navigation')[0].nextHopProtocol";
    assert_eq!(browser.eval(protocol).await, "h2");
    browser.close().await;
}
