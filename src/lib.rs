//! `cutover`: the gRPC control plane for cloud-migration cutovers.
//!
//! The floors, from the ground up (`ARCHITECTURE.md` walks them); a module
//! imports only from floors below its own:
//!
//! 1. [`domain`]: pure state machines of source servers and replication
//!    jobs; no I/O, no clock reads. [`pb`] holds the generated messages.
//! 2. [`store`]: SQLite or PostgreSQL, the event log, the in-memory read
//!    model.
//! 3. [`control_plane`] (the use cases: load, decide, commit) and [`watch`]
//!    (the resumable stream of events).
//! 4. [`background`] (leased duties: the scheduler, retention, the built-in
//!    [`simulator`]'s runner) and the service's faces in [`api`]: gRPC,
//!    MGN restJson1, SMC RPC and the dashboard. [`metrics`] is a leaf they
//!    record into.
//! 5. The composition root: [`config`] and [`server`].

pub mod api;
pub mod background;
pub mod config;
pub mod control_plane;
pub mod domain;
pub mod metrics;
pub mod pb;
pub mod server;
pub mod simulator;
pub mod store;
pub mod watch;
