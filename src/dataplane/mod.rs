//! The data plane: replication agents move the bytes; the service only
//! coordinates. [`Agent`] speaks the agent protocol for one source server
//! with simulated disks; [`Fleet`] runs one per server as the built-in
//! simulated data plane.

pub mod agent;
pub mod credentials;
pub mod fleet;

pub use agent::{Agent, AgentSettings};
pub use credentials::Credentials;
pub use fleet::{Fleet, FleetCredentials};
