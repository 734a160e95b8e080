//! `watch --until STATE`: which states it accepts and what "reached" means.

use clap::ValueEnum;
use cutover_proto::v1 as pb;

use crate::{jobs::JobStatus, servers::LifeCycle};

/// The condition `watch --until` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Until {
    /// A lifecycle state every watched source server must reach.
    pub(crate) life_cycle: Option<pb::LifeCycleState>,
    /// A status every watched job must reach.
    pub(crate) job_status: Option<pb::ReplicationJobStatus>,
    /// Every follow-up task of every watched server COMPLETED.
    pub(crate) tasks_done: bool,
}

impl Until {
    /// Whether the condition says something about source servers.
    pub(crate) fn covers_servers(&self) -> bool {
        self.life_cycle.is_some() || self.tasks_done
    }

    /// Whether the condition says something about jobs.
    pub(crate) fn covers_jobs(&self) -> bool {
        self.job_status.is_some()
    }

    /// Whether a server counts as having reached the state (a server in
    /// the lifecycle state, or a finalised server whose follow-up tasks all
    /// completed).
    pub(crate) fn server_reached(&self, server: &pb::SourceServer) -> bool {
        if self.tasks_done {
            let tasks = &server.follow_up_tasks;
            return !tasks.is_empty()
                && tasks
                    .iter()
                    .all(|t| t.state == pb::FollowUpTaskState::Completed as i32);
        }
        let state = server.life_cycle.as_ref().map_or(0, |l| l.state);
        self.life_cycle.is_some_and(|s| s as i32 == state)
    }

    /// Whether a job counts as having reached the status.
    pub(crate) fn job_reached(&self, job: &pb::ReplicationJob) -> bool {
        self.job_status.is_some_and(|s| s as i32 == job.status)
    }
}

/// The words `--until` accepts, for its help and errors.
pub(crate) const UNTIL_HELP: &str = "\
Exit 0 once every watched resource reached STATE: a lifecycle state for servers \
(pending-installation, not-ready, ready-for-test, testing, ready-for-cutover, \
cutting-over, cutover, disconnected, stopped, ...), a status for jobs (ready, running, \
stopped, in-error, finished, waiting, ...), or tasks-done (every follow-up task of the \
watched servers COMPLETED; a server has tasks once finalised). Full enum names \
(LIFE_CYCLE_STATE_CUTOVER) are accepted too. A resource counts once it was seen in \
STATE since the watch began (initial snapshot included).";

/// Parses `--until`: `cutover`, `ready-for-test`, `finished`, `waiting`,
/// `tasks-done`, also `READY_FOR_TEST` or the full enum names. A word that
/// is both (`stopped`) applies to servers and jobs alike.
pub(crate) fn parse_until(text: &str) -> Result<Until, String> {
    let word = text.trim().to_ascii_lowercase().replace('_', "-");
    if matches!(word.as_str(), "tasks-done" | "tasks-completed") {
        return Ok(Until {
            life_cycle: None,
            job_status: None,
            tasks_done: true,
        });
    }
    let life_cycle_word = word.strip_prefix("life-cycle-state-").unwrap_or(&word);
    let job_word = word
        .strip_prefix("replication-job-status-")
        .unwrap_or(&word);
    let life_cycle = LifeCycle::from_str(life_cycle_word, true)
        .ok()
        .filter(|_| !word.starts_with("replication-job-status-"))
        .map(LifeCycle::proto);
    let job_status = JobStatus::from_str(job_word, true)
        .ok()
        .filter(|_| !word.starts_with("life-cycle-state-"))
        .map(JobStatus::proto);
    if life_cycle.is_none() && job_status.is_none() {
        return Err(format!(
            "{text:?} is neither a lifecycle state, a job status nor tasks-done"
        ));
    }
    Ok(Until {
        life_cycle,
        job_status,
        tasks_done: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_statuses_and_tasks_done_parse() {
        let until = parse_until("ready-for-test").expect("lifecycle");
        assert_eq!(until.life_cycle, Some(pb::LifeCycleState::ReadyForTest));
        assert_eq!(until.job_status, None);
        let until = parse_until("LIFE_CYCLE_STATE_CUTOVER").expect("full name");
        assert_eq!(until.life_cycle, Some(pb::LifeCycleState::Cutover));
        let until = parse_until("finished").expect("job");
        assert_eq!(until.job_status, Some(pb::ReplicationJobStatus::Finished));
        assert!(!until.covers_servers());
        let until = parse_until("stopped").expect("both");
        assert!(until.covers_servers() && until.covers_jobs());
        let until = parse_until("REPLICATION_JOB_STATUS_STOPPED").expect("job only");
        assert!(!until.covers_servers() && until.covers_jobs());
        assert!(parse_until("tasks-done").expect("tasks").tasks_done);
        assert!(parse_until("nonsense").is_err());
        assert!(parse_until("").is_err());
    }

    #[test]
    fn tasks_done_needs_tasks() {
        let until = parse_until("tasks-done").expect("tasks");
        let mut server = pb::SourceServer::default();
        assert!(!until.server_reached(&server));
        server.follow_up_tasks = vec![pb::FollowUpTask {
            state: pb::FollowUpTaskState::Completed as i32,
            ..Default::default()
        }];
        assert!(until.server_reached(&server));
        server.follow_up_tasks.push(pb::FollowUpTask::default());
        assert!(!until.server_reached(&server));
    }
}
