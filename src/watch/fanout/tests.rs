//! The relays' lifecycle: retiring with their connection's last watcher,
//! and closing on drain. Event delivery through them is tested over gRPC
//! in `tests/watch.rs`.

use std::{
    net::SocketAddr,
    sync::{Arc, PoisonError},
    time::Duration,
};

use prometheus_client::metrics::counter::Counter;
use tokio_util::sync::CancellationToken;

use super::{ConnectionKey, Fanout};
use crate::store::{SqliteStore, Store};

const DEADLINE: Duration = Duration::from_secs(5);

fn fanout(dir: &tempfile::TempDir, drain: &CancellationToken) -> Fanout {
    let store = SqliteStore::open(&dir.path().join("cutover.db")).expect("store");
    let store: Arc<dyn Store> = Arc::new(store);
    Fanout::new(store, drain.clone(), Counter::default())
}

fn peer(port: u16) -> ConnectionKey {
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn relays(fanout: &Fanout) -> usize {
    fanout
        .groups
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len()
}

/// Waits until `fanout` has `count` relays, or fails at the deadline.
async fn until_relays(fanout: &Fanout, count: usize) {
    tokio::time::timeout(DEADLINE, async {
        while relays(fanout) != count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} relays, not {count}", relays(fanout)));
}

#[tokio::test]
async fn a_relay_retires_when_its_last_watcher_leaves_without_waiting_for_an_event() {
    let dir = tempfile::TempDir::new().expect("dir");
    let drain = CancellationToken::new();
    let fanout = fanout(&dir, &drain);
    let first = fanout.subscribe(peer(1));
    let second = fanout.subscribe(peer(1));
    let other = fanout.subscribe(peer(2));
    assert_eq!(relays(&fanout), 2, "one relay per connection");
    drop(first);
    tokio::task::yield_now().await;
    assert_eq!(relays(&fanout), 2, "a watcher is left on the connection");
    drop(second);
    until_relays(&fanout, 1).await;
    // The connection's next watcher gets a relay of its own again.
    let again = fanout.subscribe(peer(1));
    assert_eq!(relays(&fanout), 2);
    drop((again, other));
    until_relays(&fanout, 0).await;
}

#[tokio::test]
async fn a_drain_wakes_every_waiting_watcher_and_retires_the_relays() {
    let dir = tempfile::TempDir::new().expect("dir");
    let drain = CancellationToken::new();
    let fanout = fanout(&dir, &drain);
    let watchers = [
        fanout.subscribe(peer(1)),
        fanout.subscribe(peer(1)),
        fanout.subscribe(None),
    ];
    let mut waits: Vec<_> = watchers
        .iter()
        .map(|(_, membership)| Box::pin(membership.published()))
        .collect();
    for wait in &mut waits {
        wait.as_mut().enable();
    }
    assert!(watchers.iter().all(|(_, m)| !m.is_draining()));
    drain.cancel();
    for wait in waits {
        tokio::time::timeout(DEADLINE, wait)
            .await
            .expect("woken before the deadline");
    }
    assert!(watchers.iter().all(|(_, m)| m.is_draining()));
    until_relays(&fanout, 0).await;
}
