//! A watch's initial snapshot, walked a chunk at a time: the watcher holds
//! the read model's view at one revision and at most one chunk of items,
//! so a snapshot of a million servers costs a bounded amount of memory and
//! its first item leaves at once.

use std::collections::VecDeque;

use super::{EventFilter, SnapshotItem, WatchItem};
use crate::{
    domain::{ReplicationJobId, ResourceKind, SourceServerId},
    store::Snapshot,
};

/// Items taken from the snapshot per step.
const CHUNK: usize = 256;

/// Where the walk is.
#[derive(Debug)]
enum Position {
    /// Source servers after this id (`None`: from the first).
    Servers(Option<SourceServerId>),
    /// Replication jobs after this id.
    Jobs(Option<ReplicationJobId>),
    /// Only the resources named by the filter, in order: servers first.
    Named(VecDeque<SourceServerId>, VecDeque<ReplicationJobId>),
    /// Everything was sent but the end marker.
    End,
}

/// The rest of a snapshot still to send.
#[derive(Debug)]
pub(super) struct SnapshotWalk {
    snapshot: Snapshot,
    position: Position,
    servers: bool,
    jobs: bool,
}

impl SnapshotWalk {
    /// A walk of `snapshot`'s resources that `filter` sees: servers then
    /// jobs, each in id order.
    pub(super) fn new(snapshot: Snapshot, filter: &EventFilter) -> SnapshotWalk {
        let wants =
            |kind| filter.resource_kinds.is_empty() || filter.resource_kinds.contains(&kind);
        let (servers, jobs) = (
            wants(ResourceKind::SourceServer),
            wants(ResourceKind::ReplicationJob),
        );
        let position = match filter.resource_ids.is_empty() {
            true => Position::Servers(None),
            false => {
                let mut named_servers: Vec<_> = filter
                    .resource_ids
                    .iter()
                    .filter_map(|id| SourceServerId::parse("resource_ids", id).ok())
                    .collect();
                let mut named_jobs: Vec<_> = filter
                    .resource_ids
                    .iter()
                    .filter_map(|id| ReplicationJobId::parse("resource_ids", id).ok())
                    .collect();
                named_servers.sort();
                named_jobs.sort();
                Position::Named(named_servers.into(), named_jobs.into())
            }
        };
        SnapshotWalk {
            snapshot,
            position,
            servers,
            jobs,
        }
    }

    /// The revision the snapshot reflects.
    pub(super) fn revision(&self) -> u64 {
        self.snapshot.revision()
    }

    /// Appends the next chunk of items to `ready`; false once the walk is
    /// over (the end marker was appended).
    pub(super) fn step(&mut self, ready: &mut VecDeque<WatchItem>) -> bool {
        let before = ready.len();
        while ready.len() == before {
            match &mut self.position {
                Position::Servers(after) => {
                    let chunk = match self.servers {
                        true => self.snapshot.source_servers_after(after.as_ref(), CHUNK),
                        false => Vec::new(),
                    };
                    match chunk.last() {
                        Some(last) => *after = Some(last.server.value.id.clone()),
                        None => self.position = Position::Jobs(None),
                    }
                    ready.extend(
                        chunk
                            .into_iter()
                            .map(|entry| WatchItem::Snapshot(SnapshotItem::SourceServer(entry))),
                    );
                }
                Position::Jobs(after) => {
                    let chunk = match self.jobs {
                        true => self.snapshot.replication_jobs_after(after.as_ref(), CHUNK),
                        false => Vec::new(),
                    };
                    match chunk.last() {
                        Some(last) => *after = Some(last.value.id.clone()),
                        None => self.position = Position::End,
                    }
                    ready.extend(
                        chunk
                            .into_iter()
                            .map(|entry| WatchItem::Snapshot(SnapshotItem::ReplicationJob(entry))),
                    );
                }
                Position::Named(servers, jobs) => {
                    let server = servers.pop_front();
                    let job = match server {
                        Some(_) => None,
                        None => jobs.pop_front(),
                    };
                    let item = match (server, job) {
                        (Some(id), _) => self
                            .snapshot
                            .source_server(&id)
                            .filter(|_| self.servers)
                            .map(SnapshotItem::SourceServer),
                        (None, Some(id)) => self
                            .snapshot
                            .replication_job(&id)
                            .filter(|_| self.jobs)
                            .map(SnapshotItem::ReplicationJob),
                        (None, None) => {
                            self.position = Position::End;
                            None
                        }
                    };
                    ready.extend(item.map(WatchItem::Snapshot));
                }
                Position::End => {
                    ready.push_back(WatchItem::SnapshotEnd(self.snapshot.revision()));
                    return false;
                }
            }
        }
        true
    }
}
