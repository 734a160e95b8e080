//! The page against a service that authenticates: it asks for a bearer
//! token, asks again after a wrong one, and shows the account's wave with
//! the right one.

use crate::{browser::Browser, support::*};

const TOKEN: &str = "wave-room-token";

#[tokio::test(flavor = "multi_thread")]
async fn the_page_asks_for_a_bearer_token_when_the_service_authenticates() {
    let tokens = TokensFile::new(&[(TOKEN, "111122223333")]);
    let server = TestServer::start(&["--tokens-file", tokens.path(), "--sim-speed", "600"]);
    server
        .accounts()
        .await
        .initialize_service(bearer(Default::default(), TOKEN))
        .await
        .expect("InitializeService");
    let id = server
        .servers()
        .await
        .register_source_server(bearer(Default::default(), TOKEN))
        .await
        .expect("register")
        .into_inner()
        .source_server_id;

    let browser = Browser::start(1200, 800).await;
    browser.open(&format!("{}/", server.endpoint)).await;
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
    browser.close().await;
}
