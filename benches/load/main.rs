//! The load tool: cutover's benchmark programs as subcommands of one
//! binary, each driving the release `cutoverd` as a process over its real
//! wire and printing figures.
//!
//! ```text
//! cargo bench --bench load -- storage [OPTIONS]   # the storage engine under gRPC load
//! cargo bench --bench load -- soak [OPTIONS]      # steady mixed load for a long time
//! cargo bench --bench load -- fanout [OPTIONS]    # WatchLifecycleEvents to many watchers
//! cargo bench --bench load -- SUBCOMMAND --help   # every option, with its default
//! ```
//!
//! Each is a program that prints figures, not a timed test: it runs once.
//! `BENCHMARKS.md` records their runs.

mod fanout;
mod soak;
mod storage;

use std::{error::Error, process::ExitCode};

use clap::{Parser, Subcommand};

/// Any error of a benchmark step.
type BoxError = Box<dyn Error + Send + Sync>;

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "load", about = "cutover's benchmark programs")]
struct Cli {
    /// What `cargo bench` passes to every `harness = false` target.
    #[arg(long, hide = true, global = true)]
    bench: bool,
    /// The benchmark to run.
    #[command(subcommand)]
    command: Command,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
enum Command {
    /// Throughput and latency of the storage engine under gRPC load,
    /// against a bare tonic echo server's as the ceiling; the fleet-size
    /// phases (or, with --postgres, replicas on PostgreSQL).
    Storage(storage::Options),
    /// The real cutoverd under steady, mixed, moderate load for a long
    /// time, with a verdict on whether anything grows that should not.
    Soak(soak::Options),
    /// WatchLifecycleEvents fan-out: memory per idle watcher and delivery
    /// latency to many watchers against one.
    Fanout(fanout::Options),
    /// The echo server of `storage`'s echo phase (the tool runs itself).
    #[command(name = storage::SERVE_ECHO, hide = true)]
    ServeEcho,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Storage(options) => storage::main(options),
        Command::Soak(options) => soak::main(options),
        Command::Fanout(options) => fanout::main(options),
        Command::ServeEcho => storage::serve_echo(),
    }
}
