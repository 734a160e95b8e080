//! Source servers: MGN's lifecycle and data replication state machine.

mod commands;
mod data_plane;
mod model;

pub use commands::{register, Launch, Registration};
pub use data_plane::ReplicationReport;
pub(crate) use model::cloud_enum;
pub use model::*;
