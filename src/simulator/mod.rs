//! The built-in simulator: [`Fleet`] runs one
//! [`cutover_agent::Agent`] per source server with work and one
//! [`cutover_agent::Infrastructure`] per account with teardowns pending,
//! each speaking the agent protocol to the service in-process, as real
//! ones would over the network.

pub mod fleet;

pub use fleet::{Fleet, FleetCredentials, Simulated};
