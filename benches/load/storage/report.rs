//! Percentiles and the printing of figures, each rate with its ratio to
//! the echo rate of the same run.

use std::time::Duration;

use crate::storage::load::{Outcome, NO_GRPC_STATUS};

/// A duration in milliseconds, three decimals.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// The nearest-rank percentile `q` (0-1] of sorted values.
fn pick<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `p50 .. p99 .. max` of sorted durations.
pub(crate) fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {}  p99 {}  max {}",
        ms(pick(sorted, 0.50)),
        ms(pick(sorted, 0.99)),
        ms(pick(sorted, 1.0))
    )
}

/// The name of a grpc-status code.
fn status_name(code: i32) -> String {
    if code == NO_GRPC_STATUS {
        return "no grpc-status".to_owned();
    }
    format!("{:?}", tonic::Code::from(code))
}

/// Rates measured so far, for the ratios and the closing summary.
#[derive(Default)]
pub(crate) struct Summary {
    echo: Option<f64>,
    rows: Vec<(String, f64)>,
}

impl Summary {
    /// `xN.NNN of echo`, or why there is no ratio.
    pub(crate) fn ratio(&self, rate: f64) -> String {
        match self.echo {
            Some(echo) if echo > 0.0 => format!("{:.3} of echo", rate / echo),
            _ => "no echo rate (skipped)".to_owned(),
        }
    }

    /// Records the echo rate every other rate is compared with.
    pub(crate) fn set_echo(&mut self, rate: f64) {
        self.echo = Some(rate);
    }

    /// Records a rate for the summary.
    pub(crate) fn add(&mut self, label: &str, rate: f64) {
        self.rows.push((label.to_owned(), rate));
    }

    /// Prints every recorded rate with its ratio.
    pub(crate) fn print(&self) {
        println!("== summary (calls/s, ratio to echo)");
        for (label, rate) in &self.rows {
            println!("{label:<44} {rate:>10.0}/s  {}", self.ratio(*rate));
        }
    }
}

/// Prints one load phase: rate, ratio, statuses, latency, CPU shares.
pub(crate) fn print_load(
    label: &str,
    outcome: &Outcome,
    summary: &Summary,
    server_cpu: Duration,
    client_cpu: Duration,
    elapsed: Duration,
) {
    let rate = outcome.rate();
    println!(
        "[{label}] {:.0} calls/s ({} OK in {}), {}",
        rate,
        outcome.ok(),
        ms(outcome.window),
        summary.ratio(rate)
    );
    let statuses: Vec<String> = outcome
        .statuses
        .iter()
        .map(|(code, count)| format!("{} {count}", status_name(*code)))
        .collect();
    println!(
        "[{label}] statuses in the window: {}",
        if statuses.is_empty() {
            "none".to_owned()
        } else {
            statuses.join(", ")
        }
    );
    let latencies: Vec<Duration> = outcome
        .latencies_us
        .iter()
        .map(|&us| Duration::from_micros(u64::from(us)))
        .collect();
    println!("[{label}] latency of OK calls: {}", spread(&latencies));
    let seconds = elapsed.as_secs_f64().max(1e-9);
    println!(
        "[{label}] CPU over the phase: server {:.0}%, client {:.0}% (of one core)",
        server_cpu.as_secs_f64() * 100.0 / seconds,
        client_cpu.as_secs_f64() * 100.0 / seconds
    );
    if outcome.warmup_counted {
        println!(
            "[{label}] the prepared resources ran out during the warm-up: the figures are the whole phase's, warm-up included"
        );
    }
    if let Some(at) = outcome.ran_out {
        println!(
            "[{label}] prepared resources ran out {} after the start ({} calls issued, warm-up included)",
            ms(at),
            outcome.issued
        );
    }
    if !outcome.errors.is_empty() {
        println!(
            "[{label}] {} stream loop(s) ended on a connection error, first: {}",
            outcome.errors.len(),
            outcome.errors[0]
        );
    }
}
