//! The data plane: replication agents move the bytes; the service only
//! coordinates. [`Agent`] speaks the agent protocol for one source server
//! with simulated disks; [`Infrastructure`] is the target side, which
//! tears down replication resources; [`Fleet`] runs one agent per server
//! and one infrastructure per account as the built-in simulated data
//! plane.

pub mod agent;
pub mod command_link;
pub mod credentials;
pub mod fleet;
pub mod infrastructure;

pub use agent::{Agent, AgentSettings};
pub use credentials::Credentials;
pub use fleet::{Fleet, FleetCredentials, Simulated};
pub use infrastructure::Infrastructure;
