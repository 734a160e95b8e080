//! Arbitrary HTTP requests (see `cutover_fuzz::http_input`) into the
//! Alibaba Cloud SMC endpoint: through the real axum router over the real
//! control plane (any well-formed ACS3 or HMAC-SHA1 signature acts as the
//! built-in account, the clock stands at the corpus's signing time), and
//! straight into both verifiers with a known key and the input's
//! `x-fuzz-now`, so that the strings to sign are computed too. Every
//! answer is an SMC answer: never a 5xx, a JSON body with `RequestId`, and
//! an error names its `Code`. Job ids the service returns are remembered
//! for later inputs (`#N`).

#![no_main]

use std::sync::OnceLock;

use cutover::api::{
    native::{
        signature::{acs3, hmac_sha1, query_pairs},
        Signers,
    },
    Protocol,
};
use cutover_fuzz::{
    http_input::{check_signature, keys, send, HttpInput},
    next_world, Known,
};
use libfuzzer_sys::fuzz_target;

/// The secret of the SDK-signed requests in the SMC signature tests.
const SECRET: &str = "secret-example";

fuzz_target!(|data: &[u8]| {
    let world = next_world();
    let Some(input) = HttpInput::parse(&world, data) else {
        return;
    };
    static KEYS: OnceLock<Signers> = OnceLock::new();
    let keys = KEYS.get_or_init(|| keys(SECRET));
    let signed = input.signed();
    check_signature(acs3::verify(keys, &signed, input.now));
    // The parameters as the endpoint merges them: the query's, then a
    // form body's.
    let mut params = query_pairs(signed.query);
    let form = signed
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(
            form_urlencoded::parse(&input.body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }
    check_signature(hmac_sha1::verify(keys, &signed, &params, input.now));
    let answer = send(&world, Protocol::Smc, &input);
    let body = answer
        .body
        .unwrap_or_else(|| panic!("SMC answered without a body to {input:?}"));
    assert!(
        body.get("RequestId").is_some_and(|id| id.is_string()),
        "no RequestId in {body} for {input:?}"
    );
    if !answer.status.is_success() {
        assert!(
            body.get("Code").is_some_and(|code| code.is_string()),
            "an error without a Code: {body} for {input:?}"
        );
    }
    if let Some(job) = body.get("JobId").and_then(|id| id.as_str()) {
        world.created();
        Known::remember(&mut world.known().jobs, job.to_owned());
    }
});
