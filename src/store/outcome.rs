//! What a client token's record keeps of the mutation it was first used
//! with: the answer itself, so that a retry gets the first call's answer
//! and changes nothing.
//!
//! The answer is stored through the storage codec (`StoredOutcome` of
//! `cutover.storage.v1`), versioned like resources and events, rather than
//! as a reference to the revision that committed it: compaction may drop
//! that event while the token is still retained (the two retentions are
//! set apart), a launch's answer spans several events, and an
//! acknowledgement that changed nothing commits none. Releases before
//! schema 7 (SQLite) and 2 (PostgreSQL) kept it as JSON; the upgrades
//! rewrite those rows with [`from_json`].

use serde_json::Value;

use crate::domain::{ReplicationJob, SourceServer};
use crate::store::StoreError;

/// A mutation's answer, as its client token's record keeps it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Success and nothing more (an acknowledgement).
    Done,
    /// A source server as the mutation left it.
    SourceServer(Box<SourceServer>),
    /// The source servers of a launch as it left them, in launch order.
    SourceServers(Vec<SourceServer>),
    /// A replication job as the mutation left it.
    ReplicationJob(Box<ReplicationJob>),
}

impl Outcome {
    /// What it holds, for errors.
    fn kind(&self) -> &'static str {
        match self {
            Outcome::Done => "no value",
            Outcome::SourceServer(_) => "a source server",
            Outcome::SourceServers(_) => "a list of source servers",
            Outcome::ReplicationJob(_) => "a replication job",
        }
    }
}

/// A mutation's answer that a client token's record can keep and give
/// back.
pub trait Recordable: Sized {
    /// The record of this answer.
    fn to_outcome(&self) -> Outcome;

    /// The answer `outcome` recorded; `Corrupt` when it holds another kind
    /// of answer than this one.
    fn from_outcome(outcome: Outcome) -> Result<Self, StoreError>;
}

fn mismatch<T>(outcome: &Outcome, expected: &str) -> Result<T, StoreError> {
    Err(StoreError::Corrupt(format!(
        "client token outcome: holds {} where {expected} was recorded",
        outcome.kind()
    )))
}

impl Recordable for () {
    fn to_outcome(&self) -> Outcome {
        Outcome::Done
    }

    fn from_outcome(outcome: Outcome) -> Result<Self, StoreError> {
        match outcome {
            Outcome::Done => Ok(()),
            other => mismatch(&other, "no value"),
        }
    }
}

impl Recordable for SourceServer {
    fn to_outcome(&self) -> Outcome {
        Outcome::SourceServer(Box::new(self.clone()))
    }

    fn from_outcome(outcome: Outcome) -> Result<Self, StoreError> {
        match outcome {
            Outcome::SourceServer(server) => Ok(*server),
            other => mismatch(&other, "a source server"),
        }
    }
}

impl Recordable for Vec<SourceServer> {
    fn to_outcome(&self) -> Outcome {
        Outcome::SourceServers(self.clone())
    }

    fn from_outcome(outcome: Outcome) -> Result<Self, StoreError> {
        match outcome {
            Outcome::SourceServers(servers) => Ok(servers),
            other => mismatch(&other, "a list of source servers"),
        }
    }
}

impl Recordable for ReplicationJob {
    fn to_outcome(&self) -> Outcome {
        Outcome::ReplicationJob(Box::new(self.clone()))
    }

    fn from_outcome(outcome: Outcome) -> Result<Self, StoreError> {
        match outcome {
            Outcome::ReplicationJob(job) => Ok(*job),
            other => mismatch(&other, "a replication job"),
        }
    }
}

/// The outcome an earlier release recorded as `serde_json` of the answer.
/// That JSON does not name its type, so it is told by shape: `null` was an
/// acknowledgement, an array a launch's servers, an object a job when it
/// names a source server (`source_id`, which no server has), else a server.
pub(super) fn from_json(json: &str) -> Result<Outcome, StoreError> {
    let corrupt = |err: serde_json::Error| {
        StoreError::Corrupt(format!(
            "cannot upgrade a client token outcome: its stored JSON does not decode: {err}"
        ))
    };
    let value: Value = serde_json::from_str(json).map_err(corrupt)?;
    match value {
        Value::Null => Ok(Outcome::Done),
        Value::Array(_) => serde_json::from_value(value)
            .map(Outcome::SourceServers)
            .map_err(corrupt),
        Value::Object(ref fields) if fields.contains_key("source_id") => {
            serde_json::from_value(value)
                .map(Outcome::ReplicationJob)
                .map_err(corrupt)
        }
        Value::Object(_) => serde_json::from_value(value)
            .map(Outcome::SourceServer)
            .map_err(corrupt),
        other => Err(StoreError::Corrupt(format!(
            "cannot upgrade a client token outcome: {other} is no answer a release recorded"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReplicationJobStatus;
    use crate::store::fixtures::{account, job, server};

    #[test]
    fn each_answer_comes_back_only_as_its_own_kind() {
        let s = server(&account(1), 1);
        let recorded = s.to_outcome();
        assert_eq!(SourceServer::from_outcome(recorded.clone()), Ok(s.clone()));
        for wrong in [
            <()>::from_outcome(recorded.clone()).err(),
            Vec::<SourceServer>::from_outcome(recorded.clone()).err(),
            ReplicationJob::from_outcome(recorded).err(),
        ] {
            assert!(matches!(wrong, Some(StoreError::Corrupt(_))), "{wrong:?}");
        }
        assert_eq!(<()>::from_outcome(().to_outcome()), Ok(()));
        let servers = vec![s.clone(), s];
        assert_eq!(
            Vec::<SourceServer>::from_outcome(servers.to_outcome()),
            Ok(servers)
        );
        let j = job(&account(1), 1, 1, ReplicationJobStatus::Ready);
        assert_eq!(ReplicationJob::from_outcome(j.to_outcome()), Ok(j));
    }

    #[test]
    fn json_of_earlier_releases_is_told_by_shape() {
        let s = server(&account(1), 1);
        let j = job(&account(1), 1, 1, ReplicationJobStatus::Ready);
        assert_eq!(from_json("null"), Ok(Outcome::Done));
        assert_eq!(
            from_json(&json(&s)),
            Ok(Outcome::SourceServer(Box::new(s.clone())))
        );
        assert_eq!(
            from_json(&json(&vec![s.clone()])),
            Ok(Outcome::SourceServers(vec![s]))
        );
        assert_eq!(
            from_json(&json(&j)),
            Ok(Outcome::ReplicationJob(Box::new(j)))
        );
        for bad in ["", "{", "7", "\"x\"", "{\"id\":1}", "[1]"] {
            assert!(
                matches!(from_json(bad), Err(StoreError::Corrupt(_))),
                "{bad:?}"
            );
        }
    }

    fn json(value: &impl serde::Serialize) -> String {
        serde_json::to_string(value).expect("serialisable")
    }
}
