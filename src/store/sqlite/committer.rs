//! Group commit: one thread owns the writer connection. It takes every
//! batch queued while its previous commit was in flight (up to
//! [`MAX_GROUP`]) and writes them in one transaction with one fsync. Each
//! batch runs inside its own savepoint, so a batch whose version check,
//! uniqueness rule or client token fails is rolled back alone and its
//! caller gets its own [`StoreError::Conflict`], while its neighbours
//! commit. Once the transaction is durable, a second thread applies the
//! committed events to the read model (and so publishes them to watchers)
//! in revision order, and only then answers each caller: a caller that
//! reads after its mutation returned sees it.
//!
//! The two threads form a pipeline: while one group is applied, the next
//! is written. A profile of a saturated committer showed about a quarter
//! of its time in applying and answering; the writer was the bottleneck,
//! so that quarter moved off it. Deciding on a read model one group behind
//! the database is safe: every version is checked again when written.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread::JoinHandle,
};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{map_err, write};
use crate::domain::LifecycleEvent;
use crate::store::{ReadModel, StoreError, WriteBatch};

/// Most batches committed in one transaction. Beyond a few hundred the
/// fsync is no longer what a batch waits for, and a larger group only
/// delays the first caller's answer.
const MAX_GROUP: usize = 512;

/// Most requests waiting for the committer; callers beyond it wait to
/// enqueue, which pushes back on them instead of growing memory.
const QUEUE: usize = 8192;

/// Work for the writer connection that is not a batch (account set-up,
/// secrets, compaction): run between groups, in order with them.
pub(super) type Chore = Box<dyn FnOnce(&mut Connection) + Send>;

enum Request {
    Commit(WriteBatch, Reply),
    Chore(Chore),
}

/// A caller's answer: its batch's revision, or why it failed.
type Reply = oneshot::Sender<Result<u64, StoreError>>;

/// What the writer hands the applier: a group's events, in revision order,
/// and each caller's outcome.
struct Committed {
    events: Vec<LifecycleEvent>,
    outcomes: Vec<(Result<u64, StoreError>, Reply)>,
}

/// Groups written but not applied yet; the writer waits beyond this.
const APPLY_QUEUE: usize = 4;

/// The handle callers use to reach the committer threads.
pub(super) struct Committer {
    requests: Option<mpsc::Sender<Request>>,
    threads: Vec<JoinHandle<()>>,
    /// Transactions committed so far.
    #[cfg_attr(not(test), allow(dead_code))]
    groups: Arc<AtomicU64>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the store's committer has stopped".to_owned())
}

impl Committer {
    /// Starts the committer on `conn`, numbering events after `head` and
    /// applying them to `model`.
    pub(super) fn start(
        conn: Connection,
        head: u64,
        model: Arc<ReadModel>,
    ) -> Result<Committer, StoreError> {
        let (requests, queue) = mpsc::channel(QUEUE);
        let (committed, to_apply) = std::sync::mpsc::sync_channel(APPLY_QUEUE);
        let groups = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            conn,
            head,
            buffer: Vec::with_capacity(4096),
            groups: Arc::clone(&groups),
            applier: committed,
        };
        let spawn = |name: &str, run: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(run)
                .map_err(|err| {
                    StoreError::Unavailable(format!("cannot start the committer: {err}"))
                })
        };
        let threads = vec![
            spawn("cutover-committer", Box::new(move || writer.run(queue)))?,
            spawn(
                "cutover-applier",
                Box::new(move || apply(&model, &to_apply)),
            )?,
        ];
        Ok(Committer {
            requests: Some(requests),
            threads,
            groups,
        })
    }

    /// Transactions committed so far (each holds one or more batches).
    #[cfg(test)]
    pub(super) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Requests waiting for the committer.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.requests
            .as_ref()
            .map_or(0, |r| r.max_capacity() - r.capacity())
    }

    /// Commits `batch` durably, with its neighbours in the queue; returns
    /// the revision at which its effects are visible in the read model.
    pub(super) async fn commit(&self, batch: WriteBatch) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let requests = self.requests.as_ref().ok_or_else(stopped)?;
        requests
            .send(Request::Commit(batch, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs `chore` on the writer connection, between two groups.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        chore: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let requests = self.requests.as_ref().ok_or_else(stopped)?;
        let chore: Chore = Box::new(move |conn| {
            // The caller may have gone; nothing to tell it then.
            let _ = reply.send(chore(conn));
        });
        requests
            .send(Request::Chore(chore))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has written what was
        // queued, and the applier once it has answered it; waiting for
        // them means the connection is closed when the store is gone, so
        // the data directory can be reopened at once.
        self.requests = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Applies each written group to the read model, then answers its
/// callers, until the writer stops.
fn apply(model: &ReadModel, groups: &std::sync::mpsc::Receiver<Committed>) {
    for Committed { events, outcomes } in groups {
        if let Err(err) = model.apply(events) {
            // Only the writer numbers events, from the head it committed:
            // this cannot happen short of a bug, and serving reads that
            // miss commits would be worse than stopping.
            tracing::error!(%err, "the read model refused committed events");
            std::process::abort();
        }
        for (outcome, reply) in outcomes {
            // The caller may have gone; nothing to tell it then.
            let _ = reply.send(outcome);
        }
    }
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    head: u64,
    buffer: Vec<u8>,
    groups: Arc<AtomicU64>,
    applier: std::sync::mpsc::SyncSender<Committed>,
}

impl Writer {
    fn run(mut self, mut queue: mpsc::Receiver<Request>) {
        let mut batches = Vec::with_capacity(MAX_GROUP);
        while let Some(first) = queue.blocking_recv() {
            let mut chore = match first {
                Request::Chore(chore) => Some(chore),
                Request::Commit(batch, reply) => {
                    batches.push((batch, reply));
                    None
                }
            };
            while chore.is_none() && !batches.is_empty() && batches.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(Request::Commit(batch, reply)) => batches.push((batch, reply)),
                    Ok(Request::Chore(next)) => chore = Some(next),
                    Err(_) => break,
                }
            }
            if !batches.is_empty() {
                let committed = self.commit(&mut batches);
                if self.applier.send(committed).is_err() {
                    // The applier is gone (it aborts rather than stop):
                    // nothing more can be answered.
                    return;
                }
            }
            if let Some(chore) = chore {
                chore(&mut self.conn);
            }
        }
    }

    /// Commits `batches` in one transaction; returns what the applier
    /// must apply and answer.
    fn commit(&mut self, batches: &mut Vec<(WriteBatch, Reply)>) -> Committed {
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut events: Vec<LifecycleEvent> = Vec::new();
        let mut head = self.head;
        let transaction = self.execute("BEGIN IMMEDIATE").and_then(|()| {
            for (batch, reply) in batches.drain(..) {
                let outcome = self.write(batch, head)?.map(|written| {
                    head += written.len() as u64;
                    events.extend(written);
                    head
                });
                outcomes.push((outcome, reply));
            }
            self.execute("COMMIT")
        });
        if let Err(err) = transaction {
            // Nothing of the group is durable: every caller is told so.
            if !self.conn.is_autocommit() {
                let _ = self.execute("ROLLBACK");
            }
            tracing::error!(%err, "group commit failed");
            let outcomes = outcomes
                .into_iter()
                .map(|(_, reply)| reply)
                .chain(batches.drain(..).map(|(_, reply)| reply))
                .map(|reply| (Err(err.clone()), reply))
                .collect();
            return Committed {
                events: Vec::new(),
                outcomes,
            };
        }
        self.head = head;
        self.groups.fetch_add(1, Ordering::Relaxed);
        Committed { events, outcomes }
    }

    /// Writes one batch inside its own savepoint. The outer error aborts
    /// the whole group (the savepoint itself failed); the inner one is this
    /// batch's own failure, already rolled back, so it never fails its
    /// neighbours.
    fn write(
        &mut self,
        batch: WriteBatch,
        head: u64,
    ) -> Result<Result<Vec<LifecycleEvent>, StoreError>, StoreError> {
        self.execute("SAVEPOINT batch")?;
        let outcome = write::write_batch(&self.conn, batch, head, &mut self.buffer);
        if outcome.is_err() {
            self.execute("ROLLBACK TO batch")?;
        }
        self.execute("RELEASE batch")?;
        Ok(outcome)
    }

    fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([]))
            .map(drop)
            .map_err(map_err)
    }
}
