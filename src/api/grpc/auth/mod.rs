//! Who is calling. Without a tokens file or certificate identities every
//! call acts as one built-in, already-initialised account (the loopback
//! development default). Otherwise a caller presents a bearer token, which
//! maps to its account (the tokens file holds only SHA-256 digests of
//! tokens, one `HEX_DIGEST ACCOUNT_ID` per line), or, over mutual TLS, a
//! client certificate whose identity maps to its account
//! ([`CertificateIdentities`]). A bearer token, when sent, decides.
//!
//! The built-in simulator acts for every account: it gets a
//! random data-plane token, held only in memory, and names the account it
//! acts for in `x-cutover-account`.

mod certificates;

use std::{collections::HashMap, path::Path};

use cutover_proto::ACCOUNT_HEADER;
use sha2::{Digest, Sha256};
use tonic::{metadata::MetadataMap, transport::CertificateDer, Status};

pub use certificates::CertificateIdentities;

use crate::{
    control_plane::Caller,
    domain::{AccountId, DomainError},
};

/// The account every call acts as when authentication is off.
pub const BUILT_IN_ACCOUNT: &str = "000000000000";

/// Maps a request's credentials to its caller.
#[derive(Debug, Clone)]
pub struct Authenticator {
    accounts: Accounts,
    /// Digest of the data-plane token, when there is one.
    simulator: Option<String>,
}

#[derive(Debug, Clone)]
enum Accounts {
    /// Authentication off: everyone is the built-in account.
    BuiltIn(Caller),
    /// Bearer tokens, by the hex SHA-256 digest of the token, and client
    /// certificate identities.
    Credentials {
        tokens: HashMap<String, AccountId>,
        certificates: CertificateIdentities,
    },
}

impl Authenticator {
    /// Authentication off.
    pub fn disabled() -> Result<Self, DomainError> {
        let caller = Caller {
            account_id: AccountId::parse("account", BUILT_IN_ACCOUNT)?,
        };
        Ok(Authenticator {
            accounts: Accounts::BuiltIn(caller),
            simulator: None,
        })
    }

    /// Callers authenticated by the tokens in `tokens` and the client
    /// certificate identities in `certificates` (either may be absent).
    pub fn from_files(tokens: Option<&Path>, certificates: Option<&Path>) -> Result<Self, String> {
        let tokens = match tokens {
            Some(path) => Self::read_tokens(path)?,
            None => HashMap::new(),
        };
        let certificates = match certificates {
            Some(path) => CertificateIdentities::from_file(path)?,
            None => CertificateIdentities::default(),
        };
        Ok(Authenticator {
            accounts: Accounts::Credentials {
                tokens,
                certificates,
            },
            simulator: None,
        })
    }

    /// Tokens from `path`: lines of `HEX_SHA256_OF_TOKEN ACCOUNT_ID`;
    /// blank lines and `#` comments are skipped.
    fn read_tokens(path: &Path) -> Result<HashMap<String, AccountId>, String> {
        let mut tokens = HashMap::new();
        for entry in crate::api::listing_file::listing_entries(path)? {
            let at = || entry.at.clone();
            let mut parts = entry.text.split_whitespace();
            let (Some(digest), Some(account), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("{}: expected `SHA256_HEX ACCOUNT_ID`", at()));
            };
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{}: the digest must be 64 hex digits", at()));
            }
            let account =
                AccountId::parse("account", account).map_err(|e| format!("{}: {e}", at()))?;
            tokens.insert(digest.to_ascii_lowercase(), account);
        }
        Ok(tokens)
    }

    /// Also accepts `token` as the built-in simulator's, acting for the account
    /// each call names.
    pub fn with_simulator_token(self, token: &str) -> Self {
        Authenticator {
            simulator: Some(Self::digest(token)),
            ..self
        }
    }

    /// The built-in account, when authentication is off.
    pub fn built_in(&self) -> Option<&Caller> {
        match &self.accounts {
            Accounts::BuiltIn(caller) => Some(caller),
            Accounts::Credentials { .. } => None,
        }
    }

    /// The digest a tokens file lists for `token`.
    pub fn digest(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    /// The caller a request authenticates (by its metadata, or by the
    /// client certificate chain its connection presented), or
    /// UNAUTHENTICATED.
    pub fn caller(
        &self,
        metadata: &MetadataMap,
        certificates: Option<&[CertificateDer<'_>]>,
    ) -> Result<Caller, Status> {
        let (tokens, identities) = match &self.accounts {
            Accounts::BuiltIn(caller) => return Ok(caller.clone()),
            Accounts::Credentials {
                tokens,
                certificates,
            } => (tokens, certificates),
        };
        let Some(token) = bearer_token(metadata) else {
            return match certificates.map(|chain| identities.account(chain)) {
                Some(Ok(Some(account_id))) => Ok(Caller {
                    account_id: account_id.clone(),
                }),
                Some(Err(why)) => Err(Status::unauthenticated(why)),
                _ if identities.is_empty() => {
                    Err(Status::unauthenticated("a bearer token is required"))
                }
                _ => Err(Status::unauthenticated(
                    "a bearer token, or a client certificate whose identity maps to an account, is required",
                )),
            };
        };
        let digest = Self::digest(token);
        if self.simulator.as_ref() == Some(&digest) {
            let account = metadata
                .get(ACCOUNT_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| AccountId::parse(ACCOUNT_HEADER, value).ok())
                .ok_or_else(|| {
                    Status::unauthenticated(format!(
                        "the built-in simulator must name an account in {ACCOUNT_HEADER}"
                    ))
                })?;
            return Ok(Caller {
                account_id: account,
            });
        }
        tokens
            .get(&digest)
            .map(|account_id| Caller {
                account_id: account_id.clone(),
            })
            .ok_or_else(|| Status::unauthenticated("the bearer token is not valid"))
    }
}

/// The token of an `authorization: Bearer TOKEN` header; the scheme name
/// is case-insensitive (RFC 7235).
fn bearer_token(metadata: &MetadataMap) -> Option<&str> {
    let value = metadata.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|token| !token.is_empty())
}
