//! Retention of stored data: the event log keeps the newest events by
//! count and by age, and client tokens are forgotten after a while; older
//! ones are deleted in the background. A watcher asking for a compacted
//! revision is told the oldest one kept; a retry with a forgotten client
//! token is a new call.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    background::Duties,
    domain::{Millis, Timestamp},
    store::{LeaseName, Store},
};

/// How much of the stored history is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Most events kept.
    pub max_events: u64,
    /// Oldest event kept, by age; `None` for no age limit.
    pub max_age: Option<Millis>,
    /// How long a client token is remembered.
    pub client_tokens: Millis,
    /// How often the old data is deleted: a token lives up to this much
    /// longer than its retention.
    pub interval: Duration,
}

/// Deletes what `retention` no longer keeps, every `retention.interval`
/// while this replica holds the retention lease, until `shutdown`.
pub async fn run_retention(
    store: Arc<dyn Store>,
    retention: Retention,
    duties: Duties,
    now: impl Fn() -> Timestamp + Send + 'static,
    shutdown: CancellationToken,
) {
    let mut interval = tokio::time::interval(retention.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {
                let Some(fence) = duties.fence(LeaseName::Retention) else { continue };
                let now = now();
                let older_than = retention.max_age.map(|age| Timestamp(now.0.saturating_sub(age.0)));
                match store.compact_events(retention.max_events, older_than, Some(fence)).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "compacted the event log"),
                    Err(err) => tracing::warn!(%err, "event log compaction failed"),
                }
                let cutoff = Timestamp(now.0.saturating_sub(retention.client_tokens.0));
                match store.forget_client_tokens(cutoff, Some(fence)).await {
                    Ok(0) => {}
                    Ok(forgotten) => tracing::debug!(forgotten, "forgot old client tokens"),
                    Err(err) => tracing::warn!(%err, "forgetting client tokens failed"),
                }
            }
        }
    }
}
