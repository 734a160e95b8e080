//! Pages of listings, served from the indexes: the cost of a page is the
//! page (and a seek per selected bucket), never a walk of the fleet.

use std::{
    cmp::Reverse,
    collections::{BTreeSet, BinaryHeap},
    iter::Peekable,
    ops::Bound,
};

use super::{
    account::{job_bucket, server_bucket, AccountState},
    Entry, ServerEntry,
};
use crate::domain::{
    BusinessStatus, LifeCycleState, ReplicationJob, ReplicationJobId, ReplicationJobStatus,
    ReplicationType, SourceServerId,
};
use crate::store::{ReplicationJobFilter, SourceServerFilter};

/// The values a filter list selects: all of them when it is empty.
fn selected<T: Copy + PartialEq>(all: &[T], chosen: &[T]) -> Vec<T> {
    match chosen.is_empty() {
        true => all.to_vec(),
        false => all.iter().copied().filter(|v| chosen.contains(v)).collect(),
    }
}

/// The ids of `named` after `after`, in order, each once.
fn named_after<'a, K: Ord>(named: &'a [K], after: Option<&K>) -> BTreeSet<&'a K> {
    named
        .iter()
        .filter(|id| after.is_none_or(|after| *id > after))
        .collect()
}

/// The ids after `after` of every set, merged in order, at most `limit`.
fn merge_after<'a, K: Ord + Clone + 'a>(
    sets: impl IntoIterator<Item = &'a BTreeSet<K>>,
    after: Option<&K>,
    limit: usize,
) -> Vec<K> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut cursors: Vec<Peekable<std::collections::btree_set::Range<'a, K>>> = sets
        .into_iter()
        .map(|set| set.range((start, Bound::Unbounded)).peekable())
        .collect();
    let mut heads: BinaryHeap<Reverse<(&'a K, usize)>> = cursors
        .iter_mut()
        .enumerate()
        .filter_map(|(i, cursor)| cursor.peek().map(|k| Reverse((*k, i))))
        .collect();
    let mut out = Vec::with_capacity(limit.min(1024));
    while out.len() < limit {
        let Some(Reverse((key, i))) = heads.pop() else {
            break;
        };
        out.push(key.clone());
        cursors[i].next();
        if let Some(next) = cursors[i].peek() {
            heads.push(Reverse((*next, i)));
        }
    }
    out
}

impl AccountState {
    /// Source servers matching `filter`, after `after`, at most `limit`.
    pub(super) fn list_servers(
        &self,
        filter: &SourceServerFilter,
        after: Option<&SourceServerId>,
        limit: usize,
    ) -> Vec<ServerEntry> {
        let matches = |entry: &ServerEntry| {
            let server = &entry.server.value;
            filter.is_archived.is_none_or(|a| a == server.is_archived)
                && (filter.replication_types.is_empty()
                    || filter.replication_types.contains(&server.replication_type))
                && (filter.life_cycle_states.is_empty()
                    || filter.life_cycle_states.contains(&server.life_cycle.state))
        };
        if !filter.ids.is_empty() {
            // At most 200 ids: each is one lookup.
            return named_after(&filter.ids, after)
                .into_iter()
                .filter_map(|id| self.server_entry(id))
                .filter(matches)
                .take(limit)
                .collect();
        }
        let states = selected(LifeCycleState::ALL, &filter.life_cycle_states);
        let types = selected(ReplicationType::ALL, &filter.replication_types);
        let archived: &[bool] = match filter.is_archived {
            Some(true) => &[true],
            Some(false) => &[false],
            None => &[false, true],
        };
        let ids = match filter == &SourceServerFilter::default() {
            // Everything: the map itself is the index.
            true => {
                let start = after.map_or(Bound::Unbounded, Bound::Excluded);
                self.servers
                    .range::<_, SourceServerId>((start, Bound::Unbounded))
                    .take(limit)
                    .map(|(id, _)| id.clone())
                    .collect()
            }
            false => {
                let buckets = states.iter().flat_map(|&state| {
                    types.iter().flat_map(move |&kind| {
                        archived
                            .iter()
                            .map(move |&archived| server_bucket(state, kind, archived))
                    })
                });
                merge_after(buckets.map(|b| &self.server_buckets[b]), after, limit)
            }
        };
        ids.iter().filter_map(|id| self.server_entry(id)).collect()
    }

    /// Replication jobs matching `filter`, after `after`, at most `limit`.
    pub(super) fn list_jobs(
        &self,
        filter: &ReplicationJobFilter,
        after: Option<&ReplicationJobId>,
        limit: usize,
    ) -> Vec<Entry<ReplicationJob>> {
        let matches = |job: &ReplicationJob| {
            (filter.statuses.is_empty() || filter.statuses.contains(&job.status))
                && (filter.business_statuses.is_empty()
                    || job
                        .business_status
                        .is_some_and(|b| filter.business_statuses.contains(&b)))
                && (filter.source_ids.is_empty() || filter.source_ids.contains(&job.source_id))
        };
        let lookup = |id: &ReplicationJobId| self.jobs.get(id).cloned();
        if !filter.ids.is_empty() {
            return named_after(&filter.ids, after)
                .into_iter()
                .filter_map(lookup)
                .filter(|entry| matches(&entry.value))
                .take(limit)
                .collect();
        }
        if !filter.source_ids.is_empty() {
            // A source server has few jobs (one unfinished at a time): the
            // page costs the jobs of the servers asked about.
            let sources: BTreeSet<_> = filter.source_ids.iter().collect();
            let sets = sources
                .into_iter()
                .filter_map(|source| self.jobs_by_source.get(source));
            return merge_after(sets, after, usize::MAX)
                .iter()
                .filter_map(lookup)
                .filter(|entry| matches(&entry.value))
                .take(limit)
                .collect();
        }
        let statuses = selected(ReplicationJobStatus::ALL, &filter.statuses);
        let business: Vec<Option<BusinessStatus>> = match filter.business_statuses.is_empty() {
            true => std::iter::once(None)
                .chain(BusinessStatus::ALL.iter().copied().map(Some))
                .collect(),
            false => selected(BusinessStatus::ALL, &filter.business_statuses)
                .into_iter()
                .map(Some)
                .collect(),
        };
        let buckets = statuses.iter().flat_map(|&status| {
            business
                .iter()
                .map(move |&business| job_bucket(status, business))
        });
        merge_after(buckets.map(|b| &self.job_buckets[b]), after, limit)
            .iter()
            .filter_map(lookup)
            .collect()
    }
}
