//! Readings of a process from `/proc`: memory, threads and CPU time of
//! the server under test, for benchmarks and memory bounds in tests.

use std::{process::Command, time::Duration};

/// A numeric field of `/proc/<pid>/status` (KiB for the `Vm*` ones).
pub fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// User + system CPU time a process (`self` or a pid) has used so far.
pub fn cpu_time(pid: &str, ticks_per_second: u64) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ticks * 1_000_000_000 / ticks_per_second.max(1))
}

/// Clock ticks per second of `/proc/<pid>/stat` times (100 if unknown).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}
