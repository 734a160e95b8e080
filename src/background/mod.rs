//! Background work: what a replica does on its own rather than for a
//! caller. Each duty runs only while this replica holds its lease
//! ([`duties`]), and every write it makes carries the lease's fence: the
//! [`scheduler`] (scheduled runs, stall and overdue marks), [`retention`]
//! (compaction, client token expiry) and the built-in [`simulator`]'s
//! runner with the in-process link it speaks over.

pub mod duties;
pub mod retention;
pub mod scheduler;
pub mod simulator;
#[cfg(test)]
mod tests;

pub use duties::Duties;
pub use retention::{run_retention, Retention};
pub use scheduler::{run_scheduler, schedule_once};
