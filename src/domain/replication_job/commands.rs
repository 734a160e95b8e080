//! Commands on a replication job.

use crate::domain::JobSchedule;

/// What CreateReplicationJob asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// One-off or incremental.
    pub schedule: JobSchedule,
}

/// What the data plane reports about the run in progress.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStep {
    /// Preparing is done; data copying starts.
    Syncing,
    /// Copying progressed to this percentage.
    Progress(f64),
    /// Copying is done; the image is being built.
    Processing,
    /// The run succeeded.
    Succeeded,
    /// The run failed with this error code.
    Failed(String),
    /// The cutover's final sync is done; resources are being released.
    Cleaning,
    /// The cutover's intermediate resources are released.
    Released,
}
