//! A lock-free latency histogram: recorded from any task with one atomic
//! add, drained once per sampling interval, merged for the verdict.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Sub-buckets per power of two: values are kept within 1/16 (6%).
const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
/// Powers of two above the linear range: up to 2^40 µs (12 days).
const OCTAVES: usize = 40;
/// Buckets in all.
const BUCKETS: usize = SUB + OCTAVES * SUB;

/// The bucket of `value`: exact below 16, log-linear above.
fn bucket(value: u64) -> usize {
    if value < SUB as u64 {
        return value as usize;
    }
    let octave = 63 - value.leading_zeros() - SUB_BITS;
    let sub = (value >> octave) as usize & (SUB - 1);
    (SUB + octave as usize * SUB + sub).min(BUCKETS - 1)
}

/// The largest value bucket `index` holds.
fn upper(index: usize) -> u64 {
    if index < SUB {
        return index as u64;
    }
    let octave = ((index - SUB) / SUB) as u32;
    let sub = ((index - SUB) % SUB) as u64;
    ((SUB as u64 + sub + 1) << octave) - 1
}

/// Counts of values (microseconds) by bucket, shared by recording tasks.
pub(crate) struct Recorder {
    counts: Box<[AtomicU64]>,
}

impl Recorder {
    /// An empty recorder.
    pub(crate) fn new() -> Recorder {
        Recorder {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records one duration.
    pub(crate) fn record(&self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one value in microseconds.
    pub(crate) fn record_us(&self, micros: u64) {
        self.counts[bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// Everything recorded since the last drain; the recorder starts over.
    /// A value recorded concurrently lands in this drain or the next one.
    pub(crate) fn drain(&self) -> Histogram {
        Histogram {
            counts: self
                .counts
                .iter()
                .map(|c| c.swap(0, Ordering::Relaxed))
                .collect(),
        }
    }
}

/// A drained histogram: one interval's values, or several merged.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
        }
    }
}

impl Histogram {
    /// Values recorded.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds `other`'s values to these.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    /// The nearest-rank quantile `q` (0-1], as the upper bound of its
    /// bucket, in milliseconds; `None` when nothing was recorded.
    pub(crate) fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(upper(index) as f64 / 1000.0);
            }
        }
        None
    }
}
