//! Replication jobs: SMC's job status machine, incremental runs and cutover.

mod acknowledge;
mod commands;
mod model;

pub use commands::{create, JobSpec, RunStep};
pub use model::*;
