//! AWS Signature Version 4, as MGN's SDKs sign (`Authorization:
//! AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/mgn/aws4_request,
//! SignedHeaders=..., Signature=...` with `X-Amz-Date`). Neither boto3 nor
//! the Rust SDK sends `x-amz-content-sha256`, so the body is hashed here.
//! The region is the one the client signed with: a client pointed at this
//! endpoint need not know the deployment's ARN region.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{
    authenticate, authorization_parts, check_mac, check_skew, parse_rfc3339, rfc3986,
    SignatureError, SignedRequest,
};
use crate::{api::native::access_keys::Signers, control_plane::Caller, domain::Timestamp};

/// The one algorithm SigV4 names.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    /// `DATE/REGION/SERVICE/aws4_request`.
    scope: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn malformed(why: &str) -> SignatureError {
    SignatureError::Malformed(why.to_owned())
}

fn parse(header: &str) -> Result<Authorization<'_>, SignatureError> {
    let [credential, signed, signature] = authorization_parts(header, ALGORITHM)?;
    let (access_key_id, scope) = credential
        .split_once('/')
        .ok_or_else(|| malformed("Credential must be AKID/DATE/REGION/SERVICE/aws4_request"))?;
    let parts: Vec<&str> = scope.split('/').collect();
    let [date, _region, service, "aws4_request"] = parts.as_slice() else {
        return Err(malformed(
            "Credential must be AKID/DATE/REGION/SERVICE/aws4_request",
        ));
    };
    let signed_headers: Vec<&str> = signed.split(';').collect();
    let lowercase_sorted = signed_headers.windows(2).all(|w| w[0] < w[1])
        && signed_headers
            .iter()
            .all(|h| !h.is_empty() && !h.bytes().any(|b| b.is_ascii_uppercase()));
    if !lowercase_sorted || !signed_headers.contains(&"host") {
        return Err(malformed(
            "SignedHeaders must be sorted lowercase names and include host",
        ));
    }
    if access_key_id.is_empty() {
        return Err(malformed("Credential names no access key"));
    }
    Ok(Authorization {
        access_key_id,
        scope,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// `20261129T235800Z` as an instant.
fn parse_amz_date(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let extended = format!(
        "{}-{}-{}T{}:{}:{}Z",
        text.get(0..4)?,
        text.get(4..6)?,
        text.get(6..8)?,
        text.get(9..11)?,
        text.get(11..13)?,
        text.get(13..15)?
    );
    parse_rfc3339(&extended)
}

/// One step of SigV4's key derivation; HMAC takes keys of any length, so
/// the empty fallback is never used.
fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The path as SigV4 canonicalises it for every service but S3: the path
/// as sent, encoded once more.
fn canonical_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(rfc3986).collect::<Vec<_>>().join("/")
}

/// The caller a SigV4-signed request of `service` authenticates.
pub fn verify(
    signers: &Signers,
    request: &SignedRequest<'_>,
    service: &str,
    now: Timestamp,
) -> Result<Caller, SignatureError> {
    let header = request
        .header("authorization")
        .ok_or(SignatureError::Missing)?;
    let auth = parse(header)?;
    if auth.service != service {
        return Err(SignatureError::Malformed(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    let amz_date = request
        .header("x-amz-date")
        .ok_or_else(|| malformed("X-Amz-Date is required"))?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        SignatureError::Expired(format!("X-Amz-Date {amz_date:?} is not YYYYMMDDTHHMMSSZ"))
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(malformed(
            "Credential should be scoped to the date of X-Amz-Date",
        ));
    }
    check_skew(signed_at, now, amz_date)?;
    authenticate(signers, auth.access_key_id, |secret| {
        signature_matches(&auth, request, amz_date, secret)
    })
}

fn signature_matches(
    auth: &Authorization<'_>,
    request: &SignedRequest<'_>,
    amz_date: &str,
    secret: &str,
) -> Result<(), String> {
    let canonical_request = request.canonical_request(
        &canonical_path(request.path),
        &auth.signed_headers,
        true,
        &hex::encode(Sha256::digest(request.body)),
    )?;
    let string_to_sign = [
        ALGORITHM,
        amz_date,
        auth.scope,
        &hex::encode(Sha256::digest(canonical_request.as_bytes())),
    ]
    .join("\n");
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in auth.scope.split('/') {
        key = hmac(&key, part.as_bytes());
    }
    check_mac::<Hmac<Sha256>>(&key, string_to_sign, hex::decode(auth.signature).ok())
}

#[cfg(test)]
mod tests;
