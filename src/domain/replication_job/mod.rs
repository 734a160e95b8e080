//! Replication jobs: SMC's job status machine, incremental runs and cutover.

mod commands;
mod model;

pub use commands::{JobSpec, RunStep};
pub use model::*;
