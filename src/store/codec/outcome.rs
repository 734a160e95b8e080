//! Client token outcomes as `StoredOutcome`, and back.

use crate::pb::storage::v1 as pb;
use crate::pb::storage::v1::stored_outcome::Outcome as Case;
use crate::store::{Outcome, StoreError};

use super::{corrupt, job, server, within};

/// The storage message of `outcome`.
pub(super) fn to_message(outcome: &Outcome) -> pb::StoredOutcome {
    pb::StoredOutcome {
        outcome: Some(match outcome {
            Outcome::Done => Case::Done(pb::Done {}),
            Outcome::SourceServer(s) => Case::SourceServer(server::to_message(s)),
            Outcome::SourceServers(servers) => Case::SourceServers(pb::SourceServerList {
                servers: servers.iter().map(server::to_message).collect(),
            }),
            Outcome::ReplicationJob(j) => Case::ReplicationJob(job::to_message(j)),
        }),
    }
}

/// The outcome stored as `message`.
pub(super) fn from_message(message: pb::StoredOutcome) -> Result<Outcome, StoreError> {
    match message.outcome {
        Some(Case::Done(pb::Done {})) => Ok(Outcome::Done),
        Some(Case::SourceServer(s)) => server::from_message(s)
            .map(|s| Outcome::SourceServer(Box::new(s)))
            .map_err(|err| within("source_server", err)),
        Some(Case::SourceServers(list)) => list
            .servers
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                server::from_message(s)
                    .map_err(|err| within(&format!("source_servers.servers[{i}]"), err))
            })
            .collect::<Result<_, _>>()
            .map(Outcome::SourceServers),
        Some(Case::ReplicationJob(j)) => job::from_message(j)
            .map(|j| Outcome::ReplicationJob(Box::new(j)))
            .map_err(|err| within("replication_job", err)),
        // Also what an answer kind added by a later release reads as.
        None => Err(corrupt("outcome", "missing")),
    }
}
