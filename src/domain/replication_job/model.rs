//! The replication job resource as SMC models it.

use serde::{Deserialize, Serialize};

use crate::domain::{
    source_server::cloud_enum, AccountId, ReplicationJobId, SourceServerId, Timestamp,
};

cloud_enum!(
    /// SMC's job statuses.
    ReplicationJobStatus {
        /// Created, not started.
        Ready => "Ready",
        /// A run is in progress.
        Running => "Running",
        /// Paused.
        Stopped => "Stopped",
        /// A run failed.
        InError => "InError",
        /// Done.
        Finished => "Finished",
        /// Incremental job between runs.
        Waiting => "Waiting",
        /// Expired.
        Expired => "Expired",
        /// Being deleted.
        Deleting => "Deleting",
    }
);

impl ReplicationJobStatus {
    /// Unfinished jobs block a new job for the same source server.
    pub fn is_unfinished(self) -> bool {
        !matches!(
            self,
            ReplicationJobStatus::Finished | ReplicationJobStatus::Deleting
        )
    }
}

cloud_enum!(
    /// SMC's business statuses of a Running job.
    BusinessStatus {
        /// Preparing the run.
        Preparing => "Preparing",
        /// Copying data.
        Syncing => "Syncing",
        /// Building the image.
        Processing => "Processing",
        /// Releasing intermediate resources.
        Cleaning => "Cleaning",
    }
);

cloud_enum!(
    /// How a run was started.
    RunType {
        /// By a call.
        Manual => "Manual",
        /// By the job's frequency.
        Schedule => "Schedule",
    }
);

/// A replication job (SMC `ReplicationJob`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationJob {
    /// Owning account.
    pub account_id: AccountId,
    /// `j-` id.
    pub id: ReplicationJobId,
    /// The source server it migrates.
    pub source_id: SourceServerId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: ReplicationJobStatus,
    /// Business status; `Some` exactly while Running.
    pub business_status: Option<BusinessStatus>,
    /// Progress of the current or last run, 0 to 100.
    pub progress: f64,
    /// Error code of a failed run.
    pub error_code: Option<String>,
    /// Status detail.
    pub status_info: String,
    /// Schedule: one-off or incremental.
    pub schedule: JobSchedule,
    /// Creation time.
    pub created: Timestamp,
    /// First start.
    pub started: Option<Timestamp>,
    /// Finish time.
    pub ended: Option<Timestamp>,
    /// The run in progress, while Running.
    pub current_run: Option<CurrentRun>,
    /// Completed runs, oldest first.
    pub runs: Vec<JobRun>,
    /// Kept images, oldest first.
    pub image_ids: Vec<String>,
    /// Incremental runs completed so far (names `CYCLE_N`).
    pub cycles: u32,
    /// When the next scheduled run is due; `None` when none is.
    pub next_run: Option<Timestamp>,
    /// The cutover, once requested.
    pub cut_over: Option<CutOver>,
}

/// One-off or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobSchedule {
    /// One run, then Finished.
    RunOnce,
    /// Runs every `frequency_hours`, keeping `max_images` images.
    Incremental {
        /// Hours between runs, 1-168.
        frequency_hours: u32,
        /// Images kept, 1-10.
        max_images: u32,
    },
}

/// What the run in progress is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunPurpose {
    /// An ordinary (first, manual or scheduled) run.
    Replication,
    /// The cutover's last full sync.
    FinalSync,
    /// The cutover's release of intermediate resources, with no sync.
    Release,
}

/// The run in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentRun {
    /// Start time.
    pub start: Timestamp,
    /// Manual or Schedule.
    pub run_type: RunType,
    /// What it is for.
    pub purpose: RunPurpose,
}

/// A completed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    /// Start time.
    pub start: Timestamp,
    /// End time.
    pub end: Timestamp,
    /// Image produced.
    pub image_id: String,
    /// Manual or Schedule.
    pub run_type: RunType,
}

/// A requested cutover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutOver {
    /// When it was requested.
    pub requested: Timestamp,
    /// Whether a last full sync was requested.
    pub sync_data: bool,
}
