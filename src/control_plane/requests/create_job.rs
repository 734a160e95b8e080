//! CreateReplicationJob: the source server and the job's spec.

use std::ops::RangeInclusive;

use crate::domain::{replication_job::JobSpec, DomainError, JobSchedule, SourceServerId};

/// What a wire calls the fields of a job's spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateReplicationJobFields {
    /// The name.
    pub name: &'static str,
    /// The description.
    pub description: &'static str,
    /// Whether the job runs once (named in the other refusals' messages).
    pub run_once: &'static str,
    /// An incremental job's hours between runs.
    pub frequency: &'static str,
    /// How many images an incremental job keeps.
    pub images_to_keep: &'static str,
}

/// A job's schedule as a wire read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleInput {
    /// Runs once.
    RunOnce,
    /// Runs every `frequency_hours`, keeping `images_to_keep` images.
    Incremental {
        /// Hours between runs, as sent.
        frequency_hours: i64,
        /// Images to keep, as sent.
        images_to_keep: i64,
    },
}

/// A job's spec as a wire read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpecInput<'a> {
    /// Name; may be empty.
    pub name: &'a str,
    /// Description; may be empty.
    pub description: &'a str,
    /// One-off or incremental.
    pub schedule: ScheduleInput,
}

/// CreateReplicationJob: a job of `spec` for the source server
/// `source_id`, within SMC's limits ([`JobSpec`]'s).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateReplicationJob {
    source_id: SourceServerId,
    spec: JobSpec,
}

impl CreateReplicationJob {
    /// A job of `spec` for `source_id`; refusals name the wire's `fields`.
    pub fn new(
        fields: &CreateReplicationJobFields,
        source_id: SourceServerId,
        spec: JobSpecInput<'_>,
    ) -> Result<Self, DomainError> {
        at_most_chars(fields.name, spec.name, JobSpec::MAX_NAME_CHARS)?;
        at_most_chars(
            fields.description,
            spec.description,
            JobSpec::MAX_DESCRIPTION_CHARS,
        )?;
        let schedule = match spec.schedule {
            ScheduleInput::RunOnce => JobSchedule::RunOnce,
            ScheduleInput::Incremental {
                frequency_hours,
                images_to_keep,
            } => JobSchedule::Incremental {
                frequency_hours: incremental(
                    fields,
                    fields.frequency,
                    frequency_hours,
                    JobSpec::FREQUENCY_HOURS,
                )?,
                max_images: incremental(
                    fields,
                    fields.images_to_keep,
                    images_to_keep,
                    JobSpec::IMAGES_TO_KEEP,
                )?,
            },
        };
        Ok(CreateReplicationJob {
            source_id,
            spec: JobSpec {
                name: spec.name.to_owned(),
                description: spec.description.to_owned(),
                schedule,
            },
        })
    }

    /// The source server to migrate.
    pub fn source_id(&self) -> &SourceServerId {
        &self.source_id
    }

    /// The job's spec.
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }
}

fn at_most_chars(field: &str, text: &str, max: usize) -> Result<(), DomainError> {
    match text.chars().count() <= max {
        true => Ok(()),
        false => Err(DomainError::invalid_field(
            field,
            format!("at most {max} characters"),
        )),
    }
}

/// `value` of an incremental job's `field`, within `range`.
fn incremental(
    fields: &CreateReplicationJobFields,
    field: &str,
    value: i64,
    range: RangeInclusive<u32>,
) -> Result<u32, DomainError> {
    u32::try_from(value)
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            DomainError::invalid_field(
                field,
                format!(
                    "must be {} to {} when {} is false, got {value}",
                    range.start(),
                    range.end(),
                    fields.run_once
                ),
            )
        })
}
