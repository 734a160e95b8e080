//! Polling with a deadline: how the tests wait for anything, instead of
//! sleeping.

use std::{
    future::Future,
    time::{Duration, Instant},
};

/// Deadline for anything the simulator drives in tests.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How often [`eventually`] probes.
const INTERVAL: Duration = Duration::from_millis(10);

/// Fails the test once `deadline` has passed since `start`.
fn assert_in_time(start: Instant, deadline: Duration, what: &str) {
    assert!(
        start.elapsed() < deadline,
        "timed out after {deadline:?} waiting for {what}"
    );
}

/// Polls `probe` every 10 ms until it returns `Some`, failing after
/// `deadline` with `what` in the message.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_every(INTERVAL, deadline, what, probe).await
}

/// Polls `probe` every `interval` until it returns `Some`, failing after
/// `deadline` with `what` in the message.
pub async fn eventually_every<T, F, Fut>(
    interval: Duration,
    deadline: Duration,
    what: &str,
    mut probe: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert_in_time(start, deadline, what);
        tokio::time::sleep(interval).await;
    }
}

/// [`eventually`] for synchronous tests: polls `probe` every 20 ms,
/// blocking the thread in between.
pub fn eventually_blocking<T>(
    deadline: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert_in_time(start, deadline, what);
        std::thread::sleep(2 * INTERVAL);
    }
}
