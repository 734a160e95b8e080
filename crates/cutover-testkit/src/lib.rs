//! What cutover's integration tests (and its benchmarks) share: the real
//! `cutoverd` binary on an ephemeral loopback port and `cutover-agent` as
//! processes, the same service inside the test process
//! ([`TestServer::in_process`]: the library's `serve` on its own runtime,
//! on real sockets), generated tonic clients, polling with a deadline instead of
//! sleeps, the flows that take servers and jobs to a given state, error
//! checks, watch readers, a throwaway PKI, PostgreSQL databases and
//! `/proc` readings; for the benchmarks, [`ServerProcess`], a server
//! process that reports its failures instead of panicking. Everything is
//! re-exported at the root: `use cutover_testkit::*`.
//!
//! Tests drive real servers over real wires: nothing here stands in for
//! the service's storage or transport. A test runs its server as a process
//! when the process is the point (a kill, a signal, its logs, its exit);
//! otherwise in-process.

mod auth;
mod calls;
mod flows;
mod http1;
mod in_process;
mod pki;
mod poll;
mod postgres;
mod proc_stats;
mod process;
mod server_process;
mod status;
mod watch;

pub use self::{
    auth::*, calls::*, flows::*, http1::*, pki::*, poll::*, postgres::*, proc_stats::*, process::*,
    server_process::*, status::*, watch::*,
};
