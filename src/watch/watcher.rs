//! One watcher: snapshot, then catch-up from the stored log, then live
//! events from the broadcast, falling back to the log whenever it lagged or
//! saw a gap. Revisions are delivered strictly in order, none twice.

use std::{collections::VecDeque, sync::Arc};

use futures_util::Stream;
use prometheus_client::metrics::counter::Counter;
use tokio::{
    sync::broadcast::{self, error::TryRecvError},
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use super::{
    fanout::Membership, snapshot::SnapshotWalk, ConnectionKey, Fanout, WatchError, WatchItem,
    WatchRequest,
};
use crate::store::{SharedEvent, Store, StoreError};

/// Events read from the log per round trip while catching up.
const CATCH_UP_BATCH: usize = 256;

/// Where the watcher reads its next events from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The stored log, until it has nothing from `next` on.
    Log,
    /// The live broadcast.
    Live,
}

pub(super) struct Watcher {
    store: Arc<dyn Store>,
    /// The store's events, read without waiting on them.
    live: broadcast::Receiver<Arc<SharedEvent>>,
    /// What a live watcher waits on instead: its connection's wake-ups.
    membership: Membership,
    request: WatchRequest,
    /// The next revision this watcher has not considered yet.
    next: u64,
    source: Source,
    /// The rest of the initial snapshot, sent before anything else.
    snapshot: Option<SnapshotWalk>,
    ready: VecDeque<WatchItem>,
    last_sent: Instant,
    /// The server's drain. Live watchers do not wait on it (that would
    /// take its lock per event and watcher): their connection's relay wakes
    /// them when it is cancelled.
    drain: CancellationToken,
    /// Raised each time this watcher falls out of the live window.
    fell_behind: Counter,
    ended: bool,
}

impl Watcher {
    pub(super) async fn open(
        fanout: &Fanout,
        connection: ConnectionKey,
        request: WatchRequest,
    ) -> Result<Watcher, WatchError> {
        // Subscribe before reading where to start, so nothing committed in
        // between is missed: anything older comes from the log.
        let (live, membership) = fanout.subscribe(connection);
        let store = Arc::clone(fanout.store());
        let model = store.read_model();
        let mut snapshot = None;
        let next = if request.send_initial_snapshot {
            let walk =
                SnapshotWalk::new(model.snapshot(&request.filter.account_id), &request.filter);
            let next = walk.revision() + 1;
            snapshot = Some(walk);
            next
        } else if request.start_revision == 0 {
            model.revision() + 1
        } else {
            let oldest = store.oldest_revision().await?;
            if request.start_revision < oldest {
                return Err(WatchError::RevisionCompacted {
                    requested: request.start_revision,
                    oldest,
                });
            }
            request.start_revision
        };
        // Nothing after the read model's revision is in the log yet, and
        // everything from now on comes through the live channel.
        let source = match next > model.revision() {
            true => Source::Live,
            false => Source::Log,
        };
        Ok(Watcher {
            store,
            live,
            membership,
            request,
            next,
            source,
            snapshot,
            ready: VecDeque::new(),
            last_sent: Instant::now(),
            drain: fanout.drain().clone(),
            fell_behind: fanout.fell_behind().clone(),
            ended: false,
        })
    }

    pub(super) fn into_stream(
        self,
    ) -> impl Stream<Item = Result<WatchItem, WatchError>> + Send + 'static {
        futures_util::stream::unfold(self, |mut watcher| async move {
            let item = watcher.next_item().await?;
            Some((item, watcher))
        })
    }

    async fn next_item(&mut self) -> Option<Result<WatchItem, WatchError>> {
        if self.ended {
            return None;
        }
        let outcome = self.advance().await;
        match &outcome {
            Ok(_) if self.request.progress_interval.is_some() => self.last_sent = Instant::now(),
            Ok(_) => {}
            Err(_) => self.ended = true,
        }
        Some(outcome)
    }

    /// The next item to send; waits for one when there is none.
    async fn advance(&mut self) -> Result<WatchItem, WatchError> {
        loop {
            if self.source == Source::Log && self.drain.is_cancelled() {
                return Err(self.shutting_down());
            }
            if let Some(item) = self.ready.pop_front() {
                return Ok(item);
            }
            if let Some(walk) = &mut self.snapshot {
                if !walk.step(&mut self.ready) {
                    self.snapshot = None;
                }
                continue;
            }
            match self.source {
                Source::Log => self.catch_up().await?,
                Source::Live => {
                    if let Some(item) = self.wait_live().await? {
                        return Ok(item);
                    }
                }
            }
            if let Some(bookmark) = self.due_bookmark() {
                return Ok(bookmark);
            }
        }
    }

    /// Reads one batch from the log; switches to live when it is drained.
    async fn catch_up(&mut self) -> Result<(), WatchError> {
        let events = self.store.events_from(self.next, CATCH_UP_BATCH).await?;
        let Some(first) = events.first() else {
            self.source = Source::Live;
            return Ok(());
        };
        if first.revision != self.next {
            // Compaction removed what this watcher still needed.
            return Err(WatchError::RevisionCompacted {
                requested: self.next,
                oldest: self.store.oldest_revision().await?,
            });
        }
        for event in events {
            self.next = event.revision + 1;
            if self.request.filter.matches(&event) {
                self.ready
                    .push_back(WatchItem::Event(Arc::new(SharedEvent::new(event))));
            }
        }
        Ok(())
    }

    /// Takes the next live event, waiting for one to be published if need
    /// be; `None` when the caller should look again (a bookmark fell due,
    /// an event was filtered out or the watcher must catch up).
    async fn wait_live(&mut self) -> Result<Option<WatchItem>, WatchError> {
        let mut received = self.live.try_recv();
        if matches!(received, Err(TryRecvError::Empty)) {
            let published = self.membership.published();
            tokio::pin!(published);
            published.as_mut().enable();
            // An event published between the first look and `enable` would
            // not wake this watcher: look again.
            received = self.live.try_recv();
            if matches!(received, Err(TryRecvError::Empty)) {
                if self.membership.is_draining() {
                    return Err(self.shutting_down());
                }
                let bookmark_at = self
                    .request
                    .progress_interval
                    .map(|interval| self.last_sent + interval);
                match bookmark_at {
                    Some(at) => tokio::select! {
                        () = tokio::time::sleep_until(at) => return Ok(None),
                        () = published => {}
                    },
                    None => published.await,
                }
                received = self.live.try_recv();
            }
        }
        self.accept(received)
    }

    /// Takes `received` from the live channel if it is the next revision.
    fn accept(
        &mut self,
        received: Result<Arc<SharedEvent>, TryRecvError>,
    ) -> Result<Option<WatchItem>, WatchError> {
        match received {
            Err(TryRecvError::Empty) => Ok(None),
            Ok(event) if event.revision < self.next => Ok(None),
            Ok(event) if event.revision == self.next => {
                self.next += 1;
                Ok(self
                    .request
                    .filter
                    .matches(&event)
                    .then_some(WatchItem::Event(event)))
            }
            // A gap: the missing revisions are in the log.
            Ok(_) | Err(TryRecvError::Lagged(_)) => {
                self.fell_behind.inc();
                self.source = Source::Log;
                Ok(None)
            }
            Err(TryRecvError::Closed) if self.drain.is_cancelled() => Err(self.shutting_down()),
            Err(TryRecvError::Closed) => {
                Err(StoreError::Unavailable("the event log closed".into()).into())
            }
        }
    }

    fn shutting_down(&self) -> WatchError {
        WatchError::ShuttingDown {
            resume_from: self.next,
        }
    }

    fn due_bookmark(&self) -> Option<WatchItem> {
        let interval = self.request.progress_interval?;
        (self.last_sent.elapsed() >= interval).then(|| WatchItem::Bookmark(self.next - 1))
    }
}
