//! A committed event as every subscriber of the store receives it.

use std::{ops::Deref, sync::OnceLock};

use crate::domain::LifecycleEvent;

/// A committed event, shared by every subscriber, with a slot for one
/// encoding of it: at 10,000 watchers, converting and encoding every event
/// once per watcher was about a tenth of the server's CPU in a profile.
/// Dereferences to the event.
#[derive(Debug)]
pub struct SharedEvent {
    event: LifecycleEvent,
    wire: OnceLock<Vec<u8>>,
}

impl SharedEvent {
    /// `event`, not encoded yet.
    #[must_use]
    pub fn new(event: LifecycleEvent) -> Self {
        SharedEvent {
            event,
            wire: OnceLock::new(),
        }
    }

    /// Its wire form, made by `encode` on first use. Whoever encodes must
    /// encode the same way for every subscriber.
    pub fn wire(&self, encode: impl FnOnce(&LifecycleEvent) -> Vec<u8>) -> &[u8] {
        self.wire.get_or_init(|| encode(&self.event))
    }
}

impl Deref for SharedEvent {
    type Target = LifecycleEvent;

    fn deref(&self) -> &LifecycleEvent {
        &self.event
    }
}
