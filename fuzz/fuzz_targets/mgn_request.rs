//! Arbitrary HTTP requests (see `cutover_fuzz::http_input`) into the AWS
//! MGN endpoint: through the real axum router over the real control plane
//! (any well-formed SigV4 signature acts as the built-in account, the
//! clock stands at the corpus's signing time), and straight into the SigV4
//! verifier with a known key and the input's `x-fuzz-now`, so that the
//! canonical request is computed too. Every answer is an MGN answer: never
//! a 5xx, JSON when there is a body, with `x-amzn-RequestId`, and an
//! error names its type in `x-amzn-ErrorType`.

#![no_main]

use std::sync::OnceLock;

use cutover::api::{
    native::{signature::sigv4, Signers},
    Protocol,
};
use cutover_fuzz::{
    http_input::{check_signature, keys, send, HttpInput},
    next_world,
};
use libfuzzer_sys::fuzz_target;

/// The secret of the botocore-signed request in the SigV4 tests.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fuzz_target!(|data: &[u8]| {
    let world = next_world();
    let Some(input) = HttpInput::parse(&world, data) else {
        return;
    };
    static KEYS: OnceLock<Signers> = OnceLock::new();
    let keys = KEYS.get_or_init(|| keys(SECRET));
    check_signature(sigv4::verify(keys, &input.signed(), "mgn", input.now));
    let answer = send(&world, Protocol::Mgn, &input);
    assert!(
        answer.headers.contains_key("x-amzn-requestid"),
        "no x-amzn-RequestId for {input:?}"
    );
    if answer.status.is_client_error() {
        assert!(
            answer.headers.contains_key("x-amzn-errortype"),
            "an error without x-amzn-ErrorType for {input:?}"
        );
    }
});
