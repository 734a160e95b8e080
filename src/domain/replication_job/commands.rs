//! Commands on a replication job.

use std::ops::RangeInclusive;

use crate::domain::{
    AccountId, BusinessStatus, CurrentRun, CutOver, DomainError, JobRun, JobSchedule, Millis,
    ReplicationJob, ReplicationJobId, ReplicationJobStatus, RunPurpose, RunType, SourceServerId,
    TimeScale, Timestamp, Transition,
};

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

/// Image id of a cutover's final sync run.
const FINAL_IMAGE: &str = "FINAL";

impl JobSpec {
    /// The longest name, in characters (SMC's).
    pub const MAX_NAME_CHARS: usize = 128;
    /// The longest description, in characters (SMC's).
    pub const MAX_DESCRIPTION_CHARS: usize = 256;
    /// An incremental job's hours between runs (SMC's).
    pub const FREQUENCY_HOURS: RangeInclusive<u32> = 1..=168;
    /// How many images an incremental job keeps (SMC's).
    pub const IMAGES_TO_KEEP: RangeInclusive<u32> = 1..=10;

    /// Validates SMC's limits: frequency 1-168 hours and 1-10 images for
    /// incremental jobs; name and description lengths. Requests are held
    /// to them, under each wire's field names, before they reach the
    /// domain; this keeps a job that breaks them from being created by any
    /// other path.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(DomainError::invalid_field(
                "name",
                format!("at most {} characters", Self::MAX_NAME_CHARS),
            ));
        }
        if self.description.chars().count() > Self::MAX_DESCRIPTION_CHARS {
            return Err(DomainError::invalid_field(
                "description",
                format!("at most {} characters", Self::MAX_DESCRIPTION_CHARS),
            ));
        }
        if let JobSchedule::Incremental {
            frequency_hours,
            max_images,
        } = self.schedule
        {
            if !Self::FREQUENCY_HOURS.contains(&frequency_hours) {
                return Err(DomainError::invalid_field(
                    "frequency",
                    format!(
                        "must be {}-{} hours when run_once is false, got {frequency_hours}",
                        Self::FREQUENCY_HOURS.start(),
                        Self::FREQUENCY_HOURS.end()
                    ),
                ));
            }
            if !Self::IMAGES_TO_KEEP.contains(&max_images) {
                return Err(DomainError::invalid_field(
                    "max_number_of_image_to_keep",
                    format!(
                        "must be {}-{} when run_once is false, got {max_images}",
                        Self::IMAGES_TO_KEEP.start(),
                        Self::IMAGES_TO_KEEP.end()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Creates a job in Ready. Whether the source server may take a job is the
/// caller's check, since it needs the server and its other jobs.
pub fn create(
    account_id: AccountId,
    id: ReplicationJobId,
    source_id: SourceServerId,
    spec: JobSpec,
    now: Timestamp,
) -> Result<Transition<ReplicationJob>, DomainError> {
    spec.validate()?;
    let job = ReplicationJob {
        account_id,
        id,
        source_id,
        name: spec.name,
        description: spec.description,
        status: ReplicationJobStatus::Ready,
        business_status: None,
        progress: 0.0,
        error_code: None,
        status_info: String::new(),
        schedule: spec.schedule,
        created: now,
        started: None,
        ended: None,
        current_run: None,
        runs: Vec::new(),
        image_ids: Vec::new(),
        cycles: 0,
        next_run: None,
        cut_over: None,
    };
    Ok(Transition::of_job(None, job, now))
}

impl ReplicationJob {
    fn require_status(&self, allowed: &[ReplicationJobStatus]) -> Result<(), DomainError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(DomainError::JobInvalidStatus {
                job_id: self.id.to_string(),
                current: self.status,
                allowed: allowed.to_vec(),
            })
        }
    }

    fn require_business_status(&self, allowed: &[BusinessStatus]) -> Result<(), DomainError> {
        self.require_status(&[ReplicationJobStatus::Running])?;
        match self.business_status {
            Some(current) if allowed.contains(&current) => Ok(()),
            current => Err(DomainError::JobInvalidBusinessStatus {
                job_id: self.id.to_string(),
                current,
                allowed: allowed.to_vec(),
            }),
        }
    }

    fn changed(&self, after: ReplicationJob, now: Timestamp) -> Transition<ReplicationJob> {
        Transition::of_job(Some(self), after, now)
    }

    fn running(&mut self, business: BusinessStatus, run: CurrentRun) {
        self.status = ReplicationJobStatus::Running;
        self.business_status = Some(business);
        self.current_run = Some(run);
        self.progress = 0.0;
        self.error_code = None;
    }

    fn idle(&mut self, status: ReplicationJobStatus) {
        self.status = status;
        self.business_status = None;
        self.current_run = None;
    }

    /// StartReplicationJob: Ready, Stopped or InError → Running. A job whose
    /// cutover was interrupted resumes the cutover's step, not a new run.
    pub fn start(&self, now: Timestamp) -> Result<Transition<ReplicationJob>, DomainError> {
        self.require_status(&[
            ReplicationJobStatus::Ready,
            ReplicationJobStatus::Stopped,
            ReplicationJobStatus::InError,
        ])?;
        let mut next = self.clone();
        next.started = next.started.or(Some(now));
        // A cutover resumes where it stopped: its final sync runs once, so a
        // job that already recorded it goes on releasing resources.
        let (business, purpose) = match self.cut_over {
            Some(cut_over) if cut_over.sync_data && !self.final_sync_done(cut_over) => {
                (BusinessStatus::Syncing, RunPurpose::FinalSync)
            }
            Some(_) => (BusinessStatus::Cleaning, RunPurpose::Release),
            None => (BusinessStatus::Preparing, RunPurpose::Replication),
        };
        next.running(
            business,
            CurrentRun {
                start: now,
                run_type: RunType::Manual,
                purpose,
            },
        );
        Ok(self.changed(next, now))
    }

    /// StopReplicationJob: Running and Syncing → Stopped.
    pub fn stop(&self, now: Timestamp) -> Result<Transition<ReplicationJob>, DomainError> {
        self.require_business_status(&[BusinessStatus::Syncing])?;
        let mut next = self.clone();
        next.idle(ReplicationJobStatus::Stopped);
        Ok(self.changed(next, now))
    }

    /// The scheduler starts an incremental run whose time has come.
    pub fn start_scheduled_run(
        &self,
        now: Timestamp,
    ) -> Result<Transition<ReplicationJob>, DomainError> {
        self.require_status(&[ReplicationJobStatus::Waiting])?;
        if self.next_run.is_none_or(|due| now < due) {
            return Err(DomainError::JobInvalidStatus {
                job_id: self.id.to_string(),
                current: self.status,
                allowed: vec![ReplicationJobStatus::Running],
            });
        }
        let mut next = self.clone();
        next.next_run = None;
        next.running(
            BusinessStatus::Preparing,
            CurrentRun {
                start: now,
                run_type: RunType::Schedule,
                purpose: RunPurpose::Replication,
            },
        );
        Ok(self.changed(next, now))
    }

    /// CutOverReplicationJob: a Waiting job's schedule is cancelled at once;
    /// it runs a last full sync (`sync_data`) or goes straight to releasing
    /// its intermediate resources. Whether the source can take the chosen
    /// path is the caller's check.
    pub fn cut_over(
        &self,
        sync_data: bool,
        now: Timestamp,
    ) -> Result<Transition<ReplicationJob>, DomainError> {
        self.require_status(&[ReplicationJobStatus::Waiting])?;
        let mut next = self.clone();
        next.next_run = None;
        next.cut_over = Some(CutOver {
            requested: now,
            sync_data,
        });
        let (business, purpose) = if sync_data {
            (BusinessStatus::Syncing, RunPurpose::FinalSync)
        } else {
            (BusinessStatus::Cleaning, RunPurpose::Release)
        };
        next.running(
            business,
            CurrentRun {
                start: now,
                run_type: RunType::Manual,
                purpose,
            },
        );
        Ok(self.changed(next, now))
    }

    /// The data plane reports on the run in progress. `scale` compresses
    /// the frequency that schedules the next incremental run.
    pub fn advance(
        &self,
        step: RunStep,
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Transition<ReplicationJob>, DomainError> {
        let mut next = self.clone();
        let purpose = self.current_run.map(|r| r.purpose);
        match step {
            RunStep::Syncing => {
                self.require_business_status(&[BusinessStatus::Preparing])?;
                next.business_status = Some(BusinessStatus::Syncing);
            }
            RunStep::Progress(progress) => {
                self.require_business_status(&[BusinessStatus::Syncing])?;
                if !(progress.is_finite() && (self.progress..=100.0).contains(&progress)) {
                    return Err(DomainError::invalid_field(
                        "progress",
                        format!(
                            "must be between the current {} and 100, got {progress}",
                            self.progress
                        ),
                    ));
                }
                next.progress = progress;
            }
            RunStep::Processing => {
                self.require_business_status(&[BusinessStatus::Syncing])?;
                self.require_purpose(purpose, RunPurpose::Replication)?;
                next.business_status = Some(BusinessStatus::Processing);
                next.progress = 100.0;
            }
            RunStep::Succeeded => {
                self.require_business_status(&[BusinessStatus::Processing])?;
                next.complete_run(now, scale);
            }
            RunStep::Failed(code) => {
                self.require_status(&[ReplicationJobStatus::Running])?;
                next.idle(ReplicationJobStatus::InError);
                next.status_info = format!("run failed: {code}");
                next.error_code = Some(code);
            }
            RunStep::Cleaning => {
                self.require_business_status(&[BusinessStatus::Syncing])?;
                self.require_purpose(purpose, RunPurpose::FinalSync)?;
                if let Some(run) = self.current_run {
                    next.runs.push(JobRun {
                        start: run.start,
                        end: now,
                        image_id: FINAL_IMAGE.into(),
                        run_type: run.run_type,
                    });
                    // The image to launch from is the one with the last
                    // sync in it: SMC's ImageId is the last kept image.
                    next.keep_image(FINAL_IMAGE.into());
                }
                next.progress = 100.0;
                next.business_status = Some(BusinessStatus::Cleaning);
            }
            RunStep::Released => {
                self.require_business_status(&[BusinessStatus::Cleaning])?;
                next.idle(ReplicationJobStatus::Finished);
                next.ended = Some(now);
                // A finished job is done, whether its cutover synced last
                // (progress already 100) or only released (from 0).
                next.progress = 100.0;
            }
        }
        Ok(self.changed(next, now))
    }

    fn require_purpose(
        &self,
        actual: Option<RunPurpose>,
        expected: RunPurpose,
    ) -> Result<(), DomainError> {
        if actual == Some(expected) {
            return Ok(());
        }
        Err(DomainError::invalid_field(
            "step",
            format!(
                "this step does not apply to the run in progress of {}: {}",
                self.id,
                match actual {
                    Some(RunPurpose::Replication) => "an ordinary replication run",
                    Some(RunPurpose::FinalSync) => "the cutover's final sync",
                    Some(RunPurpose::Release) => "the cutover's release of resources",
                    None => "no run is in progress",
                }
            ),
        ))
    }

    /// True once the cutover's final sync was recorded.
    fn final_sync_done(&self, cut_over: CutOver) -> bool {
        self.runs
            .iter()
            .any(|run| run.image_id == FINAL_IMAGE && run.start >= cut_over.requested)
    }

    /// Keeps `image` as the newest image, dropping the oldest beyond an
    /// incremental job's `MaxNumberOfImageToKeep`.
    fn keep_image(&mut self, image: String) {
        self.image_ids.push(image);
        if let JobSchedule::Incremental { max_images, .. } = self.schedule {
            let excess = self.image_ids.len().saturating_sub(max_images as usize);
            self.image_ids.drain(..excess);
        }
    }

    fn complete_run(&mut self, now: Timestamp, scale: TimeScale) {
        let Some(run) = self.current_run else { return };
        match self.schedule {
            JobSchedule::RunOnce => {
                self.runs.push(JobRun {
                    start: run.start,
                    end: now,
                    image_id: "FULL".into(),
                    run_type: run.run_type,
                });
                self.idle(ReplicationJobStatus::Finished);
                self.ended = Some(now);
            }
            JobSchedule::Incremental {
                frequency_hours, ..
            } => {
                self.cycles = self.cycles.saturating_add(1);
                let image = format!("CYCLE_{}", self.cycles);
                self.runs.push(JobRun {
                    start: run.start,
                    end: now,
                    image_id: image.clone(),
                    run_type: run.run_type,
                });
                self.keep_image(image);
                self.idle(ReplicationJobStatus::Waiting);
                self.next_run =
                    Some(now.plus(scale.compress(Millis::hours(i64::from(frequency_hours)))));
            }
        }
    }
}
