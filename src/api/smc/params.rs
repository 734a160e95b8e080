//! SMC's request parameters: the query string's and a form body's, merged,
//! read as Alibaba's gateway reads them (booleans in any case, lists as
//! `Name.1`, `Name.2`, ...).

use sha2::{Digest, Sha256};

use super::error::SmcError;

/// The parameters that sign a request rather than ask for something; a
/// client token's fingerprint leaves them out, since a retry re-signs.
const SIGNING: &[&str] = &[
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "SignatureType",
    "Timestamp",
    "Format",
    "Version",
    "Action",
    "ClientToken",
];

/// A request's parameters, in the order sent.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The query's pairs, then the form body's.
    pub(super) fn new(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }

    /// Every pair, for signature checks.
    pub(super) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of `name`, when present and not empty.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A parameter the action requires.
    pub(super) fn required(&self, name: &str) -> Result<&str, SmcError> {
        self.get(name)
            .ok_or_else(|| SmcError::Missing(name.to_owned()))
    }

    /// A boolean, `true` or `false` in any case (Python's SDKs send
    /// `True`).
    pub(super) fn bool(&self, name: &str) -> Result<Option<bool>, SmcError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(SmcError::invalid(
                name,
                &format!("must be true or false, got {v:?}"),
            )),
        }
    }

    /// An integer.
    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, SmcError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        match text.trim().parse::<i64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(SmcError::invalid(
                name,
                &format!("must be an integer, got {text:?}"),
            )),
        }
    }

    /// A repeat list `name.1`, `name.2`, ..., in index order.
    pub(super) fn list(&self, name: &str) -> Result<Vec<&str>, SmcError> {
        let mut indexed: Vec<(u32, &str)> = Vec::new();
        for (key, value) in &self.0 {
            let Some(index) = key
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('.'))
            else {
                continue;
            };
            match index.parse::<u32>() {
                Ok(n) if n >= 1 => indexed.push((n, value.as_str())),
                _ => {
                    return Err(SmcError::invalid(
                        key,
                        &format!("{name} is a list: {name}.1, {name}.2, ..."),
                    ))
                }
            }
        }
        indexed.sort_by_key(|(n, _)| *n);
        Ok(indexed.into_iter().map(|(_, v)| v).collect())
    }

    /// True when any parameter is `name` or an item of list `name`.
    pub(super) fn mentions(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| {
            k == name
                || k.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// A digest of the action and its business parameters, sorted: what a
    /// client token stands for (hex, as the store keeps it as text).
    pub(super) fn fingerprint(&self, action: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !SIGNING.contains(&k.as_str()))
            .collect();
        pairs.sort();
        let mut text = String::from(action);
        for (k, v) in pairs {
            text.push('\0');
            text.push_str(k);
            text.push('=');
            text.push_str(v);
        }
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn booleans_are_case_insensitive() {
        let p = params(&[("A", "True"), ("B", "FALSE"), ("C", "yes")]);
        assert_eq!(p.bool("A").ok(), Some(Some(true)));
        assert_eq!(p.bool("B").ok(), Some(Some(false)));
        assert_eq!(p.bool("Z").ok(), Some(None));
        assert!(p.bool("C").is_err());
    }

    #[test]
    fn lists_come_in_index_order_and_bad_indexes_are_refused() {
        let p = params(&[("JobId.2", "b"), ("JobId.1", "a"), ("JobIdX", "c")]);
        assert_eq!(p.list("JobId").ok(), Some(vec!["a", "b"]));
        assert!(p.mentions("JobId"));
        assert!(params(&[("JobId.x", "a")]).list("JobId").is_err());
        assert!(params(&[("JobId.0", "a")]).list("JobId").is_err());
    }

    #[test]
    fn integers_are_read_and_fingerprints_skip_signing() {
        let p = params(&[("PageSize", "5x"), ("N", " 7"), ("Signature", "x")]);
        assert!(p.integer("PageSize").is_err());
        assert_eq!(p.integer("N").ok(), Some(Some(7)));
        assert_eq!(p.integer("Absent").ok(), Some(None));
        let retried = params(&[("N", "7"), ("Signature", "y")]);
        assert_eq!(
            p.fingerprint("A"),
            params(&[("PageSize", "5x"), ("N", " 7")]).fingerprint("A")
        );
        assert_ne!(p.fingerprint("A"), retried.fingerprint("A"));
        assert!(p.fingerprint("A").bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
