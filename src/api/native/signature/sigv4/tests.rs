//! A request botocore signed, verified and then tampered with.

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::{api::native::access_keys::AccessKey, domain::AccountId};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BODY: &[u8] = br#"{"sourceServerID": "s-1234567890abcdefg"}"#;
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/mgn/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5695a95844db92e6562e3545f633583ec0569edc2e8e1213b79b3605583a82fd";
/// 2026-11-30T00:01:15Z, the signing time.
const SIGNED_AT: Timestamp = Timestamp(1_795_996_875_000);

fn headers(authorization: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    headers.insert("x-amz-date", HeaderValue::from_static("20261130T000115Z"));
    headers.insert(
        "authorization",
        HeaderValue::from_str(authorization).expect("header"),
    );
    headers
}

fn signers(secret: &str) -> Signers {
    let caller = Caller {
        account_id: AccountId::parse("account", "111122223333").expect("account"),
    };
    let key = AccessKey {
        secret: secret.to_owned(),
        caller,
    };
    Signers::Keys([("AKIDEXAMPLE".to_owned(), key)].into_iter().collect())
}

fn request<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> SignedRequest<'a> {
    SignedRequest {
        method: "POST",
        path: "/FinalizeCutover",
        query: "",
        headers,
        body,
    }
}

#[test]
fn accepts_what_botocore_signed() {
    let headers = headers(AUTHORIZATION);
    let caller = verify(&signers(SECRET), &request(&headers, BODY), "mgn", SIGNED_AT)
        .expect("valid signature");
    assert_eq!(caller.account_id.as_str(), "111122223333");
}

#[test]
fn refuses_another_secret_body_service_or_time() {
    let headers = headers(AUTHORIZATION);
    let request = request(&headers, BODY);
    assert!(matches!(
        verify(&signers("other"), &request, "mgn", SIGNED_AT),
        Err(SignatureError::Mismatch(signed)) if signed.starts_with("AWS4-HMAC-SHA256\n20261130T000115Z\n")
    ));
    let tampered = SignedRequest {
        body: b"{}",
        ..request
    };
    assert!(matches!(
        verify(&signers(SECRET), &tampered, "mgn", SIGNED_AT),
        Err(SignatureError::Mismatch(_))
    ));
    assert!(matches!(
        verify(&signers(SECRET), &request, "ec2", SIGNED_AT),
        Err(SignatureError::Malformed(_))
    ));
    let late = SIGNED_AT.plus(crate::domain::Millis::minutes(16));
    assert!(matches!(
        verify(&signers(SECRET), &request, "mgn", late),
        Err(SignatureError::Expired(_))
    ));
}

#[test]
fn names_unknown_keys_and_unsigned_or_malformed_requests() {
    let unknown = AUTHORIZATION.replace("AKIDEXAMPLE", "AKIDOTHER");
    let headers_unknown = headers(&unknown);
    assert_eq!(
        verify(
            &signers(SECRET),
            &request(&headers_unknown, BODY),
            "mgn",
            SIGNED_AT
        ),
        Err(SignatureError::UnknownKey("AKIDOTHER".into()))
    );
    let mut unsigned = headers(AUTHORIZATION);
    unsigned.remove("authorization");
    assert_eq!(
        verify(
            &signers(SECRET),
            &request(&unsigned, BODY),
            "mgn",
            SIGNED_AT
        ),
        Err(SignatureError::Missing)
    );
    for bad in [
        "Bearer token",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/mgn/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/mgn/aws4_request, SignedHeaders=x-amz-date;host, Signature=5695a95844db92e6562e3545f633583ec0569edc2e8e1213b79b3605583a82fd",
    ] {
        let headers = headers(bad);
        assert!(
            matches!(
                verify(&signers(SECRET), &request(&headers, BODY), "mgn", SIGNED_AT),
                Err(SignatureError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn without_keys_any_well_formed_signature_is_the_built_in_account() {
    let built_in = Caller {
        account_id: AccountId::parse("account", "000000000000").expect("account"),
    };
    let headers = headers(&AUTHORIZATION.replace("5695a958", "00000000"));
    let caller = verify(
        &Signers::BuiltIn(built_in.clone()),
        &request(&headers, b"anything"),
        "mgn",
        SIGNED_AT,
    )
    .expect("accepted");
    assert_eq!(caller, built_in);
}
