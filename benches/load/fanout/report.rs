//! Statistics of a run (ordering check, latency percentiles, per-event
//! fan-out times) and their printing.

use std::time::{Duration, Instant};

use crate::fanout::{driver::Drive, watchers::Received};

/// Latency figures of one run.
pub(crate) struct RunFigures {
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    p999: Duration,
    max: Duration,
    pub(crate) deliveries: usize,
    /// From the first call issued to the last delivery.
    span: Duration,
    pub(crate) all_in_order: bool,
    /// Watchers that did not get exactly M gap-free, in-order events.
    bad_watchers: usize,
    /// First problems found, for the report.
    problems: Vec<String>,
    /// Per event k: latency of its first and of its last delivery (the
    /// moment the fan-out of that event was complete).
    per_event: Vec<(Duration, Duration)>,
}

/// Checks every watcher's events and computes the latency distribution.
/// Watcher 0 kept details; its first event fixes the first revision.
pub(crate) fn figures(received: &[Received], run: &Drive) -> RunFigures {
    let m = run.sent_at.len();
    let mut problems = Vec::new();
    let mut first_revision = None;
    if let Some(checker) = received.first() {
        if let (Some(details), Some(&(revision, _))) = (&checker.details, checker.events.first()) {
            first_revision = Some(revision);
            for (k, (got, want)) in details.iter().zip(&run.expected).enumerate() {
                if got != want {
                    problems.push(format!(
                        "event {k}: got {got:?}, the driver's call {k} should have made {want:?}"
                    ));
                    break;
                }
            }
        }
    }
    // Fall back to the smallest first revision anyone saw.
    let first_revision = first_revision
        .or_else(|| {
            received
                .iter()
                .filter_map(|r| r.events.first())
                .map(|e| e.0)
                .min()
        })
        .unwrap_or(0);

    let mut latencies: Vec<u64> = Vec::with_capacity(received.len() * m);
    let mut per_event = vec![(Duration::MAX, Duration::ZERO); m];
    let mut bad_watchers = 0;
    let mut last_delivery = run.sent_at.first().copied().unwrap_or_else(Instant::now);
    for (w, r) in received.iter().enumerate() {
        let mut ok = r.events.len() == m && r.error.is_none();
        for (k, &(revision, at)) in r.events.iter().enumerate() {
            if revision != first_revision + k as u64 {
                if ok && problems.len() < 10 {
                    problems.push(format!(
                        "watcher {w}: event {k} has revision {revision}, expected {}",
                        first_revision + k as u64
                    ));
                }
                ok = false;
            }
            let Some(index) = revision.checked_sub(first_revision) else {
                continue;
            };
            let Some(&sent) = run.sent_at.get(index as usize) else {
                continue;
            };
            let latency = at.saturating_duration_since(sent);
            latencies.push(latency.as_nanos() as u64);
            let slot = &mut per_event[index as usize];
            *slot = (slot.0.min(latency), slot.1.max(latency));
            last_delivery = last_delivery.max(at);
        }
        if r.events.len() != m && problems.len() < 10 {
            problems.push(format!(
                "watcher {w}: {} of {m} events ({})",
                r.events.len(),
                r.error.as_deref().unwrap_or("no error")
            ));
        }
        if !ok {
            bad_watchers += 1;
        }
    }
    latencies.sort_unstable();
    let pick = |q: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        Duration::from_nanos(latencies[rank - 1])
    };
    RunFigures {
        p50: pick(0.50),
        p99: pick(0.99),
        p999: pick(0.999),
        max: pick(1.0),
        deliveries: latencies.len(),
        span: last_delivery.saturating_duration_since(run.sent_at[0]),
        all_in_order: bad_watchers == 0 && problems.is_empty(),
        bad_watchers,
        problems,
        per_event,
    }
}

/// A duration in milliseconds, three decimals.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Prints the figures of one run, each line prefixed with `[label]`.
pub(crate) fn print_run(label: &str, figures: &RunFigures, watchers: usize, m: usize) {
    println!(
        "[{label}] delivery latency over {} deliveries ({watchers} watchers x {m} events): \
         p50 {}  p99 {}  p99.9 {}  max {}",
        figures.deliveries,
        ms(figures.p50),
        ms(figures.p99),
        ms(figures.p999),
        ms(figures.max)
    );
    let rate = figures.deliveries as f64 / figures.span.as_secs_f64().max(1e-9);
    println!(
        "[{label}] events delivered per second: {rate:.0} ({} deliveries in {} from first send to last delivery)",
        figures.deliveries,
        ms(figures.span)
    );
    println!(
        "[{label}] all {watchers} watchers received {m} events in order: {}",
        if figures.all_in_order { "yes" } else { "no" }
    );
    if !figures.all_in_order {
        println!(
            "[{label}] {} watcher(s) incomplete or out of order",
            figures.bad_watchers
        );
    }
    let mut firsts: Vec<Duration> = figures.per_event.iter().map(|e| e.0).collect();
    let mut lasts: Vec<Duration> = figures.per_event.iter().map(|e| e.1).collect();
    firsts.sort_unstable();
    lasts.sort_unstable();
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    println!(
        "[{label}] per event: first delivery median {}, fan-out complete (last delivery) median {} max {}",
        ms(median(&firsts)),
        ms(median(&lasts)),
        ms(lasts.last().copied().unwrap_or_default())
    );
    let mut worst: Vec<(usize, Duration)> =
        figures.per_event.iter().map(|e| e.1).enumerate().collect();
    worst.sort_unstable_by_key(|w| std::cmp::Reverse(w.1));
    let worst: Vec<String> = worst
        .iter()
        .take(5)
        .map(|(k, d)| format!("#{k} {}", ms(*d)))
        .collect();
    println!("[{label}] slowest fan-outs: {}", worst.join(", "));
    for problem in &figures.problems {
        println!("[{label}]   {problem}");
    }
}
