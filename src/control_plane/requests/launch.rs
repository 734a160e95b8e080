//! StartTest and StartCutover: the servers one launch job launches.

use crate::domain::{DomainError, SourceServerId};

/// The servers of one StartTest or StartCutover: 1 to 200, each once, in
/// the order first given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchServers {
    ids: Vec<SourceServerId>,
}

impl LaunchServers {
    /// The most servers one launch takes (MGN's).
    pub const MAX_SERVERS: usize = 200;

    /// The servers `ids` names; a refusal names the wire's `field`. The
    /// count is of the ids as sent, repeats included, as MGN counts them;
    /// a repeat then launches its server once.
    pub fn new(field: &str, ids: &[&str]) -> Result<Self, DomainError> {
        if ids.is_empty() || ids.len() > Self::MAX_SERVERS {
            return Err(DomainError::invalid_field(
                field,
                format!(
                    "must list 1 to {} source servers, got {}",
                    Self::MAX_SERVERS,
                    ids.len()
                ),
            ));
        }
        let mut unique: Vec<SourceServerId> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = SourceServerId::parse(field, id)?;
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        Ok(LaunchServers { ids: unique })
    }

    /// The servers, each once.
    pub fn ids(&self) -> &[SourceServerId] {
        &self.ids
    }
}
