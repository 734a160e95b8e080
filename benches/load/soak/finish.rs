//! The end of the run: totals, errors by kind, and the checks that look
//! at the run as a whole (retention, errors, pace, watchers, shutdown,
//! the server's log).

use std::{sync::atomic::Ordering, time::Duration};

use crate::soak::{
    ctx::Ctx,
    report::{Check, Row, Thirds},
    server::Server,
};

/// Longest error rate that passes: 0.1% of calls.
const MAX_ERROR_RATE: f64 = 0.001;
/// Largest share of calls skipped (the load fell behind its timetable).
const MAX_SKIPPED: f64 = 0.01;
/// How long cutoverd gets to exit on SIGTERM (its grace is 10 s).
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

/// Prints the run's totals and its errors by kind.
pub(crate) fn summary(ctx: &Ctx, rows: &[Row]) {
    let (reads, mutations) = ctx.stats.calls();
    let secs: f64 = rows.iter().map(|r| r.secs).sum::<f64>().max(1e-9);
    let sum = |value: fn(&Row) -> u64| rows.iter().map(value).sum::<u64>();
    let deliveries = sum(|r| r.interval.deliveries);
    let events = sum(|r| r.new_events);
    let cpu = |value: fn(&Row) -> f64| rows.iter().map(|r| value(r) * r.secs).sum::<f64>() / secs;
    println!("== totals over {secs:.0} s");
    println!(
        "reads {reads} ({:.0}/s), mutations {mutations} ({:.0}/s, beside the simulator's reports), \
         events committed {events} ({:.0}/s), watch deliveries {deliveries} ({:.0}/s)",
        reads as f64 / secs,
        mutations as f64 / secs,
        events as f64 / secs,
        deliveries as f64 / secs
    );
    println!(
        "flows finished {}, agent reconnections {}, commands received by them {}, \
         skipped calls {}; CPU: server {:.0}%, load generator {:.0}% of a core",
        ctx.stats.flows.load(Ordering::Relaxed),
        sum(|r| r.interval.reconnects),
        ctx.stats.commands.load(Ordering::Relaxed),
        sum(|r| r.interval.skipped),
        cpu(|r| r.server_cpu) * 100.0,
        cpu(|r| r.client_cpu) * 100.0
    );
    println!(
        "resources flows still wait on: {} (0 once every flow ended)",
        ctx.tracker.len()
    );
    let kinds = ctx.stats.error_kinds();
    if kinds.is_empty() {
        println!("errors: none");
    }
    for (kind, error) in kinds {
        println!("error {kind}: {} (first: {})", error.count, error.example);
    }
}

/// The checks on the run as a whole.
pub(crate) fn end_checks(
    ctx: &Ctx,
    rows: &[Row],
    oldest: Option<u64>,
    final_watchers: u64,
) -> Vec<Check> {
    let args = &ctx.args;
    let head = ctx.stats.head.load(Ordering::Relaxed);
    // Events per compaction interval, at the last third's pace.
    let last = Thirds::of(rows, args.duration, args.warmup).last;
    let last_secs: f64 = last.iter().map(|r| r.secs).sum::<f64>().max(1e-9);
    let rate = last.iter().map(|r| r.new_events).sum::<u64>() as f64 / last_secs;
    let slack = (2.0 * rate * args.compaction_ms as f64 / 1000.0) as u64 + args.retention / 10;
    let retention = match oldest {
        Some(oldest) if oldest > 1 => {
            let kept = (head + 1).saturating_sub(oldest);
            Check {
                name: "event retention",
                detail: format!(
                    "compacted: oldest revision {oldest}, head {head}, {kept} kept \
                     (retention {}, limit {})",
                    args.retention,
                    args.retention + slack
                ),
                pass: kept <= args.retention + slack,
            }
        }
        Some(_) => Check {
            name: "event retention",
            detail: format!(
                "never compacted: head revision {head} of retention {}; \
                 pass a smaller --event-retention-count",
                args.retention
            ),
            pass: false,
        },
        None => Check {
            name: "event retention",
            detail: "the oldest revision could not be read".to_owned(),
            pass: false,
        },
    };
    let (reads, mutations) = ctx.stats.calls();
    let calls = (reads + mutations).max(1);
    let errors: u64 = ctx.stats.error_kinds().values().map(|e| e.count).sum();
    let skipped: u64 = rows.iter().map(|r| r.interval.skipped).sum();
    let expected_watchers = args.watchers as u64 + 1;
    vec![
        retention,
        Check {
            name: "errors",
            detail: format!(
                "{errors} in {calls} calls ({:.4}%, limit {:.1}%)",
                errors as f64 * 100.0 / calls as f64,
                MAX_ERROR_RATE * 100.0
            ),
            pass: (errors as f64) <= MAX_ERROR_RATE * calls as f64,
        },
        Check {
            name: "load kept its pace",
            detail: format!(
                "{skipped} calls skipped at the in-flight limit ({:.2}%, limit {:.0}%)",
                skipped as f64 * 100.0 / (calls + skipped).max(1) as f64,
                MAX_SKIPPED * 100.0
            ),
            pass: (skipped as f64) <= MAX_SKIPPED * (calls + skipped) as f64,
        },
        Check {
            name: "watchers open at the end",
            detail: format!(
                "{final_watchers} open (the watchers and the tracker's: {expected_watchers})"
            ),
            pass: final_watchers >= expected_watchers,
        },
    ]
}

/// A pool server's encoded size at the end against the end of the
/// warm-up (means over the pool): rehearsals replace what they record.
pub(crate) fn resource_size((after_warmup, end): (f64, f64), tolerance: f64) -> Check {
    Check {
        name: "resource size bounded",
        detail: format!(
            "a pool server, encoded: {after_warmup:.0} bytes after the warm-up, {end:.0} at the end (limit x{:.2})",
            1.0 + tolerance
        ),
        pass: after_warmup > 0.0 && end <= after_warmup * (1.0 + tolerance),
    }
}

/// SIGTERM: cutoverd must drain and exit 0 within its grace.
pub(crate) async fn shutdown(server: &mut Server) -> Check {
    let (took, clean) = server.stop(SHUTDOWN_LIMIT).await;
    Check {
        name: "clean shutdown",
        detail: format!(
            "{} after SIGTERM in {:.2} s",
            if clean {
                "exited 0"
            } else {
                "did not exit 0 (killed or failed)"
            },
            took.as_secs_f64()
        ),
        pass: clean,
    }
}

/// No ERROR line in cutoverd's log (warnings are listed, not judged).
pub(crate) fn server_log(server: &Server) -> Check {
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    println!(
        "== cutoverd log: {} lines, {} WARN, {} ERROR",
        log.lines().count(),
        warnings.len(),
        errors.len()
    );
    for line in errors.iter().chain(&warnings).take(5) {
        println!("  {line}");
    }
    Check {
        name: "server log",
        detail: format!(
            "{} ERROR lines, {} WARN lines",
            errors.len(),
            warnings.len()
        ),
        pass: errors.is_empty(),
    }
}
