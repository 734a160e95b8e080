//! An agent's acknowledgement of a job step, as the chain of transitions
//! it implies (each one event), to be committed together.

use crate::domain::{
    agent_command::{job_command, Acknowledgement, CommandKind, CommandOutcome, CommandRef},
    replication_job::RunStep,
    DomainError, ReplicationJob, TimeScale, Timestamp, Transition,
};

impl ReplicationJob {
    /// The transitions acknowledging `command` with `ack` implies. An
    /// acknowledgement of a step that is no longer pending (a retry, or a
    /// late copy from before a restart) implies none: a completed step is
    /// never run twice.
    pub fn acknowledge(
        &self,
        command: &CommandRef,
        ack: &Acknowledgement,
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Vec<Transition<ReplicationJob>>, DomainError> {
        if !(ack.progress.is_finite() && (0.0..=100.0).contains(&ack.progress)) {
            return Err(DomainError::invalid_field(
                "progress",
                "must be between 0 and 100",
            ));
        }
        let pending = job_command(self).map(|c| c.id);
        if pending.as_ref() != Some(command) {
            return Ok(Vec::new());
        }
        let CommandRef::JobStep { kind, .. } = command else {
            return Ok(Vec::new());
        };
        let mut chain = Chain {
            job: self.clone(),
            transitions: Vec::new(),
            scale,
            now,
        };
        match kind {
            CommandKind::RunIncrementalSync | CommandKind::RunFinalSync => {
                if chain.job.business_status == Some(crate::domain::BusinessStatus::Preparing) {
                    chain.step(RunStep::Syncing)?;
                }
                let progress = match ack.outcome {
                    Some(CommandOutcome::Succeeded) => 100.0,
                    _ => ack.progress,
                };
                if progress > chain.job.progress {
                    chain.step(RunStep::Progress(progress))?;
                }
                match &ack.outcome {
                    None => {}
                    Some(CommandOutcome::Succeeded) if *kind == CommandKind::RunFinalSync => {
                        chain.step(RunStep::Cleaning)?
                    }
                    Some(CommandOutcome::Succeeded) => {
                        chain.step(RunStep::Processing)?;
                        chain.step(RunStep::Succeeded)?;
                    }
                    Some(CommandOutcome::Failed(error)) => {
                        chain.step(RunStep::Failed(error.clone()))?
                    }
                }
            }
            CommandKind::ReleaseResources => match &ack.outcome {
                None => {}
                Some(CommandOutcome::Succeeded) => chain.step(RunStep::Released)?,
                Some(CommandOutcome::Failed(error)) => {
                    chain.step(RunStep::Failed(error.clone()))?
                }
            },
            CommandKind::UninstallAgent | CommandKind::TeardownReplicationResources => {}
        }
        Ok(chain.transitions)
    }
}

/// Transitions applied one after the other.
struct Chain {
    job: ReplicationJob,
    transitions: Vec<Transition<ReplicationJob>>,
    scale: TimeScale,
    now: Timestamp,
}

impl Chain {
    fn step(&mut self, step: RunStep) -> Result<(), DomainError> {
        let transition = self.job.advance(step, self.scale, self.now)?;
        self.job = transition.resource.clone();
        self.transitions.push(transition);
        Ok(())
    }
}
