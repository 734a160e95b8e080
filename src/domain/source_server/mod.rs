//! Source servers: MGN's lifecycle and data replication state machine.

mod commands;
mod model;
mod reports;

pub use commands::{register, Launch, Registration};
pub(crate) use model::cloud_enum;
pub use model::*;
pub use reports::ReplicationReport;
