//! Tests where the process is the point: crashes, faults at the edges,
//! replicas on one database, the production surface (TLS, limits,
//! metrics, config), mutual TLS and `cutoverctl`. Each module was a test
//! binary of its own and keeps its name (`cargo test --test processes
//! crash_storm::`).

mod cli;
mod crash_storm;
mod faults;
mod mtls;
mod production;
mod replicas;
