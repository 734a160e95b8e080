//! What `watch` knows: the latest state of every watched resource and
//! which ones reached `--until`.

use std::collections::{BTreeMap, BTreeSet};

use cutover_proto::v1::{
    self as pb, lifecycle_event, resource_snapshot, resource_state, LifecycleEvent,
    ResourceSnapshot,
};

use crate::until::Until;

/// A watched resource as last seen.
#[derive(Clone, Debug)]
pub(crate) enum Resource {
    /// A source server.
    Server(Box<pb::SourceServer>),
    /// A replication job.
    Job(Box<pb::ReplicationJob>),
}

/// How far `--until` is: `reached` of `total` watched resources.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Resources that reached the state.
    pub(crate) reached: usize,
    /// Resources watched (0 when no filter was given and none exists yet).
    pub(crate) total: usize,
    /// Filtered ids not seen yet.
    pub(crate) missing: Vec<String>,
}

impl Progress {
    /// Every watched resource reached the state.
    pub(crate) fn done(&self) -> bool {
        self.total > 0 && self.reached == self.total
    }
}

/// The latest state of each resource and which reached `--until`.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    resources: BTreeMap<String, Resource>,
    reached: BTreeSet<String>,
    until: Option<Until>,
}

impl Tracker {
    /// A tracker for `until`.
    pub(crate) fn new(until: Option<Until>) -> Tracker {
        Tracker {
            until,
            ..Tracker::default()
        }
    }

    /// The resource `id`, if seen.
    pub(crate) fn get(&self, id: &str) -> Option<&Resource> {
        self.resources.get(id)
    }

    /// Records a snapshot entry; returns its id.
    pub(crate) fn snapshot(&mut self, snapshot: &ResourceSnapshot) -> Option<String> {
        let resource = match snapshot.resource.as_ref()? {
            resource_snapshot::Resource::SourceServer(s) => Resource::Server(Box::new(s.clone())),
            resource_snapshot::Resource::ReplicationJob(j) => Resource::Job(Box::new(j.clone())),
        };
        Some(self.update(resource))
    }

    /// Records an event: the resource it carries, or else its new state
    /// summary applied to what was known.
    pub(crate) fn event(&mut self, event: &LifecycleEvent) {
        let resource = match &event.resource {
            Some(lifecycle_event::Resource::SourceServer(s)) => {
                Resource::Server(Box::new(s.clone()))
            }
            Some(lifecycle_event::Resource::ReplicationJob(j)) => {
                Resource::Job(Box::new(j.clone()))
            }
            None => {
                let summary = event.new_state.as_ref().and_then(|s| s.state.as_ref());
                match (self.resources.get(&event.resource_id).cloned(), summary) {
                    (known, Some(resource_state::State::SourceServer(state))) => {
                        let mut server = match known {
                            Some(Resource::Server(server)) => server,
                            _ => Box::new(pb::SourceServer {
                                source_server_id: event.resource_id.clone(),
                                ..Default::default()
                            }),
                        };
                        server.life_cycle.get_or_insert_with(Default::default).state =
                            state.life_cycle_state;
                        server
                            .data_replication_info
                            .get_or_insert_with(Default::default)
                            .data_replication_state = state.data_replication_state;
                        server.is_archived = state.is_archived;
                        Resource::Server(server)
                    }
                    (known, Some(resource_state::State::ReplicationJob(state))) => {
                        let mut job = match known {
                            Some(Resource::Job(job)) => job,
                            _ => Box::new(pb::ReplicationJob {
                                job_id: event.resource_id.clone(),
                                ..Default::default()
                            }),
                        };
                        job.status = state.status;
                        job.business_status = state.business_status;
                        job.progress = state.progress;
                        Resource::Job(job)
                    }
                    (_, None) => return,
                }
            }
        };
        self.update(resource);
    }

    /// Stores the resource; notes whether it reached `--until`.
    fn update(&mut self, resource: Resource) -> String {
        let (id, reached) = match &resource {
            Resource::Server(s) => (
                s.source_server_id.clone(),
                self.until.is_some_and(|u| u.server_reached(s)),
            ),
            Resource::Job(j) => (
                j.job_id.clone(),
                self.until.is_some_and(|u| u.job_reached(j)),
            ),
        };
        if reached {
            self.reached.insert(id.clone());
        }
        self.resources.insert(id.clone(), resource);
        id
    }

    /// How far `--until` is over `ids` (or, without ids, over every known
    /// resource of the kinds the condition covers).
    pub(crate) fn progress(&self, ids: &[String]) -> Progress {
        let mut progress = Progress {
            reached: 0,
            total: 0,
            missing: Vec::new(),
        };
        let Some(until) = self.until else {
            return progress;
        };
        let watched: Vec<&String> = if ids.is_empty() {
            self.resources
                .iter()
                .filter(|(_, r)| match r {
                    Resource::Server(_) => until.covers_servers(),
                    Resource::Job(_) => until.covers_jobs(),
                })
                .map(|(id, _)| id)
                .collect()
        } else {
            ids.iter().collect()
        };
        for id in watched {
            progress.total += 1;
            if !self.resources.contains_key(id) {
                progress.missing.push(id.clone());
            } else if self.reached.contains(id) {
                progress.reached += 1;
            }
        }
        progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::until::parse_until;

    fn server(id: &str, state: pb::LifeCycleState) -> ResourceSnapshot {
        ResourceSnapshot {
            resource: Some(resource_snapshot::Resource::SourceServer(
                pb::SourceServer {
                    source_server_id: id.into(),
                    life_cycle: Some(pb::LifeCycle {
                        state: state as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )),
        }
    }

    #[test]
    fn a_state_once_seen_counts_as_reached() {
        let mut tracker = Tracker::new(parse_until("ready-for-test").ok());
        tracker.snapshot(&server("s-a", pb::LifeCycleState::NotReady));
        let ids = vec!["s-a".to_owned(), "s-b".to_owned()];
        let progress = tracker.progress(&ids);
        assert_eq!(progress.missing, vec!["s-b".to_owned()]);
        assert!(!progress.done());
        tracker.snapshot(&server("s-b", pb::LifeCycleState::ReadyForTest));
        tracker.event(&LifecycleEvent {
            revision: 7,
            resource_id: "s-a".into(),
            new_state: Some(pb::ResourceState {
                state: Some(resource_state::State::SourceServer(
                    pb::SourceServerStateSummary {
                        life_cycle_state: pb::LifeCycleState::ReadyForTest as i32,
                        ..Default::default()
                    },
                )),
            }),
            ..Default::default()
        });
        assert!(tracker.progress(&ids).done());
        tracker.snapshot(&server("s-a", pb::LifeCycleState::Testing));
        assert!(tracker.progress(&ids).done(), "reached stays reached");
    }

    #[test]
    fn without_ids_every_covered_resource_counts_but_none_is_not_done() {
        let mut tracker = Tracker::new(parse_until("cutover").ok());
        assert!(!tracker.progress(&[]).done());
        tracker.snapshot(&server("s-a", pb::LifeCycleState::Cutover));
        assert!(tracker.progress(&[]).done());
    }
}
