//! The table, one row per sampling interval, and the verdict: the last
//! third of the run after the warm-up compared with the first third.

use std::time::Duration;

use crate::soak::{histogram::Histogram, stats::Interval};

/// One sampling interval.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    /// Time since the load started, at the end of the interval.
    pub(crate) at: Duration,
    /// Length of the interval.
    pub(crate) secs: f64,
    /// Server resident memory, KiB.
    pub(crate) rss_kib: u64,
    /// Server open file descriptors.
    pub(crate) fds: u64,
    /// `cutover.db` + `-wal` + `-shm`, bytes.
    pub(crate) db_bytes: u64,
    /// Of which `cutover.db-wal`.
    pub(crate) wal_bytes: u64,
    /// `cutover_events_committed_total`.
    pub(crate) events: u64,
    /// Events committed in the interval.
    pub(crate) new_events: u64,
    /// Events the log keeps: highest revision seen - oldest kept + 1.
    pub(crate) kept: Option<u64>,
    /// `cutover_open_watchers`.
    pub(crate) open_watchers: u64,
    /// Server CPU in the interval, in cores.
    pub(crate) server_cpu: f64,
    /// Load generator CPU in the interval, in cores.
    pub(crate) client_cpu: f64,
    /// CPU of every other process of the machine (a build, say), in cores.
    pub(crate) other_cpu: f64,
    /// Latencies and counts of the interval.
    pub(crate) interval: Interval,
}

fn ms(value: Option<f64>) -> String {
    match value {
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.0}"),
        None => "-".to_owned(),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The table's header line.
pub(crate) fn header() -> String {
    format!(
        "{:>7} {:>7} {:>5} {:>7} {:>7} {:>8} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>5} {:>6} {:>4} {:>4} {:>5} {:>5} {:>5}",
        "elapsed", "rss_MiB", "fds", "db_MiB", "wal_MiB", "events", "ev/s", "kept", "reads/s", "rd_p50",
        "rd_p99", "muts/s", "mu_p50", "mu_p99", "lag_p99", "lag_max", "watch", "reconn", "errs",
        "skip", "srv%", "gen%", "oth%"
    )
}

/// One row of the table (latencies in ms).
pub(crate) fn line(row: &Row) -> String {
    let i = &row.interval;
    let per_sec = |n: u64| n as f64 / row.secs.max(1e-9);
    format!(
        "{:>6.0}s {:>7.1} {:>5} {:>7.1} {:>7.1} {:>8} {:>6.0} {:>7} {:>7.0} {:>6} {:>6} {:>6.0} {:>6} {:>6} {:>7} {:>7} {:>5} {:>6} {:>4} {:>4} {:>5.0} {:>5.0} {:>5.0}",
        row.at.as_secs_f64(),
        row.rss_kib as f64 / 1024.0,
        row.fds,
        mib(row.db_bytes),
        mib(row.wal_bytes),
        row.events,
        per_sec(row.new_events),
        row.kept.map_or("-".to_owned(), |k| k.to_string()),
        per_sec(i.reads.count()),
        ms(i.reads.quantile_ms(0.5)),
        ms(i.reads.quantile_ms(0.99)),
        per_sec(i.mutations.count()),
        ms(i.mutations.quantile_ms(0.5)),
        ms(i.mutations.quantile_ms(0.99)),
        ms(i.lag.quantile_ms(0.99)),
        ms(i.lag.quantile_ms(1.0)),
        row.open_watchers,
        i.reconnects,
        i.errors,
        i.skipped,
        row.server_cpu * 100.0,
        row.client_cpu * 100.0,
        row.other_cpu * 100.0,
    )
}

/// Largest WAL that passes: cutoverd's committer checkpoints at 16 MiB of
/// WAL, plus what one group commit may add past it.
const WAL_LIMIT_MIB: f64 = 24.0;

/// One check of the verdict.
pub(crate) struct Check {
    /// What is checked.
    pub(crate) name: &'static str,
    /// The figures behind the outcome.
    pub(crate) detail: String,
    /// The outcome.
    pub(crate) pass: bool,
}

/// The rows of the first and of the last third after the warm-up.
pub(crate) struct Thirds<'a> {
    /// The first third.
    pub(crate) first: Vec<&'a Row>,
    /// The last third.
    pub(crate) last: Vec<&'a Row>,
}

impl<'a> Thirds<'a> {
    /// Splits `rows` of a run of `run` with `warmup` (a share of it).
    pub(crate) fn of(rows: &'a [Row], run: Duration, warmup: f64) -> Thirds<'a> {
        let run = run.as_secs_f64();
        let start = run * warmup;
        let third = (run - start) / 3.0;
        let at = |row: &&Row| row.at.as_secs_f64();
        Thirds {
            first: rows
                .iter()
                .filter(|r| at(r) > start && at(r) <= start + third + 1e-6)
                .collect(),
            last: rows.iter().filter(|r| at(r) > run - third - 1e-6).collect(),
        }
    }

    fn mean(rows: &[&Row], value: impl Fn(&Row) -> u64) -> f64 {
        rows.iter().map(|r| value(r) as f64).sum::<f64>() / rows.len().max(1) as f64
    }

    fn max(rows: &[&Row], value: impl Fn(&Row) -> u64) -> u64 {
        rows.iter().map(|r| value(r)).max().unwrap_or(0)
    }

    fn merged(rows: &[&Row], pick: impl Fn(&Interval) -> &Histogram) -> Histogram {
        let mut merged = Histogram::default();
        for row in rows {
            merged.merge(pick(&row.interval));
        }
        merged
    }
}

/// Last third over first third within `1 + tolerance`, or an absolute
/// increase within `floor` (sub-millisecond jitter is not a trend).
fn growth(
    name: &'static str,
    first: f64,
    last: f64,
    tolerance: f64,
    floor: f64,
    unit: &str,
) -> Check {
    let ratio = last / first.max(1e-9);
    let pass = ratio <= 1.0 + tolerance || last - first <= floor;
    Check {
        name,
        detail: format!(
            "last/first third {last:.2}/{first:.2} {unit} = x{ratio:.2} (limit x{:.2}, or +{floor} {unit})",
            1.0 + tolerance
        ),
        pass,
    }
}

/// The trend checks: memory, latencies, watcher lag, database size, open
/// files.
pub(crate) fn trends(rows: &[Row], run: Duration, warmup: f64, tolerance: f64) -> Vec<Check> {
    let t = Thirds::of(rows, run, warmup);
    if t.first.is_empty() || t.last.is_empty() {
        return vec![Check {
            name: "enough samples",
            detail: format!(
                "{} rows in the first third, {} in the last: use a longer run or a shorter --sample-secs",
                t.first.len(),
                t.last.len()
            ),
            pass: false,
        }];
    }
    // The median of the intervals' p99s: a trend moves most intervals, a
    // burst of other work on the machine only a few.
    let p99 = |rows: &[&Row], pick: fn(&Interval) -> &Histogram| {
        let mut p99s: Vec<f64> = rows
            .iter()
            .filter_map(|r| pick(&r.interval).quantile_ms(0.99))
            .collect();
        p99s.sort_by(f64::total_cmp);
        p99s.get(p99s.len() / 2).copied().unwrap_or(0.0)
    };
    let kib_to_mib = |kib: f64| kib / 1024.0;
    let mut checks = vec![
        growth(
            "server RSS growth",
            kib_to_mib(Thirds::mean(&t.first, |r| r.rss_kib)),
            kib_to_mib(Thirds::mean(&t.last, |r| r.rss_kib)),
            tolerance,
            0.0,
            "MiB (mean)",
        ),
        growth(
            "read p99 latency",
            p99(&t.first, |i| &i.reads),
            p99(&t.last, |i| &i.reads),
            tolerance,
            1.0,
            "ms (median of the rows' p99)",
        ),
        growth(
            "mutation p99 latency",
            p99(&t.first, |i| &i.mutations),
            p99(&t.last, |i| &i.mutations),
            tolerance,
            2.0,
            "ms (median of the rows' p99)",
        ),
        growth(
            "watcher lag p99",
            p99(&t.first, |i| &i.lag),
            p99(&t.last, |i| &i.lag),
            tolerance,
            5.0,
            "ms (median of the rows' p99)",
        ),
    ];
    let picks: [fn(&Interval) -> &Histogram; 3] = [|i| &i.reads, |i| &i.mutations, |i| &i.lag];
    for (check, pick) in checks[1..4].iter_mut().zip(picks) {
        let pooled = |rows: &[&Row]| Thirds::merged(rows, pick).quantile_ms(0.99).unwrap_or(0.0);
        check.detail = format!(
            "{}; over all calls of each third {:.2}/{:.2} ms",
            check.detail,
            pooled(&t.last),
            pooled(&t.first)
        );
    }
    // At a steady load, CPU time per second is work per call: a scan that
    // grows with the run shows here, whatever else runs on the machine.
    let cpu = |rows: &[&Row]| rows.iter().map(|r| r.server_cpu).sum::<f64>() / rows.len() as f64;
    checks.push(growth(
        "server CPU",
        cpu(&t.first) * 100.0,
        cpu(&t.last) * 100.0,
        tolerance,
        0.0,
        "% of a core (mean)",
    ));
    // The database file against itself; the WAL against its cap: the
    // committer checkpoints it at 4,096 pages (16 MiB, see
    // src/store/sqlite/checkpointer.rs), so it can reach that once a busy
    // moment left the checkpoints behind, and never shrinks back.
    let file = |r: &Row| r.db_bytes - r.wal_bytes.min(r.db_bytes);
    let mut db = growth(
        "database file bounded",
        mib(Thirds::max(&t.first, file)),
        mib(Thirds::max(&t.last, file)),
        tolerance,
        0.0,
        "MiB (max of cutover.db)",
    );
    let total_max = rows.iter().map(|r| r.db_bytes).max().unwrap_or(0);
    let total_end = rows.last().map_or(0, |r| r.db_bytes);
    db.detail = format!(
        "{}; with -wal and -shm: max {:.1} MiB, at the end {:.1} MiB",
        db.detail,
        mib(total_max),
        mib(total_end)
    );
    checks.push(db);
    let wal_max = rows.iter().map(|r| r.wal_bytes).max().unwrap_or(0);
    checks.push(Check {
        name: "WAL bounded",
        detail: format!(
            "max {:.1} MiB, at the end {:.1} MiB (limit {WAL_LIMIT_MIB} MiB: the 16 MiB checkpoint \
             threshold and one group)",
            mib(wal_max),
            mib(rows.last().map_or(0, |r| r.wal_bytes))
        ),
        pass: mib(wal_max) <= WAL_LIMIT_MIB,
    });
    let fd_first = Thirds::max(&t.first, |r| r.fds);
    let fd_last = Thirds::max(&t.last, |r| r.fds);
    let fd_limit = (fd_first as f64 * (1.0 + tolerance)).ceil() as u64 + 8;
    checks.push(Check {
        name: "open files bounded",
        detail: format!(
            "max last/first third {fd_last}/{fd_first} (limit {fd_limit}: x{:.2} + 8)",
            1.0 + tolerance
        ),
        pass: fd_last <= fd_limit,
    });
    checks
}

/// How busy the rest of the machine was in each third: a latency check
/// that fails while a build ran beside the last third only is noise.
pub(crate) fn noise(rows: &[Row], run: Duration, warmup: f64) -> String {
    let t = Thirds::of(rows, run, warmup);
    let mean = |rows: &[&Row]| {
        rows.iter().map(|r| r.other_cpu).sum::<f64>() / rows.len().max(1) as f64 * 100.0
    };
    format!(
        "other processes used {:.0}% of a core in the first third, {:.0}% in the last",
        mean(&t.first),
        mean(&t.last)
    )
}

/// Prints the checks and whether all passed.
pub(crate) fn print_verdict(checks: &[Check]) -> bool {
    println!("== verdict");
    for check in checks {
        println!(
            "{}  {}: {}",
            if check.pass { "PASS" } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    let pass = checks.iter().all(|c| c.pass);
    println!("== {}", if pass { "PASS" } else { "FAIL" });
    pass
}
