//! Opaque, tamper-proof pagination tokens. A token names the last item of
//! the page it ends and is signed (HMAC-SHA256, with a key kept in the
//! store so tokens survive restarts) over the account and the query, so it
//! cannot be forged, edited, or replayed with other filters or by another
//! account.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{Caller, ControlPlane};
use crate::domain::DomainError;

type HmacSha256 = Hmac<Sha256>;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Token of the next page; empty on the last page.
    pub next_token: String,
}

/// Name of the stored signing key.
const KEY_NAME: &str = "page-token-key";

fn invalid_token() -> DomainError {
    DomainError::invalid_field(
        "next_token",
        "is not a token this service issued for this query; start again without it",
    )
}

impl ControlPlane {
    async fn page_key(&self) -> Result<&[u8], DomainError> {
        let key = self
            .page_key
            .get_or_try_init(|| async { self.store.secret(KEY_NAME).await })
            .await?;
        Ok(key)
    }

    async fn signature(
        &self,
        caller: &Caller,
        query: &str,
        last_id: &str,
    ) -> Result<Vec<u8>, DomainError> {
        let mut mac = HmacSha256::new_from_slice(self.page_key().await?)
            .map_err(|e| DomainError::internal(format!("page token key: {e}")))?;
        for part in [caller.account_id.as_str(), query, last_id] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// The token that resumes `query` after `last_id`.
    pub(super) async fn issue_page_token(
        &self,
        caller: &Caller,
        query: &str,
        last_id: &str,
    ) -> Result<String, DomainError> {
        let signature = self.signature(caller, query, last_id).await?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(last_id),
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The last id a token names, once its signature checks out; `None`
    /// for an empty token (the first page).
    pub(super) async fn open_page_token(
        &self,
        caller: &Caller,
        query: &str,
        token: &str,
    ) -> Result<Option<String>, DomainError> {
        if token.is_empty() {
            return Ok(None);
        }
        let (id_part, signature_part) = token.split_once('.').ok_or_else(invalid_token)?;
        let last_id = URL_SAFE_NO_PAD
            .decode(id_part)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid_token)?;
        let given = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| invalid_token())?;
        let mut mac = HmacSha256::new_from_slice(self.page_key().await?)
            .map_err(|e| DomainError::internal(format!("page token key: {e}")))?;
        for part in [caller.account_id.as_str(), query, &last_id] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.verify_slice(&given).map_err(|_| invalid_token())?;
        Ok(Some(last_id))
    }
}

/// A stable digest of a query's filters, so a token only resumes the query
/// it was issued for.
pub(super) fn query_digest(filters: &impl std::fmt::Debug) -> String {
    hex::encode(Sha256::digest(format!("{filters:?}").as_bytes()))
}
