//! The data plane of `cutover`: the service coordinates, the data plane
//! moves the bytes. [`Agent`] speaks the agent protocol for one source
//! server with simulated disks; [`Infrastructure`] is the target side,
//! which tears down replication resources after a cutover. `cutover-agent`
//! runs one agent as its own process; `cutoverd`'s built-in simulated data
//! plane runs many of both in-process.

pub mod agent;
pub mod command_link;
pub mod credentials;
pub mod infrastructure;

pub use agent::{Agent, AgentSettings};
pub use credentials::Credentials;
pub use infrastructure::Infrastructure;
