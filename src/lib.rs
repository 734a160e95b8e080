//! `cutover`: the gRPC control plane for cloud-migration cutovers.
//!
//! Layers, outermost first: [`transport`] (tonic handlers) → [`control_plane`]
//! (use cases: load, decide, commit) → [`domain`] (pure state machines) →
//! [`store`] (durable resources and the event log); [`dataplane`] plays the
//! replication agents; [`native_api`] serves the clouds' own wire protocols
//! beside gRPC; [`dashboard`] serves the live wave page; [`server`]
//! assembles them.

pub mod config;
pub mod control_plane;
pub mod dashboard;
pub mod dataplane;
pub mod domain;
pub mod metrics;
pub mod native_api;
pub mod pb;
pub mod server;
pub mod store;
pub mod transport;
pub mod watch;
