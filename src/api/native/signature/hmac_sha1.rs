//! Alibaba Cloud's HMAC-SHA1 signature version 1.0, as the older SMC SDK
//! (`aliyun-python-sdk-smc`) and the current one with
//! `signature_algorithm="v2"` sign: `AccessKeyId`, `SignatureMethod`,
//! `SignatureNonce`, `Timestamp` and `Signature` are parameters beside the
//! business ones, in the query string or a form body.

use base64::Engine as _;
use hmac::Hmac;
use sha1::Sha1;

use super::{
    authenticate, canonical_query, check_mac, check_skew, parse_rfc3339, rfc3986, SignatureError,
    SignedRequest,
};
use crate::{api::native::access_keys::Signers, control_plane::Caller, domain::Timestamp};

/// The caller a request signed with parameters authenticates; `params` are
/// the query's and the form body's, merged.
pub fn verify(
    signers: &Signers,
    request: &SignedRequest<'_>,
    params: &[(String, String)],
    now: Timestamp,
) -> Result<Caller, SignatureError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let signature = param("Signature").ok_or(SignatureError::Missing)?;
    let access_key_id = param("AccessKeyId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| SignatureError::Malformed("AccessKeyId is mandatory".into()))?;
    if param("SignatureMethod").is_some_and(|m| m != "HMAC-SHA1")
        || param("SignatureVersion").is_some_and(|v| v != "1.0")
    {
        return Err(SignatureError::Malformed(
            "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0".into(),
        ));
    }
    let timestamp = param("Timestamp")
        .ok_or_else(|| SignatureError::Malformed("Timestamp is mandatory".into()))?;
    let signed_at = parse_rfc3339(timestamp).ok_or_else(|| {
        SignatureError::Expired(format!(
            "Timestamp {timestamp:?} is not yyyy-MM-ddTHH:mm:ssZ"
        ))
    })?;
    check_skew(signed_at, now, timestamp)?;
    authenticate(signers, access_key_id, |secret| {
        let canonical = canonical_query(
            params
                .iter()
                .filter(|(k, _)| k != "Signature")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let string_to_sign = format!("{}&%2F&{}", request.method, rfc3986(&canonical));
        check_mac::<Hmac<Sha1>>(
            format!("{secret}&").as_bytes(),
            string_to_sign,
            base64::engine::general_purpose::STANDARD
                .decode(signature)
                .ok(),
        )
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;
    use crate::{api::native::access_keys::AccessKey, domain::AccountId};

    /// 2026-11-30T00:01:15Z.
    const SIGNED_AT: Timestamp = Timestamp(1_795_996_875_000);

    fn params(signature: &str) -> Vec<(String, String)> {
        [
            ("Action", "CutOverReplicationJob"),
            ("Version", "2019-06-01"),
            ("Format", "JSON"),
            ("AccessKeyId", "AKIDEXAMPLE"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "n 1"),
            ("Timestamp", "2026-11-30T00:01:15Z"),
            ("JobId", "j-0123456789abcdefghij"),
            ("SyncData", "True"),
            ("Signature", signature),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn signers() -> Signers {
        let key = AccessKey {
            secret: "secret-example".into(),
            caller: Caller {
                account_id: AccountId::parse("account", "111122223333").expect("account"),
            },
        };
        Signers::Keys([("AKIDEXAMPLE".to_owned(), key)].into_iter().collect())
    }

    #[test]
    fn accepts_what_the_sdk_signed_and_nothing_else() {
        let headers = HeaderMap::new();
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        // What the SDK's own `get_rpcsignature` gave for these parameters.
        let good = params("V16vbi6qsQmhxDaVtKaBCzcWDi0=");
        assert!(verify(&signers(), &request, &good, SIGNED_AT).is_ok());
        let post = SignedRequest {
            method: "POST",
            ..request
        };
        assert!(matches!(
            verify(&signers(), &post, &good, SIGNED_AT),
            Err(SignatureError::Mismatch(signed)) if signed.starts_with("POST&%2F&AccessKeyId%3DAKIDEXAMPLE")
        ));
        assert!(matches!(
            verify(&signers(), &request, &params("AAAA"), SIGNED_AT),
            Err(SignatureError::Mismatch(signed)) if signed.starts_with("GET&%2F&")
        ));
        let late = SIGNED_AT.plus(crate::domain::Millis::minutes(16));
        assert!(matches!(
            verify(&signers(), &request, &good, late),
            Err(SignatureError::Expired(_))
        ));
        let unsigned: Vec<_> = good.into_iter().filter(|(k, _)| k != "Signature").collect();
        assert_eq!(
            verify(&signers(), &request, &unsigned, SIGNED_AT).map(|_| ()),
            Err(SignatureError::Missing)
        );
    }
}
