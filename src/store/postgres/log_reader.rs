//! Each replica's log reader: follows the shared log into the read model
//! (and so to the replica's watchers), and answers the replica's
//! committers' callers once their revision is applied.
//!
//! It reads when woken by a local commit, by a notification from another
//! replica's commit (LISTEN on its own connection), or by the fallback
//! poll, which also covers notifications lost while the listening
//! connection was down. Every read asks for the events after the last one
//! applied: commits become visible in revision order, so what it finds is
//! always the next gap-free run.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use deadpool_postgres::Pool;
use futures_util::future::poll_fn;
use tokio::{
    sync::{mpsc, oneshot, Notify},
    task::JoinHandle,
};
use tokio_postgres::{AsyncMessage, NoTls};

use super::{pool_err, queries, Answer, CHANNEL};
use crate::domain::LifecycleEvent;
use crate::store::{ReadModel, StoreError};

/// Most events read per query.
const READ_BATCH: usize = 2048;

/// The reader, before it starts.
pub(super) struct LogReader {
    pool: Pool,
    config: tokio_postgres::Config,
    model: Arc<ReadModel>,
    poll: Duration,
    answers: mpsc::UnboundedReceiver<Answer>,
    /// This replica's own commits' events, in revision order.
    committed: mpsc::UnboundedReceiver<Vec<LifecycleEvent>>,
    /// Those not applied yet: applied from here, never read back.
    local: VecDeque<LifecycleEvent>,
    wake: Arc<Notify>,
}

/// The channels a reader is fed through: this replica's committed events,
/// its callers' answers, and the wake-up.
type Feeds = (
    mpsc::UnboundedSender<Vec<LifecycleEvent>>,
    mpsc::UnboundedSender<Answer>,
    Arc<Notify>,
);

impl LogReader {
    /// A reader applying to `model`; returns it with what feeds it.
    pub(super) fn new(
        pool: Pool,
        config: tokio_postgres::Config,
        model: Arc<ReadModel>,
        poll: Duration,
    ) -> (LogReader, Feeds) {
        let (answers_in, answers) = mpsc::unbounded_channel();
        let (committed_in, committed) = mpsc::unbounded_channel();
        let wake = Arc::new(Notify::new());
        let reader = LogReader {
            pool,
            config,
            model,
            poll,
            answers,
            committed,
            local: VecDeque::new(),
            wake: Arc::clone(&wake),
        };
        (reader, (committed_in, answers_in, wake))
    }

    /// Starts the reader and its listener.
    pub(super) fn start(self) -> Vec<JoinHandle<()>> {
        let listener = tokio::spawn(listen(self.config.clone(), Arc::clone(&self.wake)));
        vec![listener, tokio::spawn(self.run())]
    }

    async fn run(mut self) {
        let mut waiting: BTreeMap<u64, Vec<Answer>> = BTreeMap::new();
        loop {
            let woken = tokio::select! {
                answer = self.answers.recv() => match answer {
                    Some(answer) => {
                        waiting.entry(answer.through).or_default().push(answer);
                        false
                    }
                    None => return,
                },
                () = self.wake.notified() => true,
                () = tokio::time::sleep(self.poll) => true,
            };
            while let Ok(answer) = self.answers.try_recv() {
                waiting.entry(answer.through).or_default().push(answer);
            }
            while let Ok(events) = self.committed.try_recv() {
                // One group at a time: they come in revision order.
                self.local.extend(events);
            }
            let behind = waiting
                .last_key_value()
                .is_some_and(|(&through, _)| through > self.model.revision());
            if woken || behind {
                if let Err(err) = self.catch_up().await {
                    tracing::warn!(%err, "cannot read the shared log; retrying");
                }
            }
            let applied = self.model.revision();
            let later = waiting.split_off(&(applied + 1));
            for answer in std::mem::replace(&mut waiting, later)
                .into_values()
                .flatten()
            {
                // The caller may have gone; nothing to tell it then.
                let _ = answer.reply.send(answer.result);
            }
        }
    }

    /// Applies every event committed after the last one applied: this
    /// replica's own from memory, the others' read from the log. Every
    /// revision below one of its own commits is committed and visible
    /// already (the counter row orders commits), so the reads between two
    /// of its own runs find everything they need.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        let mut client = None;
        loop {
            let next = self.model.revision() + 1;
            while self.local.front().is_some_and(|e| e.revision < next) {
                self.local.pop_front();
            }
            let own = self
                .local
                .iter()
                .enumerate()
                .take_while(|&(i, e)| e.revision == next + i as u64)
                .count();
            if own > 0 {
                let run: Vec<LifecycleEvent> = self.local.drain(..own).collect();
                self.apply(run);
                continue;
            }
            let before = self.local.front().map(|e| e.revision);
            let client = match &mut client {
                Some(client) => client,
                None => client.insert(self.pool.get().await.map_err(pool_err)?),
            };
            let events = queries::events_between(&*client, next, before, READ_BATCH).await?;
            let count = events.len();
            self.apply(events);
            if count < READ_BATCH && before.is_none() {
                return Ok(());
            }
            if count == 0 {
                // Our own next run is not adjacent yet and nothing lies
                // between: cannot happen while the counter orders commits.
                return Err(StoreError::Unavailable(format!(
                    "the log has no revision {next} yet this replica committed {before:?}"
                )));
            }
        }
    }

    fn apply(&self, events: Vec<LifecycleEvent>) {
        if let Err(err) = self.model.apply(events) {
            // Compaction deleted events this replica had not read: its
            // read model can no longer follow the log. Serving reads that
            // miss commits would be worse than stopping; a restart loads
            // the current state.
            tracing::error!(%err, "this replica fell behind the compacted log");
            std::process::abort();
        }
    }
}

/// Listens for other replicas' commits on a connection of its own, waking
/// the reader for each, and once more after every (re)connection, since
/// notifications sent meanwhile are lost.
async fn listen(config: tokio_postgres::Config, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (closed, mut done) = oneshot::channel::<()>();
                let notified = Arc::clone(&wake);
                let driver = tokio::spawn(async move {
                    while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
                        match message {
                            Ok(AsyncMessage::Notification(_)) => notified.notify_one(),
                            Ok(_) => {}
                            Err(err) => {
                                tracing::debug!(%err, "the listening connection failed");
                                break;
                            }
                        }
                    }
                    let _ = closed.send(());
                });
                if client
                    .batch_execute(&format!("LISTEN {CHANNEL}"))
                    .await
                    .is_ok()
                {
                    backoff = Duration::from_millis(100);
                    wake.notify_one();
                    let _ = (&mut done).await;
                }
                driver.abort();
            }
            Err(err) => tracing::debug!(%err, "cannot open the listening connection"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
