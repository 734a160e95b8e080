//! Deciding a group commit: which of the queued batches still fit the
//! stored state, checked in Rust against the rows the transaction locked,
//! in queue order, each seeing its accepted predecessors' writes; and the
//! rows the accepted ones write, once the revision counter has numbered
//! their events.

use std::collections::{HashMap, HashSet};

use crate::domain::{LifecycleEvent, Resource};
use crate::store::{codec, StoreError, WriteBatch};

/// A row key: (account, id).
pub(super) type Key = (String, String);

/// What the transaction read of the rows the group touches.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// Versions of the existing servers among those written.
    pub servers: HashMap<Key, u64>,
    /// Versions of the existing jobs among those written.
    pub jobs: HashMap<Key, u64>,
    /// The unfinished job of each (account, source server) written to.
    pub unfinished: HashMap<Key, String>,
    /// Client tokens of the group already used.
    pub tokens: HashSet<Key>,
    /// Agent instances of the group already bound.
    pub instances: HashSet<Key>,
    /// The current fence of each lease the group's batches name.
    pub fences: HashMap<String, u64>,
}

/// The keys a group touches, to lock and read.
#[derive(Debug, Default)]
pub(super) struct Touched {
    pub servers: Vec<Key>,
    pub jobs: Vec<Key>,
    pub sources: Vec<Key>,
    pub tokens: Vec<Key>,
    pub instances: Vec<Key>,
    pub leases: Vec<String>,
}

/// The keys `batches` touch, each once, sorted: rows are locked in key
/// order by every replica, so two groups never wait on each other in a
/// cycle.
pub(super) fn touched<'a>(batches: impl IntoIterator<Item = &'a WriteBatch>) -> Touched {
    let mut touched = Touched::default();
    for batch in batches {
        for write in &batch.writes {
            match &write.resource {
                Resource::SourceServer(server) => touched
                    .servers
                    .push(key(server.account_id.as_str(), server.id.as_str())),
                Resource::ReplicationJob(job) => {
                    touched
                        .jobs
                        .push(key(job.account_id.as_str(), job.id.as_str()));
                    touched
                        .sources
                        .push(key(job.account_id.as_str(), job.source_id.as_str()));
                }
            }
        }
        if let Some(record) = &batch.idempotency {
            touched
                .tokens
                .push(key(record.account_id.as_str(), &record.token));
        }
        if let Some(instance) = &batch.agent_instance {
            touched
                .instances
                .push(key(instance.account_id.as_str(), &instance.instance_id));
        }
        if let Some(fence) = &batch.fence {
            touched.leases.push(fence.lease.as_str().to_owned());
        }
    }
    for keys in [
        &mut touched.servers,
        &mut touched.jobs,
        &mut touched.sources,
        &mut touched.tokens,
        &mut touched.instances,
    ] {
        keys.sort_unstable();
        keys.dedup();
    }
    touched.leases.sort_unstable();
    touched.leases.dedup();
    touched
}

fn key(account: &str, id: &str) -> Key {
    (account.to_owned(), id.to_owned())
}

/// A server row as the group leaves it.
pub(super) struct ServerRow {
    pub key: Key,
    /// The group creates it: inserted, not updated.
    pub created: bool,
    pub version: i64,
    pub revision: i64,
    pub body: Vec<u8>,
}

/// A job row as the group leaves it.
pub(super) struct JobRow {
    pub key: Key,
    /// The group creates it: inserted, not updated.
    pub created: bool,
    pub source_id: String,
    pub unfinished: bool,
    pub version: i64,
    pub revision: i64,
    pub body: Vec<u8>,
}

/// A client token row, its outcome encoded.
pub(super) struct TokenRow {
    /// (account, token).
    pub key: Key,
    pub fingerprint: String,
    pub outcome: Vec<u8>,
    pub created: i64,
}

/// Everything the accepted batches write, numbered.
#[derive(Default)]
pub(super) struct Rows {
    pub servers: Vec<ServerRow>,
    pub jobs: Vec<JobRow>,
    pub events: Vec<(i64, i64, Vec<u8>)>,
    pub tokens: Vec<TokenRow>,
    pub instances: Vec<crate::store::AgentInstance>,
    /// The events, as the log reader applies them: this replica's own
    /// commits need no read back.
    pub committed: Vec<LifecycleEvent>,
}

/// The group's decision: each batch's outcome (how many events it writes,
/// or why it cannot be written) and the accepted batches.
pub(super) struct Plan<'a> {
    outcomes: Vec<Result<&'a WriteBatch, StoreError>>,
}

impl<'a> Plan<'a> {
    /// Checks `batches` in order against `stored` as each accepted one
    /// leaves it.
    pub(super) fn decide(batches: &'a [WriteBatch], mut stored: Stored) -> Plan<'a> {
        let outcomes = batches
            .iter()
            .map(|batch| check(batch, &mut stored).map(|()| batch))
            .collect();
        Plan { outcomes }
    }

    /// Each batch's outcome when none is written: its error, or the
    /// revision `head` for a batch that writes nothing.
    pub(super) fn without_writes(self, head: u64) -> Vec<Result<u64, StoreError>> {
        self.outcomes
            .into_iter()
            .map(|outcome| outcome.map(|_| head))
            .collect()
    }

    /// True when at least one batch is accepted.
    pub(super) fn accepts_any(&self) -> bool {
        self.outcomes.iter().any(Result::is_ok)
    }

    /// How many events the accepted batches write.
    pub(super) fn event_count(&self) -> usize {
        self.outcomes
            .iter()
            .flatten()
            .map(|batch| batch.writes.len())
            .sum()
    }

    /// Each batch's outcome (the revision its last event gets, or its
    /// error) and the rows to write, events numbered from `base + 1`. Each
    /// write was checked against the version it expects, so it leaves the
    /// resource at the next one.
    pub(super) fn finish(self, base: u64) -> (Vec<Result<u64, StoreError>>, Rows) {
        let mut rows = Rows::default();
        let mut servers: HashMap<Key, usize> = HashMap::new();
        let mut jobs: HashMap<Key, usize> = HashMap::new();
        let mut revision = base;
        let mut buffer = Vec::new();
        let mut results = Vec::with_capacity(self.outcomes.len());
        for outcome in self.outcomes {
            let batch = match outcome {
                Ok(batch) => batch,
                Err(err) => {
                    results.push(Err(err));
                    continue;
                }
            };
            for write in &batch.writes {
                revision += 1;
                let signed = to_i64(revision);
                let version = to_i64(write.expected_version.map_or(1, |v| v + 1));
                let created = write.expected_version.is_none();
                match &write.resource {
                    Resource::SourceServer(server) => {
                        let key = key(server.account_id.as_str(), server.id.as_str());
                        let mut body = Vec::new();
                        codec::encode_source_server(server, &mut body);
                        let row = servers.get(&key).map(|&i| &mut rows.servers[i]);
                        match row {
                            Some(row) => {
                                row.version = version;
                                row.revision = signed;
                                row.body = body;
                            }
                            None => {
                                servers.insert(key.clone(), rows.servers.len());
                                rows.servers.push(ServerRow {
                                    key,
                                    created,
                                    version,
                                    revision: signed,
                                    body,
                                });
                            }
                        }
                    }
                    Resource::ReplicationJob(job) => {
                        let key = key(job.account_id.as_str(), job.id.as_str());
                        let mut body = Vec::new();
                        codec::encode_replication_job(job, &mut body);
                        let unfinished = job.status.is_unfinished();
                        match jobs.get(&key).map(|&i| &mut rows.jobs[i]) {
                            Some(row) => {
                                row.version = version;
                                row.revision = signed;
                                row.body = body;
                                row.unfinished = unfinished;
                                job.source_id.as_str().clone_into(&mut row.source_id);
                            }
                            None => {
                                jobs.insert(key.clone(), rows.jobs.len());
                                rows.jobs.push(JobRow {
                                    key,
                                    created,
                                    source_id: job.source_id.to_string(),
                                    unfinished,
                                    version,
                                    revision: signed,
                                    body,
                                });
                            }
                        }
                    }
                }
                let event = LifecycleEvent {
                    revision,
                    event: write.event.clone(),
                    resource: write.resource.clone(),
                };
                buffer.clear();
                codec::encode_event(&event, &mut buffer);
                rows.events
                    .push((signed, event.event.time.0, buffer.clone()));
                rows.committed.push(event);
            }
            if let Some(record) = &batch.idempotency {
                let mut outcome = Vec::new();
                codec::encode_outcome(&record.outcome, &mut outcome);
                rows.tokens.push(TokenRow {
                    key: key(record.account_id.as_str(), &record.token),
                    fingerprint: record.fingerprint.clone(),
                    outcome,
                    created: record.created.0,
                });
            }
            rows.instances.extend(batch.agent_instance.clone());
            results.push(Ok(revision));
        }
        (results, rows)
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Checks one batch against `stored`; on success, `stored` shows its
/// writes.
fn check(batch: &WriteBatch, stored: &mut Stored) -> Result<(), StoreError> {
    if let Some(fence) = &batch.fence {
        let current = stored.fences.get(fence.lease.as_str()).copied();
        if current != Some(fence.token) {
            return Err(StoreError::Fenced(format!(
                "the {} lease moved on from fence {} to {current:?}",
                fence.lease, fence.token
            )));
        }
    }
    if let Some(record) = &batch.idempotency {
        if stored
            .tokens
            .contains(&key(record.account_id.as_str(), &record.token))
        {
            return Err(StoreError::Conflict(format!(
                "client token {:?} was already used",
                record.token
            )));
        }
    }
    if let Some(instance) = &batch.agent_instance {
        if stored
            .instances
            .contains(&key(instance.account_id.as_str(), &instance.instance_id))
        {
            return Err(StoreError::Conflict(format!(
                "agent instance {:?} already registered a server",
                instance.instance_id
            )));
        }
    }
    // Checked on a copy: a batch whose third write fails leaves no trace
    // of its first two.
    let mut servers = HashMap::new();
    let mut jobs = HashMap::new();
    let mut unfinished: HashMap<Key, Option<String>> = HashMap::new();
    for write in &batch.writes {
        match &write.resource {
            Resource::SourceServer(server) => {
                let key = key(server.account_id.as_str(), server.id.as_str());
                let current = servers
                    .get(&key)
                    .copied()
                    .or_else(|| stored.servers.get(&key).copied());
                expect("source server", &key.1, current, write.expected_version)?;
                servers.insert(key, current.unwrap_or(0) + 1);
            }
            Resource::ReplicationJob(job) => {
                let key = key(job.account_id.as_str(), job.id.as_str());
                let current = jobs
                    .get(&key)
                    .copied()
                    .or_else(|| stored.jobs.get(&key).copied());
                expect("replication job", &key.1, current, write.expected_version)?;
                jobs.insert(key.clone(), current.unwrap_or(0) + 1);
                let source = (key.0.clone(), job.source_id.to_string());
                let holder = match unfinished.get(&source) {
                    Some(holder) => holder.clone(),
                    None => stored.unfinished.get(&source).cloned(),
                };
                let now_unfinished = job.status.is_unfinished();
                match holder {
                    Some(other) if other != key.1 && now_unfinished => {
                        return Err(StoreError::Conflict(format!(
                            "source server {} already has an unfinished replication job",
                            job.source_id
                        )));
                    }
                    Some(other) if other == key.1 && !now_unfinished => {
                        unfinished.insert(source, None);
                    }
                    None if now_unfinished => {
                        unfinished.insert(source, Some(key.1.clone()));
                    }
                    _ => {}
                }
            }
        }
    }
    stored.servers.extend(servers);
    stored.jobs.extend(jobs);
    for (source, holder) in unfinished {
        match holder {
            Some(job) => stored.unfinished.insert(source, job),
            None => stored.unfinished.remove(&source),
        };
    }
    if let Some(record) = &batch.idempotency {
        stored
            .tokens
            .insert(key(record.account_id.as_str(), &record.token));
    }
    if let Some(instance) = &batch.agent_instance {
        stored
            .instances
            .insert(key(instance.account_id.as_str(), &instance.instance_id));
    }
    Ok(())
}

/// A version check: `expected` `None` means the resource must not exist.
fn expect(
    what: &str,
    id: &str,
    current: Option<u64>,
    expected: Option<u64>,
) -> Result<(), StoreError> {
    match (current, expected) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(StoreError::Conflict(format!("{what} {id} already exists"))),
        (Some(current), Some(expected)) if current == expected => Ok(()),
        (_, Some(expected)) => Err(StoreError::Conflict(format!(
            "{what} {id} is no longer at version {expected}"
        ))),
    }
}
