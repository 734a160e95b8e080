//! `cutover`: the gRPC control plane for cloud-migration cutovers.
//!
//! Layers, outermost first: [`transport`] (tonic handlers) → [`control_plane`]
//! (use cases: load, decide, commit) → [`domain`] (pure state machines) →
//! [`store`] (durable resources and the event log); [`dataplane`] plays the
//! replication agents.

pub mod domain;
pub mod pb;
pub mod store;
pub mod transport;
