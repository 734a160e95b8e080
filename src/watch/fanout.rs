//! Live events to watchers, grouped by the connection that carries them.
//!
//! Each HTTP/2 connection writes its streams' frames from one connection
//! task, which flushes whatever is queued each time it runs. Had every
//! watcher subscribed to the store's channel directly, one event would wake
//! the 10,000 watchers of 100 connections in an order that interleaves
//! connections, and each connection task would run, and write, after every
//! two or three of its streams: about 43 `writev`s per connection per event
//! in the fan-out benchmark, over a quarter of the server's CPU. Here one relay per
//! connection forwards each event to a channel of that connection's
//! watchers only, so they are woken together and their connection task
//! writes them in one go. The relay also gives the connection's watchers
//! one [`SharedEvent`] per event, so that it is encoded once per connection.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError, Weak},
};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::SharedEvent;
use crate::{domain::LifecycleEvent, store::Store};

/// Events a connection's channel holds for its slowest watcher; one that
/// lags further reads the missing range from the log. Small: tokio
/// allocates and touches every slot up front (1024 slots were 48 KiB per
/// connection), and a watcher whose consumer is that far behind reads
/// from the log anyway.
const CONNECTION_CHANNEL_CAPACITY: usize = 128;

/// The connection a watch arrived on: its peer address, or `None` for
/// transports without one (in-process), which share one group.
pub type ConnectionKey = Option<SocketAddr>;

type Groups = Mutex<HashMap<ConnectionKey, broadcast::Sender<Arc<SharedEvent>>>>;

/// The relays from the store's channel to per-connection channels.
#[derive(Clone)]
pub struct Fanout {
    store: Arc<dyn Store>,
    drain: CancellationToken,
    groups: Arc<Groups>,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout").finish_non_exhaustive()
    }
}

impl Fanout {
    /// Relays of `store`'s committed events, until `drain` is cancelled:
    /// then each relay closes its channel, which ends its watchers with
    /// [`crate::domain::DomainError::ShuttingDown`].
    #[must_use]
    pub fn new(store: Arc<dyn Store>, drain: CancellationToken) -> Self {
        Fanout {
            store,
            drain,
            groups: Arc::default(),
        }
    }

    /// The server's drain.
    pub(super) fn drain(&self) -> &CancellationToken {
        &self.drain
    }

    /// The store events are read from when a watcher is behind.
    pub(super) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A receiver of every event committed from now on (the relay may still
    /// deliver a few older ones, which the watcher skips by revision).
    /// Must be called before the watcher reads where it starts.
    pub(super) fn subscribe(
        &self,
        connection: ConnectionKey,
    ) -> broadcast::Receiver<Arc<SharedEvent>> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(group) = groups.get(&connection) {
            return group.subscribe();
        }
        let (group, receiver) = broadcast::channel(CONNECTION_CHANNEL_CAPACITY);
        // The relay subscribes now, under the lock: every event committed
        // after this call reaches the new receiver.
        let upstream = self.store.subscribe();
        groups.insert(connection, group.clone());
        tokio::spawn(relay(
            upstream,
            group,
            connection,
            Arc::downgrade(&self.groups),
            self.drain.clone(),
        ));
        receiver
    }
}

/// Forwards events until the store's channel closes, the server drains or
/// the connection's last watcher leaves (at once, not at the next event:
/// connections that come and go in a quiet period must not pile up
/// relays). A relay that lagged forwards what it still gets: its watchers
/// see the gap by revision and read it from the log.
async fn relay(
    mut upstream: broadcast::Receiver<Arc<LifecycleEvent>>,
    group: broadcast::Sender<Arc<SharedEvent>>,
    connection: ConnectionKey,
    groups: Weak<Groups>,
    drain: CancellationToken,
) {
    let drained = drain.cancelled();
    tokio::pin!(drained);
    loop {
        tokio::select! {
            biased;
            () = &mut drained => break,
            () = group.closed() => {
                if retire(&groups, connection, &group, Retire::IfUnwatched) {
                    return;
                }
            }
            received = upstream.recv() => match received {
                // With no receiver left, `closed` fires next and retires.
                Ok(event) => drop(group.send(Arc::new(SharedEvent::new(event)))),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    retire(&groups, connection, &group, Retire::Always);
}

/// When a relay may leave the connection's map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retire {
    /// Only if nobody subscribed since its last watcher left.
    IfUnwatched,
    /// In any case: the relay stops.
    Always,
}

/// Removes `group` from the map, under the lock `subscribe` takes, so that
/// no watcher joins a retired group. False if it was kept.
fn retire(
    groups: &Weak<Groups>,
    connection: ConnectionKey,
    group: &broadcast::Sender<Arc<SharedEvent>>,
    when: Retire,
) -> bool {
    let Some(groups) = groups.upgrade() else {
        return true;
    };
    let mut groups = groups.lock().unwrap_or_else(PoisonError::into_inner);
    if when == Retire::IfUnwatched && group.receiver_count() > 0 {
        return false;
    }
    if groups
        .get(&connection)
        .is_some_and(|current| current.same_channel(group))
    {
        groups.remove(&connection);
    }
    true
}

#[cfg(test)]
mod tests;
