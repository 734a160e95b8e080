//! What cutover's integration tests (and its benchmarks) share: the real
//! `cutoverd` binary on an ephemeral loopback port and `cutover-agent` as
//! processes, generated tonic clients, polling with a deadline instead of
//! sleeps, the flows that take servers and jobs to a given state, error
//! checks, watch readers, a throwaway PKI, PostgreSQL databases and
//! `/proc` readings. Everything is re-exported at the root: `use
//! cutover_testkit::*`.
//!
//! Tests drive real processes over real wires: nothing here stands in for
//! the service's storage or transport.

mod auth;
mod calls;
mod flows;
mod http1;
mod pki;
mod poll;
mod postgres;
mod proc_stats;
mod process;
mod status;
mod watch;

pub use self::{
    auth::*, calls::*, flows::*, http1::*, pki::*, poll::*, postgres::*, proc_stats::*, process::*,
    status::*, watch::*,
};
