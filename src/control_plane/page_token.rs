//! Opaque, tamper-proof pagination tokens. A token names the last item of
//! the page it ends and is signed (HMAC-SHA256, with a key kept in the
//! store so tokens survive restarts) over the account and the query, so it
//! cannot be forged, edited, or replayed with other filters or by another
//! account.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{requests::PageRequest, ControlPlane, Failure, Tenant};
use crate::{
    domain::{DomainError, ReplicationJob, ReplicationJobId, SourceServerId},
    store::{Entry, ServerEntry},
};

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

/// The refusal of a token as the wire names it: `field`.
fn invalid_token(field: &str) -> DomainError {
    DomainError::invalid_field(
        field,
        "is not a token this service issued for this query; start again without it",
    )
}

impl ControlPlane {
    async fn page_key(&self) -> Result<&[u8], Failure> {
        let key = self
            .page_key
            .get_or_try_init(|| async { self.store.secret(KEY_NAME).await })
            .await?;
        Ok(key)
    }

    /// The MAC of a token: over the account, the query and the last id,
    /// each length-prefixed so no two triples share an input.
    async fn mac(
        &self,
        caller: &Tenant,
        query: &str,
        last_id: &str,
    ) -> Result<HmacSha256, Failure> {
        let mut mac = HmacSha256::new_from_slice(self.page_key().await?)
            .map_err(|e| Failure::internal(format!("page token key: {e}")))?;
        for part in [caller.account_id.as_str(), query, last_id] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        Ok(mac)
    }

    /// The token that resumes `query` after `last_id`.
    async fn issue_page_token(
        &self,
        caller: &Tenant,
        query: &str,
        last_id: &str,
    ) -> Result<String, Failure> {
        let signature = self
            .mac(caller, query, last_id)
            .await?
            .finalize()
            .into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(last_id),
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The last id `page`'s token names, once its signature checks out;
    /// `None` for an empty token (the first page).
    async fn open_page_token(
        &self,
        caller: &Tenant,
        query: &str,
        page: &PageRequest,
    ) -> Result<Option<String>, Failure> {
        let token = page.token();
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || invalid_token(page.token_field());
        let (id_part, signature_part) = token.split_once('.').ok_or_else(invalid)?;
        let last_id = URL_SAFE_NO_PAD
            .decode(id_part)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        let given = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| invalid())?;
        self.mac(caller, query, &last_id)
            .await?
            .verify_slice(&given)
            .map_err(|_| invalid())?;
        Ok(Some(last_id))
    }

    /// One page of a listing filtered by `filter`: resumes after the id
    /// `page`'s token names, fetches one item more than the page holds to
    /// learn whether another page follows, and issues the token that
    /// resumes after the page's last item.
    pub(super) async fn page<T, Fetch>(
        &self,
        caller: &Tenant,
        filter: &impl std::fmt::Debug,
        page: &PageRequest,
        fetch: Fetch,
    ) -> Result<Page<T>, Failure>
    where
        T: Listed,
        Fetch: FnOnce(Option<T::Id>, usize) -> Vec<T>,
    {
        let query = query_digest(filter);
        let after = match self.open_page_token(caller, &query, page).await? {
            Some(id) => Some(T::parse_id(page.token_field(), &id)?),
            None => None,
        };
        let page_size = page.size();
        let mut items = fetch(after, page_size + 1);
        let next_token = match items.len() > page_size {
            true => {
                items.truncate(page_size);
                match items.last() {
                    Some(last) => {
                        self.issue_page_token(caller, &query, last.list_id())
                            .await?
                    }
                    None => String::new(),
                }
            }
            false => String::new(),
        };
        Ok(Page { items, next_token })
    }
}

/// A stable digest of a query's filters, so a token only resumes the query
/// it was issued for.
fn query_digest(filters: &impl std::fmt::Debug) -> String {
    hex::encode(Sha256::digest(format!("{filters:?}").as_bytes()))
}

/// A resource that listings page through, by id.
pub(super) trait Listed {
    /// Its id type.
    type Id;
    /// Parses an id a page token carries.
    fn parse_id(field: &str, value: &str) -> Result<Self::Id, DomainError>;
    /// The id listings are ordered by.
    fn list_id(&self) -> &str;
}

impl Listed for ServerEntry {
    type Id = SourceServerId;

    fn parse_id(field: &str, value: &str) -> Result<SourceServerId, DomainError> {
        SourceServerId::parse(field, value)
    }

    fn list_id(&self) -> &str {
        self.server.value.id.as_str()
    }
}

impl Listed for Entry<ReplicationJob> {
    type Id = ReplicationJobId;

    fn parse_id(field: &str, value: &str) -> Result<ReplicationJobId, DomainError> {
        ReplicationJobId::parse(field, value)
    }

    fn list_id(&self) -> &str {
        self.value.id.as_str()
    }
}
