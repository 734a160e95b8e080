//! Test support: the real `cutoverd` binary on an ephemeral loopback port,
//! generated tonic clients, polling with a deadline instead of sleeps, the
//! flows that take servers and jobs to a given state, error checks and
//! watch readers. Everything is re-exported here: `use support::*`.
#![allow(dead_code, unreachable_pub, unused_imports)]

mod auth;
mod calls;
mod flows;
mod http1;
mod pki;
mod poll;
mod postgres;
mod process;
mod status;
mod watch;

pub use self::{
    auth::*, calls::*, flows::*, http1::*, pki::*, poll::*, postgres::*, process::*, status::*,
    watch::*,
};
