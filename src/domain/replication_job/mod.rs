//! Replication jobs: SMC's job status machine, incremental runs and cutover.

mod commands;
mod model;

pub use commands::{create, JobSpec, RunStep};
pub use model::*;
