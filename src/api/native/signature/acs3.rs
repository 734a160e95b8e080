//! Alibaba Cloud's ACS3-HMAC-SHA256 (signature V3), as the current SMC SDK
//! (`alibabacloud-smc20190601` on tea-openapi) signs: `Authorization:
//! ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=...,Signature=HEX` with
//! `x-acs-date` and `x-acs-content-sha256`, the business parameters in the
//! query string.

use hmac::Hmac;
use sha2::{Digest, Sha256};

use super::{
    authenticate, authorization_parts, check_mac, check_skew, parse_rfc3339, SignatureError,
    SignedRequest,
};
use crate::{api::native::access_keys::Signers, control_plane::Caller, domain::Timestamp};

/// The algorithm's name, the `Authorization` scheme.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The parts of an ACS3 `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn malformed(why: &str) -> SignatureError {
    SignatureError::Malformed(why.to_owned())
}

fn parse(header: &str) -> Result<Authorization<'_>, SignatureError> {
    let [access_key_id, signed, signature] = authorization_parts(header, ALGORITHM)?;
    let signed_headers: Vec<&str> = signed.split(';').collect();
    if access_key_id.is_empty() || signed_headers.iter().any(|h| h.is_empty()) {
        return Err(malformed(
            "Credential, SignedHeaders or Signature is malformed",
        ));
    }
    Ok(Authorization {
        access_key_id,
        signed_headers,
        signature,
    })
}

/// True when the request carries an ACS3 `Authorization` header.
pub fn is_signed(request: &SignedRequest<'_>) -> bool {
    request
        .header("authorization")
        .is_some_and(|value| value.starts_with(ALGORITHM))
}

/// The caller an ACS3-signed request authenticates.
pub fn verify(
    signers: &Signers,
    request: &SignedRequest<'_>,
    now: Timestamp,
) -> Result<Caller, SignatureError> {
    let auth = parse(
        request
            .header("authorization")
            .ok_or(SignatureError::Missing)?,
    )?;
    let date = request
        .header("x-acs-date")
        .ok_or_else(|| malformed("x-acs-date is required"))?;
    let signed_at = parse_rfc3339(date).ok_or_else(|| {
        SignatureError::Expired(format!("x-acs-date {date:?} is not yyyy-MM-ddTHH:mm:ssZ"))
    })?;
    check_skew(signed_at, now, date)?;
    let payload = request
        .header("x-acs-content-sha256")
        .ok_or_else(|| malformed("x-acs-content-sha256 is required"))?;
    let body_hash = hex::encode(Sha256::digest(request.body));
    if !payload.eq_ignore_ascii_case(&body_hash) {
        return Err(SignatureError::Malformed(format!(
            "x-acs-content-sha256 is not the body's SHA-256 ({body_hash})"
        )));
    }
    authenticate(signers, auth.access_key_id, |secret| {
        signature_matches(&auth, request, payload, secret)
    })
}

fn signature_matches(
    auth: &Authorization<'_>,
    request: &SignedRequest<'_>,
    payload: &str,
    secret: &str,
) -> Result<(), String> {
    let path = match request.path {
        "" => "/",
        path => path,
    };
    let canonical_request =
        request.canonical_request(path, &auth.signed_headers, false, payload)?;
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    check_mac::<Hmac<Sha256>>(
        secret.as_bytes(),
        string_to_sign,
        hex::decode(auth.signature).ok(),
    )
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::{api::native::access_keys::AccessKey, domain::AccountId};

    /// What the SDK's own `get_authorization` gave for this request.
    const AUTHORIZATION: &str = "ACS3-HMAC-SHA256 Credential=AKIDEXAMPLE,SignedHeaders=host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=503888523bf88d5b659cf5c705a6039dbd1df192b37268e4ce492b215f02cd71";
    const QUERY: &str = "JobId=j-0123456789abcdefghij&SyncData=True&RegionId=cn-hangzhou";
    /// The string the SDK signed for it.
    const STRING_TO_SIGN: &str =
        "ACS3-HMAC-SHA256\n85951814f5e99586945563fb3563fe779766e6b8ae4e051015d687cf1275681f";
    /// 2026-11-30T00:01:15Z.
    const SIGNED_AT: Timestamp = Timestamp(1_795_996_875_000);

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "127.0.0.1:8080"),
            ("x-acs-action", "CutOverReplicationJob"),
            ("x-acs-version", "2019-06-01"),
            ("x-acs-date", "2026-11-30T00:01:15Z"),
            ("x-acs-signature-nonce", "abc123"),
            (
                "x-acs-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            ("user-agent", "AlibabaCloud (Linux) Python/3.11"),
            ("authorization", AUTHORIZATION),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers
    }

    fn signers(secret: &str) -> Signers {
        let key = AccessKey {
            secret: secret.to_owned(),
            caller: Caller {
                account_id: AccountId::parse("account", "111122223333").expect("account"),
            },
        };
        Signers::Keys([("AKIDEXAMPLE".to_owned(), key)].into_iter().collect())
    }

    fn request<'a>(headers: &'a HeaderMap, query: &'a str) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    #[test]
    fn accepts_what_the_sdk_signed_and_nothing_else() {
        let headers = headers();
        let caller = verify(
            &signers("secret-example"),
            &request(&headers, QUERY),
            SIGNED_AT,
        )
        .expect("valid");
        assert_eq!(caller.account_id.as_str(), "111122223333");
        assert_eq!(
            verify(&signers("other"), &request(&headers, QUERY), SIGNED_AT).map(|_| ()),
            Err(SignatureError::Mismatch(STRING_TO_SIGN.into()))
        );
        let tampered = QUERY.replace("True", "False");
        assert!(matches!(
            verify(&signers("secret-example"), &request(&headers, &tampered), SIGNED_AT),
            Err(SignatureError::Mismatch(other)) if other != STRING_TO_SIGN
        ));
        let late = SIGNED_AT.plus(crate::domain::Millis::minutes(20));
        assert!(matches!(
            verify(&signers("secret-example"), &request(&headers, QUERY), late),
            Err(SignatureError::Expired(_))
        ));
    }
}
