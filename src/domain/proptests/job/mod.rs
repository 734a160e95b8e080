//! Replication jobs (contract §3): the fixtures shared by the model, the
//! properties and the examples.

mod cutover_examples;
mod invariants;
mod model;
mod properties;
mod run_examples;

use self::invariants::*;
use self::model::*;
use super::*;

/// The image id of a cutover's final sync run.
const FINAL: &str = "FINAL";

/// SMC's message templates (contract §3), split around their `%s`.
const INVALID_STATUS_MESSAGE: (&str, &str) = (
    "The specified replication job status: ",
    " is invalid. This operation can only be performed in the following status: ",
);
const INVALID_BUSINESS_STATUS_MESSAGE: (&str, &str) = (
    "The specified business status: ",
    " of the replication job is invalid. This operation can only be performed in the following status: ",
);

fn smc_message(template: (&str, &str), current: &str, allowed: &[&str]) -> String {
    format!(
        "{}{current}{}{}.",
        template.0,
        template.1,
        allowed.join(", ")
    )
}

fn invalid_status_message(current: &str, allowed: &[&str]) -> String {
    smc_message(INVALID_STATUS_MESSAGE, current, allowed)
}

/// How many final syncs the job recorded.
fn finals(j: &ReplicationJob) -> usize {
    j.runs.iter().filter(|r| r.image_id == FINAL).count()
}

/// CreateReplicationJob with `spec`; a success is checked against the contract.
fn new_job(
    rng: &mut StdRng,
    spec: &JobSpec,
    now: Timestamp,
) -> Result<ReplicationJob, DomainError> {
    let id = ReplicationJobId::generate(rng);
    let t = create_job(
        account(),
        id,
        SourceServerId::generate(rng),
        spec.clone(),
        now,
    )?;
    check_job_creation(&t, spec, now);
    Ok(t.resource)
}

/// Fixed setting of the job examples: 1 hour of frequency is 1 second.
struct Smc {
    scale: TimeScale,
    now: Timestamp,
}

impl Smc {
    fn new() -> Self {
        Smc {
            scale: TimeScale::new(3_600.0),
            now: Timestamp(T0),
        }
    }

    fn create(&self, schedule: JobSchedule) -> ReplicationJob {
        let spec = JobSpec {
            name: "web-1".into(),
            description: "migrate web-1".into(),
            schedule,
        };
        new_job(&mut StdRng::seed_from_u64(3), &spec, self.now).expect("valid")
    }

    fn ok(&mut self, j: &ReplicationJob, op: JobOp) -> ReplicationJob {
        self.now = self.now.plus(Millis(10));
        step_ok(j, &op, self.scale, self.now).resource
    }

    fn err(&mut self, j: &ReplicationJob, op: JobOp) -> DomainError {
        self.now = self.now.plus(Millis(10));
        step_err(j, &op, self.scale, self.now)
    }

    /// The data plane reports `step`, which must succeed.
    fn step(&mut self, j: &ReplicationJob, step: RunStep) -> ReplicationJob {
        self.ok(j, JobOp::Step(step))
    }

    /// The error code of `op`, which must fail.
    fn code(&mut self, j: &ReplicationJob, op: JobOp) -> &'static str {
        self.err(j, op).code()
    }

    /// One complete ordinary run, from Running Preparing to its end.
    fn complete_run(&mut self, j: &ReplicationJob) -> ReplicationJob {
        assert_eq!(j.business_status, Some(B::Preparing));
        let j = self.step(j, RunStep::Syncing);
        let j = self.step(&j, RunStep::Progress(50.0));
        let j = self.step(&j, RunStep::Processing);
        self.step(&j, RunStep::Succeeded)
    }

    /// An incremental job after its first run: Waiting.
    fn waiting(&mut self, max_images: u32) -> ReplicationJob {
        let j = self.create(JobSchedule::Incremental {
            frequency_hours: 2,
            max_images,
        });
        let j = self.ok(&j, JobOp::Start);
        let j = self.complete_run(&j);
        assert_eq!(j.status, S::Waiting);
        j
    }
}
