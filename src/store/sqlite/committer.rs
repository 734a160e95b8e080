//! Group commit: one thread owns the writer connection. It takes every
//! batch queued while its previous commit was in flight (up to
//! [`MAX_GROUP`]) and writes them in one transaction with one fsync. Each
//! batch runs inside its own savepoint, so a batch whose version check,
//! uniqueness rule or client token fails is rolled back alone and its
//! caller gets its own [`StoreError::Conflict`], while its neighbours
//! commit. Once the transaction is durable, the committed events are
//! applied to the read model (and so published to watchers) in revision
//! order, and only then is each caller answered: a caller that reads after
//! its mutation returned sees it.

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
    Commit(WriteBatch, oneshot::Sender<Result<u64, StoreError>>),
    Chore(Chore),
}

/// The handle callers use to reach the committer thread.
pub(super) struct Committer {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
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
        let groups = Arc::new(AtomicU64::new(0));
        let group = Group {
            conn,
            head,
            model,
            buffer: Vec::with_capacity(4096),
            groups: Arc::clone(&groups),
        };
        let thread = std::thread::Builder::new()
            .name("cutover-committer".to_owned())
            .spawn(move || group.run(queue))
            .map_err(|err| StoreError::Unavailable(format!("cannot start the committer: {err}")))?;
        Ok(Committer {
            requests: Some(requests),
            thread: Some(thread),
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
        // Closing the queue ends the thread once it has answered what was
        // queued; waiting for it means the connection is closed when the
        // store is gone, so the data directory can be reopened at once.
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The committer thread's state.
struct Group {
    conn: Connection,
    head: u64,
    model: Arc<ReadModel>,
    buffer: Vec<u8>,
    groups: Arc<AtomicU64>,
}

impl Group {
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
                self.commit(&mut batches);
            }
            if let Some(chore) = chore {
                chore(&mut self.conn);
            }
        }
    }

    /// Commits `batches` in one transaction and answers each caller.
    fn commit(
        &mut self,
        batches: &mut Vec<(WriteBatch, oneshot::Sender<Result<u64, StoreError>>)>,
    ) {
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut committed: Vec<LifecycleEvent> = Vec::new();
        let mut head = self.head;
        let transaction = self.execute("BEGIN IMMEDIATE").and_then(|()| {
            for (batch, reply) in batches.drain(..) {
                let outcome = self.write(batch, head)?.map(|events| {
                    head += events.len() as u64;
                    committed.extend(events);
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
            let replies = outcomes
                .into_iter()
                .map(|(_, reply)| reply)
                .chain(batches.drain(..).map(|(_, reply)| reply));
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
            return;
        }
        self.head = head;
        self.groups.fetch_add(1, Ordering::Relaxed);
        if let Err(err) = self.model.apply(committed) {
            // Only this thread writes and it numbers events from the head
            // it applied: this cannot happen short of a bug, and serving
            // reads that miss commits would be worse than stopping.
            tracing::error!(%err, "the read model refused committed events");
            std::process::abort();
        }
        for (outcome, reply) in outcomes {
            let _ = reply.send(outcome);
        }
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
