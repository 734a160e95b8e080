//! Which events and resources a watcher sees.

use std::collections::HashSet;

use crate::domain::{AccountId, EventType, LifecycleEvent, Resource, ResourceKind};

/// A watcher's filter: its account always; resource kinds, ids and event
/// types when given (empty means all).
#[derive(Debug, Clone)]
pub struct EventFilter {
    /// Only this account's resources, ever.
    pub account_id: AccountId,
    /// Only these kinds of resource.
    pub resource_kinds: Vec<ResourceKind>,
    /// Only these resources.
    pub resource_ids: HashSet<String>,
    /// Only these event types.
    pub event_types: Vec<EventType>,
}

impl EventFilter {
    /// True when `resource` is one this watcher sees.
    pub fn matches_resource(&self, resource: &Resource) -> bool {
        resource.account_id() == &self.account_id
            && (self.resource_kinds.is_empty() || self.resource_kinds.contains(&resource.kind()))
            && (self.resource_ids.is_empty() || self.resource_ids.contains(resource.id()))
    }

    /// True when `event` is one this watcher sees: an event-type filter
    /// matches an event when any aspect it changed matches.
    pub fn matches(&self, event: &LifecycleEvent) -> bool {
        self.matches_resource(&event.resource)
            && (self.event_types.is_empty()
                || event
                    .event
                    .aspects()
                    .iter()
                    .any(|aspect| self.event_types.contains(aspect)))
    }
}
