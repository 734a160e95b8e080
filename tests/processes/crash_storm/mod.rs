//! Crash storms: a wave of servers and incremental jobs runs to the end on
//! the simulator while `cutoverd` is killed with SIGKILL every 0.2–1 s and
//! restarted at once on the same socket. The wave must finish within a
//! bounded factor of the same wave without crashes, with every
//! acknowledged mutation in the log, revisions contiguous, and each
//! data-plane step run once and resumed, never redone (initiation steps,
//! bytes, run and task progress never go back).
//!
//! Sizes and pace come from the environment, so the same test is the
//! large storm of the README:
//! `CUTOVER_STORM_SERVERS=700 CUTOVER_STORM_JOBS=300 CUTOVER_STORM_KILL_MS=400
//! cargo test --release --test processes crash_storm:: -- --nocapture`.

mod audit;
mod driver;
mod storm;

use std::time::{Duration, Instant};

/// A size or pace from the environment, or its default.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The wave's shape.
#[derive(Debug, Clone, Copy)]
struct WaveSize {
    /// Servers taken through test and cutover to CUTOVER.
    servers: usize,
    /// Servers whose incremental job is cut over with a final sync.
    jobs: usize,
}

fn wave_size() -> WaveSize {
    WaveSize {
        servers: setting("CUTOVER_STORM_SERVERS", 40) as usize,
        jobs: setting("CUTOVER_STORM_JOBS", 15) as usize,
    }
}

/// Simulator speed of both runs.
const SIM_SPEED: &str = "60";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_finishes_through_a_crash_storm_with_nothing_lost_or_redone() {
    let size = wave_size();
    let calm = storm::Storm::calm(SIM_SPEED);
    let started = Instant::now();
    let calm_wave = driver::run_wave(&calm, size, Duration::from_secs(300)).await;
    let calm_time = started.elapsed();
    audit::check(&calm, &calm_wave).await;
    drop(calm);

    let mean_kill = Duration::from_millis(setting("CUTOVER_STORM_KILL_MS", 600));
    let seed = setting("CUTOVER_STORM_SEED", 7);
    // The storm's wave must finish within a bounded factor of the calm one.
    let bound = calm_time * 8 + Duration::from_secs(20);
    let storm = storm::Storm::raging(SIM_SPEED, mean_kill, seed);
    let started = Instant::now();
    let stormy_wave = driver::run_wave(&storm, size, bound).await;
    let storm_time = started.elapsed();
    let kills = storm.stop();
    audit::check(&storm, &stormy_wave).await;

    let ratio = storm_time.as_secs_f64() / calm_time.as_secs_f64().max(0.001);
    println!(
        "wave of {} servers and {} jobs: {calm_time:?} without crashes, {storm_time:?} \
         through {kills} kills (mean interval {mean_kill:?}, seed {seed}): {ratio:.1}x",
        size.servers, size.jobs
    );
    assert!(kills >= 3, "the storm killed the server only {kills} times");
}
