//! The contract's transition tables (docs/contract.md §2 and §3), as the edges a command
//! takes, and the record of those the generated cases took.

use super::*;

/// The states a server can be disconnected from: all but the final ones.
pub(super) const CONNECTED: [LifeCycleState; 6] = [
    L::PendingInstallation,
    L::NotReady,
    L::ReadyForTest,
    L::Testing,
    L::ReadyForCutover,
    L::CuttingOver,
];

pub(super) type ServerEdge = (LifeCycleState, LifeCycleState, &'static str);

/// Every (from, to, by) of contract §2's table that a registered server
/// can take; archiving is recorded as (state, state, "archive").
pub(super) fn server_spec_edges() -> Vec<ServerEdge> {
    let mut edges = vec![
        (L::PendingInstallation, L::NotReady, "report"),
        (L::NotReady, L::ReadyForTest, "report"),
        (L::ReadyForTest, L::Testing, "start_test"),
        (L::Testing, L::ReadyForCutover, "change"),
        (L::ReadyForTest, L::ReadyForCutover, "change"),
        (L::Testing, L::ReadyForTest, "change"),
        (L::ReadyForCutover, L::ReadyForTest, "change"),
        (L::ReadyForCutover, L::CuttingOver, "start_cutover"),
        (L::CuttingOver, L::ReadyForCutover, "change"),
        (L::CuttingOver, L::Cutover, "finalize"),
        (L::Cutover, L::Cutover, "archive"),
        (L::Disconnected, L::Disconnected, "archive"),
    ];
    edges.extend(CONNECTED.map(|from| (from, L::Disconnected, "disconnect")));
    edges
}

/// Two table rows taken by one command: an agent whose first report is
/// already CONTINUOUS moves PENDING_INSTALLATION → NOT_READY → READY_FOR_TEST
/// in one event (see `first_report_continuous_goes_straight_to_ready_for_test`).
pub(super) const SERVER_COMPOSITE_EDGES: &[ServerEdge] =
    &[(L::PendingInstallation, L::ReadyForTest, "report")];

/// The edge command `by` took from `before` to `after`, if it moved the server.
pub(super) fn server_edge(
    before: &SourceServer,
    after: &SourceServer,
    by: &'static str,
) -> Option<ServerEdge> {
    let changed = before.life_cycle.state != after.life_cycle.state
        || before.is_archived != after.is_archived;
    changed.then_some((before.life_cycle.state, after.life_cycle.state, by))
}

pub(super) type StatusEdge = (ReplicationJobStatus, ReplicationJobStatus, &'static str);
pub(super) type BusinessEdge = (Option<BusinessStatus>, Option<BusinessStatus>, &'static str);

/// contract §3's status edges, with the command that takes each.
pub(super) const JOB_STATUS_EDGES: &[StatusEdge] = &[
    (S::Ready, S::Running, "start"),
    (S::Stopped, S::Running, "start"),
    (S::InError, S::Running, "start"),
    (S::Running, S::Stopped, "stop"),
    (S::Running, S::Finished, "succeeded"),
    (S::Running, S::Waiting, "succeeded"),
    (S::Waiting, S::Running, "start_scheduled"),
    (S::Waiting, S::Running, "cut_over"),
    (S::Running, S::InError, "failed"),
    (S::Running, S::Finished, "released"),
];

/// Business status edges: a run starts in Preparing (ordinary), Syncing
/// (cutover with sync) or Cleaning (cutover without); Preparing → Syncing →
/// Processing, or Syncing → Cleaning for the cutover; it leaves Running
/// from Syncing (stop), Processing (success), Cleaning (released) or any
/// (failure). A restarted cutover resumes its step: the final sync until it
/// is recorded, the release after.
pub(super) const JOB_BUSINESS_EDGES: &[BusinessEdge] = &[
    (None, Some(B::Preparing), "start"),
    (None, Some(B::Syncing), "start"),
    (None, Some(B::Cleaning), "start"),
    (None, Some(B::Preparing), "start_scheduled"),
    (None, Some(B::Syncing), "cut_over"),
    (None, Some(B::Cleaning), "cut_over"),
    (Some(B::Preparing), Some(B::Syncing), "syncing"),
    (Some(B::Syncing), Some(B::Processing), "processing"),
    (Some(B::Syncing), Some(B::Cleaning), "cleaning"),
    (Some(B::Syncing), None, "stop"),
    (Some(B::Processing), None, "succeeded"),
    (Some(B::Cleaning), None, "released"),
    (Some(B::Preparing), None, "failed"),
    (Some(B::Syncing), None, "failed"),
    (Some(B::Processing), None, "failed"),
    (Some(B::Cleaning), None, "failed"),
];

/// The edges generated cases took.
#[derive(Debug, Default)]
pub(super) struct JobEdges {
    pub(super) status: BTreeSet<StatusEdge>,
    pub(super) business: BTreeSet<BusinessEdge>,
}

impl JobEdges {
    /// Records the edges command `by` took, which must be the contract's.
    pub(super) fn record(
        &mut self,
        before: &ReplicationJob,
        after: &ReplicationJob,
        by: &'static str,
    ) {
        if before.status != after.status {
            let edge = (before.status, after.status, by);
            assert!(
                JOB_STATUS_EDGES.contains(&edge),
                "{edge:?} is not an edge of contract §3"
            );
            self.status.insert(edge);
        }
        if before.business_status != after.business_status {
            let edge = (before.business_status, after.business_status, by);
            assert!(
                JOB_BUSINESS_EDGES.contains(&edge),
                "{edge:?} is not a business status edge of contract §3"
            );
            self.business.insert(edge);
        }
    }
}
