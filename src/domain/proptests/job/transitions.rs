//! SPEC section 3's transition table, as status and business status edges
//! a command takes.

use std::collections::BTreeSet;

use super::model::JobOp;
use crate::domain::{BusinessStatus, ReplicationJob, ReplicationJobStatus};

use BusinessStatus as B;
use ReplicationJobStatus as S;

pub(super) type StatusEdge = (ReplicationJobStatus, ReplicationJobStatus, &'static str);
pub(super) type BusinessEdge = (Option<BusinessStatus>, Option<BusinessStatus>, &'static str);

/// SPEC section 3's status edges, with the command that takes each.
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
    /// Records the edges `op` took, which must be SPEC's.
    pub(super) fn record(&mut self, before: &ReplicationJob, after: &ReplicationJob, op: &JobOp) {
        if before.status != after.status {
            let edge = (before.status, after.status, op.name());
            assert!(
                JOB_STATUS_EDGES.contains(&edge),
                "{edge:?} is not an edge of SPEC section 3"
            );
            self.status.insert(edge);
        }
        if before.business_status != after.business_status {
            let edge = (before.business_status, after.business_status, op.name());
            assert!(
                JOB_BUSINESS_EDGES.contains(&edge),
                "{edge:?} is not a business status edge of SPEC section 3"
            );
            self.business.insert(edge);
        }
    }
}
