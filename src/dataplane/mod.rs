//! The data plane: replication agents move the bytes; the service only
//! coordinates. [`simulator`] plays every agent's part on one machine.

pub mod simulator;

pub use simulator::Simulator;
