//! Client certificates as credentials: with mutual TLS, a verified client
//! certificate's identity (a subject alternative name, or the subject's
//! common name) maps to an account, so a deployment on mTLS needs no bearer
//! tokens and keeps tenants apart. The mapping file lists one identity per
//! line, `KIND:VALUE ACCOUNT_ID`, where KIND is `dns`, `uri`, `email` (SAN
//! entries) or `cn` (the subject's common name):
//!
//! ```text
//! uri:spiffe://migration.example/team-a   111122223333
//! dns:agents.team-b.example               444455556666
//! cn:Team C migration runner              777788889999
//! ```

use std::{collections::HashMap, path::Path};

use tonic::transport::CertificateDer;
use x509_parser::{extensions::GeneralName, prelude::parse_x509_certificate};

use crate::domain::AccountId;

/// Accounts by certificate identity.
#[derive(Debug, Clone, Default)]
pub struct CertificateIdentities(HashMap<String, AccountId>);

impl CertificateIdentities {
    /// Reads the mapping at `path`; blank lines and `#` comments are
    /// skipped.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let mut identities = HashMap::new();
        for entry in crate::api::listing_file::listing_entries(path)? {
            let at = || entry.at.clone();
            let (identity, account) = entry
                .text
                .rsplit_once(char::is_whitespace)
                .map(|(identity, account)| (identity.trim(), account))
                .ok_or_else(|| format!("{}: expected `KIND:VALUE ACCOUNT_ID`", at()))?;
            let known = ["dns:", "uri:", "email:", "cn:"];
            if !known.iter().any(|kind| identity.starts_with(kind)) {
                return Err(format!(
                    "{}: the identity must start with dns:, uri:, email: or cn:",
                    at()
                ));
            }
            let account =
                AccountId::parse("account", account).map_err(|e| format!("{}: {e}", at()))?;
            identities.insert(identity.to_owned(), account);
        }
        Ok(CertificateIdentities(identities))
    }

    /// True when no identity is mapped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The account the leaf certificate of `chain` maps to. `Err` when its
    /// identities map to different accounts: it must be unambiguous.
    pub fn account(&self, chain: &[CertificateDer<'_>]) -> Result<Option<&AccountId>, String> {
        let Some(leaf) = chain.first() else {
            return Ok(None);
        };
        let mut found: Option<&AccountId> = None;
        for identity in identities(leaf) {
            if let Some(account) = self.0.get(&identity) {
                match found {
                    Some(earlier) if earlier != account => {
                        return Err(
                            "the client certificate's identities map to different accounts"
                                .to_owned(),
                        )
                    }
                    _ => found = Some(account),
                }
            }
        }
        Ok(found)
    }
}

/// The identities of a DER certificate: its SAN entries and its subject's
/// common names, as `kind:value`. A certificate that does not parse has
/// none (the TLS layer verified it; this only looks for names).
fn identities(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, certificate)) = parse_x509_certificate(der.as_ref()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = certificate
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(format!("dns:{dns}")),
                    GeneralName::URI(uri) => Some(format!("uri:{uri}")),
                    GeneralName::RFC822Name(email) => Some(format!("email:{email}")),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names.extend(
        certificate
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(|cn| format!("cn:{cn}")),
    );
    names
}
