//! What every load task shares: settings, connections, known ids, the
//! state tracker, the statistics and the stop signal; and the pacing and
//! in-flight limit of open-loop load.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use cutover::pb::v1::{
    replication_job_service_client::ReplicationJobServiceClient,
    source_server_service_client::SourceServerServiceClient,
};
use rand::{seq::SliceRandom, Rng};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::soak::{args::Args, stats::Stats, tracker::Tracker};

/// Most recently registered ids kept for reads.
const RECENT: usize = 10_000;
/// How often a pacer wakes up to issue what is due.
const PACER_TICK: Duration = Duration::from_millis(1);

/// Ids the load works on.
#[derive(Default)]
pub(crate) struct Ids {
    /// The rehearsal pool, set once it replicates.
    pub(crate) pool: OnceLock<Vec<String>>,
    /// Servers registered by flows, newest last.
    recent: Mutex<VecDeque<String>>,
    /// Servers in a flow that gives their agent commands (a cutover with
    /// follow-up tasks, a replication job).
    active: Mutex<Vec<String>>,
}

impl Ids {
    /// Remembers a newly registered server for reads.
    pub(crate) fn registered(&self, id: &str) {
        let mut recent = self.recent.lock().expect("ids poisoned");
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(id.to_owned());
    }

    /// A random known server id: from the pool or a flow.
    pub(crate) fn any(&self) -> Option<String> {
        let mut rng = rand::thread_rng();
        let pool = self.pool.get().map_or(&[][..], Vec::as_slice);
        let recent = self.recent.lock().expect("ids poisoned");
        let at = rng.gen_range(0..(pool.len() + recent.len()).max(1));
        match pool.get(at) {
            Some(id) => Some(id.clone()),
            None => recent.get(at - pool.len()).cloned(),
        }
    }

    /// Up to `n` random pool ids.
    pub(crate) fn pool_sample(&self, n: usize) -> Vec<String> {
        let pool = self.pool.get().map_or(&[][..], Vec::as_slice);
        pool.choose_multiple(&mut rand::thread_rng(), n)
            .cloned()
            .collect()
    }

    /// Marks `id` as having agent work (or no more).
    pub(crate) fn set_active(&self, id: &str, active: bool) {
        let mut ids = self.active.lock().expect("ids poisoned");
        if active {
            ids.push(id.to_owned());
        } else if let Some(at) = ids.iter().position(|known| known == id) {
            ids.swap_remove(at);
        }
    }

    /// A random server with agent work, if any.
    pub(crate) fn any_active(&self) -> Option<String> {
        let ids = self.active.lock().expect("ids poisoned");
        ids.choose(&mut rand::thread_rng()).cloned()
    }
}

/// Shared by every load task.
pub(crate) struct Ctx {
    /// Settings.
    pub(crate) args: Args,
    /// What was measured.
    pub(crate) stats: Stats,
    /// States of the resources flows wait on.
    pub(crate) tracker: Tracker,
    /// Known ids.
    pub(crate) ids: Ids,
    /// Connections of the unary load.
    pub(crate) channels: Vec<Channel>,
    /// `http://ADDR` of the server, for agents that reconnect.
    pub(crate) endpoint: String,
    /// Cancelled at the end of the run.
    pub(crate) stop: CancellationToken,
    /// Reads in flight.
    pub(crate) reads_in_flight: Arc<Semaphore>,
    /// Flows and rehearsal steps in flight.
    pub(crate) flows_in_flight: Arc<Semaphore>,
}

impl Ctx {
    /// One of the load connections, at random.
    pub(crate) fn channel(&self) -> Channel {
        self.channels
            .choose(&mut rand::thread_rng())
            .expect("at least one load connection")
            .clone()
    }

    /// A SourceServerService client on a random load connection.
    pub(crate) fn servers(&self) -> SourceServerServiceClient<Channel> {
        SourceServerServiceClient::new(self.channel())
    }

    /// A ReplicationJobService client on a random load connection.
    pub(crate) fn jobs(&self) -> ReplicationJobServiceClient<Channel> {
        ReplicationJobServiceClient::new(self.channel())
    }
}

/// A client token for half of the mutations (as the SDKs send), empty
/// for the others.
pub(crate) fn client_token() -> String {
    let mut rng = rand::thread_rng();
    if rng.gen_bool(0.5) {
        format!("soak-{:032x}", rng.gen::<u128>())
    } else {
        String::new()
    }
}

/// Calls `each` `rate` times a second until `stop`, evenly, whatever the
/// calls take (open-loop load: a slow server does not slow the load down).
pub(crate) async fn paced(rate: f64, stop: &CancellationToken, mut each: impl FnMut()) {
    if rate <= 0.0 {
        return;
    }
    let started = Instant::now();
    let mut issued = 0u64;
    let mut ticks = tokio::time::interval(PACER_TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {
                let due = (started.elapsed().as_secs_f64() * rate) as u64;
                while issued < due {
                    issued += 1;
                    each();
                }
            }
        }
    }
}

/// Spawns `work` if `limit` has room, else counts it as skipped.
pub(crate) fn spawn_limited(
    ctx: &Arc<Ctx>,
    limit: &Arc<Semaphore>,
    work: impl Future<Output = ()> + Send + 'static,
) {
    match Arc::clone(limit).try_acquire_owned() {
        Ok(permit) => {
            tokio::spawn(async move {
                work.await;
                drop(permit);
            });
        }
        Err(_) => {
            ctx.stats
                .skipped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
