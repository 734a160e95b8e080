//! Event retention: the log keeps the newest events by count and by age;
//! older ones are compacted away in the background. A watcher asking for a
//! compacted revision is told the oldest one kept.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    domain::{Millis, Timestamp},
    store::Store,
};

/// How much of the event log is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Most events kept.
    pub max_events: u64,
    /// Oldest event kept, by age; `None` for no age limit.
    pub max_age: Option<Millis>,
    /// How often compaction runs.
    pub interval: Duration,
}

/// Compacts the log every `retention.interval` until `shutdown`.
pub async fn run_compaction(
    store: Arc<dyn Store>,
    retention: Retention,
    now: impl Fn() -> Timestamp + Send + 'static,
    shutdown: CancellationToken,
) {
    let mut interval = tokio::time::interval(retention.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {
                let older_than = retention.max_age.map(|age| Timestamp(now().0.saturating_sub(age.0)));
                match store.compact_events(retention.max_events, older_than).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "compacted the event log"),
                    Err(err) => tracing::warn!(%err, "event log compaction failed"),
                }
            }
        }
    }
}
