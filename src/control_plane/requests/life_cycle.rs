//! ChangeServerLifeCycleState: a server and the state it is to take.

use super::cloud_names::one_of;
use crate::domain::{DomainError, LifeCycleState, SourceServerId};

/// ChangeServerLifeCycleState: `id` to take `target`, one of
/// [`ChangeServerLifeCycleState::TARGETS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeServerLifeCycleState {
    id: SourceServerId,
    target: LifeCycleState,
}

impl ChangeServerLifeCycleState {
    /// The states the operation can move a server to: back to
    /// READY_FOR_TEST, or on to READY_FOR_CUTOVER. MGN's model also lists
    /// CUTOVER, which this service reaches only through FinalizeCutover,
    /// so it is refused as early as an unknown state.
    pub const TARGETS: &'static [LifeCycleState] = &[
        LifeCycleState::ReadyForTest,
        LifeCycleState::ReadyForCutover,
    ];

    /// `id` to take `target`; a refusal names the wire's `state_field`.
    pub fn new(
        state_field: &str,
        id: SourceServerId,
        target: LifeCycleState,
    ) -> Result<Self, DomainError> {
        let target = one_of(state_field, target, Self::TARGETS)?;
        Ok(ChangeServerLifeCycleState { id, target })
    }

    /// The server.
    pub fn id(&self) -> &SourceServerId {
        &self.id
    }

    /// The state it is to take.
    pub fn target(&self) -> LifeCycleState {
        self.target
    }
}
