//! Group commit on PostgreSQL: one task per replica takes the batches
//! queued while its previous transaction was in flight and writes them in
//! one transaction:
//!
//! 1. lock the rows the group touches (`FOR UPDATE`, in key order, so
//!    replicas never deadlock on each other) and read what the checks need;
//! 2. decide each batch in Rust ([`group`](super::group)): those whose
//!    version, client token, unfinished-job rule or fence no longer fits
//!    get their own error, the rest are accepted;
//! 3. bump the revision counter by the accepted events' count, number
//!    them, write them with array parameters, and commit.
//!
//! A constraint violation or deadlock (another replica inserted the same
//! key meanwhile) fails the whole transaction: the group is then run again
//! one batch per transaction, so it fails only the batch it belongs to. A
//! connection lost during COMMIT is settled by waiting for the counter
//! row's lock and looking the group's commit id up in the log.
//!
//! Callers are answered by the log reader, once the read model applied
//! their revision; its notifier tells the other replicas.
//!
//! One group is in flight per replica. Two (the second locking and
//! checking its rows while the first waits for its flush) gained 5% with
//! one replica and lost 30% with three: more, smaller transactions
//! queueing on the counter row.

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::{
    sync::{mpsc, oneshot, watch, Notify},
    task::JoinHandle,
};

use super::{
    group::{self, Plan},
    map_err, pool_err,
    queries::{to_i64, to_u64},
    statements::{read_stored, write_rows},
    Answer, CHANNEL,
};
use crate::domain::LifecycleEvent;
use crate::store::{StoreError, WriteBatch};

/// Most batches committed in one transaction.
const MAX_GROUP: usize = 256;

/// Most requests waiting for the committer.
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<u64, StoreError>>;

/// The handle callers commit through.
pub(super) struct Committer {
    requests: mpsc::Sender<(WriteBatch, Reply)>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the store's committer has stopped".to_owned())
}

impl Committer {
    /// Starts the committer and its notifier; committed events go to
    /// `committed` and outcomes to `answers`, and `wake` tells the log
    /// reader a commit landed.
    pub(super) fn start(
        pool: Pool,
        committed: mpsc::UnboundedSender<Vec<LifecycleEvent>>,
        answers: mpsc::UnboundedSender<Answer>,
        wake: Arc<Notify>,
    ) -> (Committer, Vec<JoinHandle<()>>) {
        let (requests, queue) = mpsc::channel(QUEUE);
        let (heads, head) = watch::channel(0u64);
        let writer = Writer {
            pool: pool.clone(),
            committed,
            answers,
            wake,
            heads,
        };
        let tasks = vec![
            tokio::spawn(writer.run(queue)),
            tokio::spawn(notify_other_replicas(pool, head)),
        ];
        (Committer { requests }, tasks)
    }

    /// Commits `batch` durably, with its neighbours in the queue.
    pub(super) async fn commit(&self, batch: WriteBatch) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((batch, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Tells other replicas the head moved, outside any write transaction (a
/// NOTIFY inside one takes a database-wide lock through the commit's
/// flush), at most once per committed group.
async fn notify_other_replicas(pool: Pool, mut head: watch::Receiver<u64>) {
    while head.changed().await.is_ok() {
        let revision = *head.borrow_and_update();
        let sent = match pool.get().await {
            Ok(client) => client
                .execute(
                    "SELECT pg_notify($1, $2)",
                    &[&CHANNEL, &revision.to_string()],
                )
                .await
                .map(drop)
                .map_err(map_err),
            Err(err) => Err(pool_err(err)),
        };
        if let Err(err) = sent {
            // The others' fallback poll finds the commit anyway.
            tracing::debug!(%err, "cannot notify the other replicas");
        }
    }
}

/// How a group transaction failed.
enum Failed {
    /// Nothing was written; every batch gets this error.
    Nothing(StoreError),
    /// A constraint or deadlock failed the transaction: run the batches
    /// one by one.
    Rerun(StoreError),
}

/// A group's outcome: each batch's, and the revision the read model must
/// have applied before they are told.
struct Outcome {
    results: Vec<Result<u64, StoreError>>,
    through: u64,
}

struct Writer {
    pool: Pool,
    committed: mpsc::UnboundedSender<Vec<LifecycleEvent>>,
    answers: mpsc::UnboundedSender<Answer>,
    wake: Arc<Notify>,
    heads: watch::Sender<u64>,
}

impl Writer {
    async fn run(self, mut queue: mpsc::Receiver<(WriteBatch, Reply)>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while let Some(first) = queue.recv().await {
            group.push(first);
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            let (batches, replies): (Vec<_>, Vec<_>) = group.drain(..).unzip();
            let outcome = self.commit(&batches).await;
            // Only a group that wrote moves the head the others follow.
            self.heads.send_if_modified(|head| {
                let moved = outcome.through > *head;
                *head = (*head).max(outcome.through);
                moved
            });
            for (result, reply) in outcome.results.into_iter().zip(replies) {
                let answer = Answer {
                    through: outcome.through,
                    result,
                    reply,
                };
                if self.answers.send(answer).is_err() {
                    return;
                }
            }
            self.wake.notify_one();
        }
    }

    async fn commit(&self, batches: &[WriteBatch]) -> Outcome {
        match self.try_group(batches).await {
            Ok(outcome) => outcome,
            Err(Failed::Nothing(err)) => everyone(batches, &err),
            Err(Failed::Rerun(err)) if batches.len() == 1 => everyone(batches, &err),
            Err(Failed::Rerun(_)) => {
                let mut results = Vec::with_capacity(batches.len());
                let mut through = 0;
                for batch in batches {
                    let single = match self.try_group(std::slice::from_ref(batch)).await {
                        Ok(outcome) => outcome,
                        Err(Failed::Nothing(err) | Failed::Rerun(err)) => {
                            everyone(std::slice::from_ref(batch), &err)
                        }
                    };
                    through = through.max(single.through);
                    results.extend(single.results);
                }
                Outcome { results, through }
            }
        }
    }

    async fn try_group(&self, batches: &[WriteBatch]) -> Result<Outcome, Failed> {
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|err| Failed::Nothing(pool_err(err)))?;
        let tx = client.transaction().await.map_err(nothing)?;
        let stored = read_stored(&tx, &group::touched(batches))
            .await
            .map_err(classify)?;
        let plan = Plan::decide(batches, stored);
        let count = to_i64(plan.event_count() as u64);
        // The counter row is taken only now, after the locks and checks,
        // and held only through the inserts and the commit's flush.
        let head: i64 = match count {
            0 => tx.query_one("SELECT revision FROM log_head", &[]).await,
            _ => {
                tx.query_one(
                    "UPDATE log_head SET revision = revision + $1 WHERE id = 1 RETURNING revision",
                    &[&count],
                )
                .await
            }
        }
        .map_err(classify)?
        .get(0);
        let head = to_u64(head, "head revision").map_err(Failed::Nothing)?;
        if !plan.accepts_any() {
            // Every batch lost: the read model must catch up with what
            // they lost to before their callers decide again.
            return Ok(Outcome {
                results: plan.without_writes(head),
                through: head,
            });
        }
        let base = head - count.unsigned_abs();
        let (results, rows) = plan.finish(base);
        // Non-negative, so no two groups' ids differ only in sign.
        let commit_id = i64::try_from(rand::random::<u64>() >> 1).unwrap_or(i64::MAX);
        write_rows(&tx, &rows, commit_id, to_i64(base + 1))
            .await
            .map_err(classify)?;
        if let Err(err) = tx.commit().await {
            if err.as_db_error().is_some() {
                return Err(classify(err));
            }
            self.settle(commit_id).await.map_err(Failed::Nothing)?;
        }
        // Before the answers: the reader applies these without reading
        // them back. A reader that is gone has no one to answer either.
        let _ = self.committed.send(rows.committed);
        Ok(Outcome {
            results,
            through: head,
        })
    }

    /// Settles a commit whose answer was lost with the connection: once
    /// the counter row's lock is free, the transaction has either
    /// committed (its commit id is in the log) or not.
    async fn settle(&self, commit_id: i64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(map_err)?;
        tx.execute("SELECT 1 FROM log_head FOR UPDATE", &[])
            .await
            .map_err(map_err)?;
        let found = tx
            .query_opt("SELECT 1 FROM log WHERE commit_id = $1", &[&commit_id])
            .await
            .map_err(map_err)?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::Unavailable(
                "the connection to PostgreSQL was lost and the commit did not land".to_owned(),
            )),
        }
    }
}

fn everyone(batches: &[WriteBatch], err: &StoreError) -> Outcome {
    Outcome {
        results: batches.iter().map(|_| Err(err.clone())).collect(),
        through: 0,
    }
}

fn nothing(err: tokio_postgres::Error) -> Failed {
    Failed::Nothing(map_err(err))
}

/// An integrity violation (a key another replica inserted meanwhile) or a
/// deadlock is a batch's fault, to find by rerunning; anything else is the
/// database's.
fn classify(err: tokio_postgres::Error) -> Failed {
    let code = err.as_db_error().map(|db| db.code().code().to_owned());
    match code.as_deref() {
        Some(code) if code.starts_with("23") || code.starts_with("40") => {
            Failed::Rerun(StoreError::Conflict(err.to_string()))
        }
        _ => Failed::Nothing(map_err(err)),
    }
}
