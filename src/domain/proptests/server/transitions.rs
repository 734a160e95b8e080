//! SPEC section 2's transition table, as edges a command takes.

use super::model::ServerOp;
use super::CONNECTED;
use crate::domain::{LifeCycleState, SourceServer};

use LifeCycleState as L;

pub(super) type ServerEdge = (LifeCycleState, LifeCycleState, &'static str);

/// Every (from, to, by) of SPEC section 2's table that a registered server
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

/// The edge `op` took from `before` to `after`, if it moved the server.
pub(super) fn server_edge(
    before: &SourceServer,
    after: &SourceServer,
    op: &ServerOp,
) -> Option<ServerEdge> {
    let changed = before.life_cycle.state != after.life_cycle.state
        || before.is_archived != after.is_archived;
    changed.then_some((before.life_cycle.state, after.life_cycle.state, op.name()))
}
