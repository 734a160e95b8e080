//! The background duties this replica performs: one lease per duty, kept
//! by one task each, and what the duties see of them.
//!
//! A duty runs only while its lease is held, and every write it makes
//! carries the lease's fence (see [`crate::store::Fence`]). Renewal comes
//! every third of the lease's time to live, so one slow round trip does not
//! lose it; an error reaching the store gives the duty up at once, since
//! this replica can no longer tell whether another took it over.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::store::{Fence, LeaseName, Store};

/// The fences of the leases this replica holds, as the keepers see them.
#[derive(Debug, Clone)]
pub struct Duties {
    held: Arc<HashMap<LeaseName, watch::Sender<Option<u64>>>>,
}

impl Default for Duties {
    fn default() -> Self {
        Duties {
            held: Arc::new(
                LeaseName::ALL
                    .into_iter()
                    .map(|name| (name, watch::channel(None).0))
                    .collect(),
            ),
        }
    }
}

impl Duties {
    /// The fence of `lease` if this replica holds it now.
    pub fn fence(&self, lease: LeaseName) -> Option<Fence> {
        let token = (*self.held.get(&lease)?.borrow())?;
        Some(Fence { lease, token })
    }

    /// Changes of `lease`'s fence: `None` while another replica holds it.
    pub fn watch(&self, lease: LeaseName) -> Option<watch::Receiver<Option<u64>>> {
        self.held.get(&lease).map(watch::Sender::subscribe)
    }

    fn set(&self, lease: LeaseName, fence: Option<u64>) {
        if let Some(sender) = self.held.get(&lease) {
            sender.send_if_modified(|held| {
                let changed = *held != fence;
                *held = fence;
                changed
            });
        }
    }

    /// Keeps every lease for `owner` until `shutdown`, then hands back the
    /// ones held so another replica takes them at once.
    pub async fn keep(
        self,
        store: Arc<dyn Store>,
        owner: String,
        ttl: Duration,
        shutdown: CancellationToken,
    ) {
        let mut interval = tokio::time::interval(ttl / 3);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = interval.tick() => {
                    for lease in LeaseName::ALL {
                        self.renew(store.as_ref(), lease, &owner, ttl).await;
                    }
                }
            }
        }
        for lease in LeaseName::ALL {
            if let Some(fence) = self.fence(lease) {
                self.set(lease, None);
                // An expired lease is free: a zero time to live releases it.
                let _ = store
                    .hold_lease(lease, &owner, Some(fence.token), Duration::ZERO)
                    .await;
            }
        }
    }

    async fn renew(&self, store: &dyn Store, lease: LeaseName, owner: &str, ttl: Duration) {
        let held = self.fence(lease).map(|f| f.token);
        match store.hold_lease(lease, owner, held, ttl).await {
            Ok(fence) => {
                if fence != held {
                    match fence {
                        Some(token) => tracing::info!(%lease, fence = token, "took the lease"),
                        None if held.is_some() => tracing::warn!(%lease, "lost the lease"),
                        None => {}
                    }
                }
                self.set(lease, fence);
            }
            Err(err) => {
                if held.is_some() {
                    tracing::warn!(%lease, %err, "cannot renew the lease; giving the duty up");
                }
                self.set(lease, None);
            }
        }
    }
}
