//! Request signatures of the clouds' native protocols: AWS Signature
//! Version 4 ([`sigv4`]) for MGN, Alibaba's ACS3-HMAC-SHA256 ([`acs3`])
//! and HMAC-SHA1 signature version 1.0 ([`hmac_sha1`]) for SMC. Each
//! verifies a request against the secret of the key it names, and the
//! time it was signed against the clock (±15 minutes, as the clouds
//! allow).

pub mod acs3;
pub mod hmac_sha1;
pub mod sigv4;

use http::HeaderMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::access_keys::Signers;
use crate::{
    control_plane::Caller,
    domain::{Millis, Timestamp},
};

/// How far a signature's time may be from the server's clock.
pub const MAX_CLOCK_SKEW: Millis = Millis::minutes(15);

/// RFC 3986's unreserved characters stay; everything else is escaped, as
/// both clouds' canonical forms require.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` percent-encoded per RFC 3986 (uppercase hex, spaces as `%20`).
pub fn rfc3986(text: &str) -> String {
    utf8_percent_encode(text, RFC3986).to_string()
}

/// A request as it arrived, before anything of it is trusted.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method, such as `POST`.
    pub method: &'a str,
    /// The path, as sent (still percent-encoded).
    pub path: &'a str,
    /// The query string, as sent, without `?`.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    /// The value of header `name`, when it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The canonical headers of `signed` (lowercase names): one
    /// `name:value\n` each, several values of one name joined by `,`,
    /// values trimmed with inner runs of spaces folded (SigV4) or kept
    /// (`fold_spaces` false, ACS3 sorts them instead).
    fn canonical_headers(&self, signed: &[&str], fold_spaces: bool) -> Option<String> {
        let mut out = String::new();
        for name in signed {
            let mut values: Vec<String> = Vec::new();
            for value in self.headers.get_all(*name) {
                let value = value.to_str().ok()?.trim();
                values.push(match fold_spaces {
                    true => value.split_whitespace().collect::<Vec<_>>().join(" "),
                    false => value.to_owned(),
                });
            }
            if values.is_empty() {
                return None;
            }
            if !fold_spaces {
                values.sort();
            }
            out.push_str(name);
            out.push(':');
            out.push_str(&values.join(","));
            out.push('\n');
        }
        Some(out)
    }
}

impl SignedRequest<'_> {
    /// The canonical request both clouds hash: method, `path` as the
    /// protocol canonicalises it, the sorted RFC 3986 query, the signed
    /// headers (see [`SignedRequest::canonical_headers`]), their names, and
    /// `payload` (the body's hash); an error when a signed header is
    /// missing.
    fn canonical_request(
        &self,
        path: &str,
        signed: &[&str],
        fold_spaces: bool,
        payload: &str,
    ) -> Result<String, String> {
        let headers = self
            .canonical_headers(signed, fold_spaces)
            .ok_or_else(|| "a signed header is missing".to_owned())?;
        let params = query_pairs(self.query);
        let query = canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok([
            self.method,
            path,
            &query,
            &headers,
            &signed.join(";"),
            payload,
        ]
        .join("\n"))
    }
}

/// Why a request's signature was not accepted; each protocol answers
/// these in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The request carries no signature at all.
    Missing,
    /// A signature is there but not in the protocol's form.
    Malformed(String),
    /// The access key is not in the keys file.
    UnknownKey(String),
    /// The signing time is too far from now (or unreadable).
    Expired(String),
    /// The signature is not the one the secret gives; with the string the
    /// server signed, which Alibaba's SDKs compare with their own to tell
    /// a wrong secret from a wrong canonicalisation.
    Mismatch(String),
}

/// Checks that `signed_at` is within [`MAX_CLOCK_SKEW`] of `now`.
fn check_skew(signed_at: Timestamp, now: Timestamp, shown: &str) -> Result<(), SignatureError> {
    let skew = (signed_at.0 - now.0).abs();
    if skew > MAX_CLOCK_SKEW.0 {
        return Err(SignatureError::Expired(format!(
            "the request was signed at {shown}, more than 15 minutes from the server's time"
        )));
    }
    Ok(())
}

/// `text` in RFC 3339 (`2026-11-29T23:58:00Z`) as an instant.
fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let parsed: prost_types::Timestamp = text.parse().ok()?;
    let millis = parsed
        .seconds
        .checked_mul(1000)?
        .checked_add(i64::from(parsed.nanos / 1_000_000))?;
    Some(Timestamp(millis))
}

/// The caller `access_key_id` signs for, once `verify` confirms the
/// signature with its secret (or gives the string it signed). Without a
/// keys file every well-formed signature is the built-in account's,
/// whatever key signed it.
fn authenticate(
    signers: &Signers,
    access_key_id: &str,
    verify: impl FnOnce(&str) -> Result<(), String>,
) -> Result<Caller, SignatureError> {
    match signers {
        Signers::BuiltIn(caller) => Ok(caller.clone()),
        Signers::Keys(keys) => {
            let key = keys
                .get(access_key_id)
                .ok_or_else(|| SignatureError::UnknownKey(access_key_id.to_owned()))?;
            verify(&key.secret).map_err(SignatureError::Mismatch)?;
            Ok(key.caller.clone())
        }
    }
}

/// The `Credential`, `SignedHeaders` and `Signature` of an
/// `Authorization: ALGORITHM Credential=...,SignedHeaders=...,Signature=...`
/// header (SigV4 puts a space after each comma, ACS3 none).
fn authorization_parts<'a>(
    header: &'a str,
    algorithm: &str,
) -> Result<[&'a str; 3], SignatureError> {
    let malformed = |why: &str| SignatureError::Malformed(why.to_owned());
    let rest = header
        .strip_prefix(algorithm)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or_else(|| malformed(&format!("Authorization must start with {algorithm}")))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => return Err(malformed("Authorization has an unknown part")),
        }
    }
    match (credential, signed, signature) {
        (Some(credential), Some(signed), Some(signature)) if signature.len() == 64 => {
            Ok([credential, signed, signature])
        }
        _ => Err(malformed(
            "Authorization needs Credential, SignedHeaders and a 64-digit Signature",
        )),
    }
}

/// Checks that `given` is the HMAC of `string_to_sign` under `key`;
/// otherwise gives the string back, for the error.
fn check_mac<M: hmac::Mac + hmac::digest::KeyInit>(
    key: &[u8],
    string_to_sign: String,
    given: Option<Vec<u8>>,
) -> Result<(), String> {
    let Some(given) = given else {
        return Err(string_to_sign);
    };
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).map_err(|_| string_to_sign.clone())?;
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&given).map_err(|_| string_to_sign)
}

/// The query's parameters, decoded (`+` is a space, as form encoding
/// says), in the order sent.
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `params` in canonical order (by name, then value), each `name=value`
/// with both RFC 3986-encoded, joined by `&`.
fn canonical_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .map(|(k, v)| (rfc3986(k), rfc3986(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_escapes_all_but_unreserved() {
        assert_eq!(rfc3986("a b+c/d~e_f.g-h*"), "a%20b%2Bc%2Fd~e_f.g-h%2A");
        assert_eq!(rfc3986("é"), "%C3%A9");
    }

    #[test]
    fn canonical_query_sorts_by_name_then_value() {
        assert_eq!(
            canonical_query([("b", "2"), ("a", "y z"), ("a", "x")]),
            "a=x&a=y%20z&b=2"
        );
    }

    #[test]
    fn skew_allows_fifteen_minutes_either_way() {
        let now = Timestamp(1_000_000_000);
        assert!(check_skew(now.plus(Millis::minutes(15)), now, "t").is_ok());
        assert!(check_skew(Timestamp(now.0 - 900_000), now, "t").is_ok());
        assert!(check_skew(now.plus(Millis(900_001)), now, "t").is_err());
        assert!(check_skew(Timestamp(now.0 - 900_001), now, "t").is_err());
    }

    #[test]
    fn rfc3339_parses_with_and_without_fraction() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01Z"), Some(Timestamp(1000)));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.5Z"),
            Some(Timestamp(1500))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
