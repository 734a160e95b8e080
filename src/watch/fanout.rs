//! Wake-ups of live watchers, grouped by the connection that carries them.
//!
//! Each HTTP/2 connection writes its streams' frames from one connection
//! task, which flushes whatever is queued each time it runs. Woken straight
//! by the store's channel, 10,000 watchers on 100 connections were woken in
//! an order that interleaved connections, and each connection task ran, and
//! wrote, after every two or three of its streams: about 43 `writev`s per
//! connection per event in the fan-out benchmark, over a quarter of the
//! server's CPU.
//!
//! So a watcher reads events from its own receiver of the store's channel
//! (whose capacity is its window before it must catch up from the log) but
//! never waits on it: it waits on its connection's [`Group`], which one
//! relay per connection notifies for each event. A connection's watchers
//! are then woken together, and their connection task writes them in one go.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, PoisonError, Weak,
    },
};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::{
    broadcast::{self, error::RecvError},
    futures::Notified,
    Notify,
};
use tokio_util::sync::CancellationToken;

use crate::store::{SharedEvent, Store};

/// The connection a watch arrived on: its peer address, or `None` for
/// transports without one (in-process), which share one group.
pub type ConnectionKey = Option<SocketAddr>;

type Groups = Mutex<HashMap<ConnectionKey, Arc<Group>>>;

/// The live watchers of one connection.
#[derive(Debug, Default)]
struct Group {
    /// Notified, to every waiting watcher at once, when an event was
    /// published or the server drains.
    published: Notify,
    /// Set when the server drains.
    draining: AtomicBool,
    /// Watchers in the group; only incremented under the groups' lock.
    members: AtomicUsize,
    /// Told when `members` drops to zero, so the relay can retire.
    emptied: Notify,
}

/// A watcher's place in its connection's group; dropping it leaves.
#[derive(Debug)]
pub(super) struct Membership(Arc<Group>);

impl Membership {
    /// Completes at the next event or drain, once enabled or polled.
    pub(super) fn published(&self) -> Notified<'_> {
        self.0.published.notified()
    }

    /// The server drains: live watchers must end.
    pub(super) fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if self.0.members.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A permit if the relay is busy: it sees it at its next wait.
            self.0.emptied.notify_one();
        }
    }
}

/// The store's events, and the per-connection relays that wake watchers.
#[derive(Clone)]
pub struct Fanout {
    store: Arc<dyn Store>,
    drain: CancellationToken,
    fell_behind: Counter,
    groups: Arc<Groups>,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout").finish_non_exhaustive()
    }
}

impl Fanout {
    /// Fan-out of `store`'s committed events, until `drain` is cancelled:
    /// then every live watcher ends with
    /// [`super::WatchError::ShuttingDown`]. Raises `fell_behind`
    /// each time a watcher falls out of the live window.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, drain: CancellationToken, fell_behind: Counter) -> Self {
        Fanout {
            store,
            drain,
            fell_behind,
            groups: Arc::default(),
        }
    }

    /// The server's drain.
    pub(super) fn drain(&self) -> &CancellationToken {
        &self.drain
    }

    /// Counts a watcher that fell out of the live window.
    pub(super) fn fell_behind(&self) -> &Counter {
        &self.fell_behind
    }

    /// The store events are read from when a watcher is behind.
    pub(super) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A receiver of every event committed from now on, to read with
    /// `try_recv`, and the watcher's membership of `connection`'s group,
    /// to wait on. Must be called before the watcher reads where it starts.
    pub(super) fn subscribe(
        &self,
        connection: ConnectionKey,
    ) -> (broadcast::Receiver<Arc<SharedEvent>>, Membership) {
        let live = self.store.read_model().subscribe();
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let group = match groups.get(&connection) {
            Some(group) => Arc::clone(group),
            None => {
                let group = Arc::new(Group::default());
                groups.insert(connection, Arc::clone(&group));
                tokio::spawn(relay(
                    self.store.read_model().subscribe(),
                    Arc::clone(&group),
                    connection,
                    Arc::downgrade(&self.groups),
                    self.drain.clone(),
                ));
                group
            }
        };
        group.members.fetch_add(1, Ordering::AcqRel);
        (live, Membership(group))
    }
}

/// Wakes `group`'s waiting watchers at each event, until the store's
/// channel closes, the server drains (waking them one last time) or the
/// connection's last watcher leaves (at once, not at the next event:
/// connections that come and go in a quiet period must not pile up
/// relays). A lagging relay still wakes them: they notice the gap.
async fn relay(
    mut upstream: broadcast::Receiver<Arc<SharedEvent>>,
    group: Arc<Group>,
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
            () = group.emptied.notified() => {
                if retire(&groups, connection, &group, Retire::IfEmpty) {
                    return;
                }
            }
            received = upstream.recv() => match received {
                Ok(_) | Err(RecvError::Lagged(_)) => group.published.notify_waiters(),
                Err(RecvError::Closed) => break,
            },
        }
    }
    group.draining.store(true, Ordering::Release);
    group.published.notify_waiters();
    retire(&groups, connection, &group, Retire::Always);
}

/// When a relay may leave the connection's map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retire {
    /// Only if nobody joined since its last watcher left.
    IfEmpty,
    /// In any case: the relay stops.
    Always,
}

/// Removes `group` from the map, under the lock `subscribe` joins under,
/// so that no watcher joins a retired group. False if it was kept.
fn retire(
    groups: &Weak<Groups>,
    connection: ConnectionKey,
    group: &Arc<Group>,
    when: Retire,
) -> bool {
    let Some(groups) = groups.upgrade() else {
        return true;
    };
    let mut groups = groups.lock().unwrap_or_else(PoisonError::into_inner);
    if when == Retire::IfEmpty && group.members.load(Ordering::Acquire) > 0 {
        return false;
    }
    if groups
        .get(&connection)
        .is_some_and(|current| Arc::ptr_eq(current, group))
    {
        groups.remove(&connection);
    }
    true
}

#[cfg(test)]
mod tests;
