//! The service's contract over its real wires, one `cutoverd` process per
//! test: each module was a test binary of its own and keeps its name, so
//! `cargo test --test service mgn_cutover::` runs what `--test mgn_cutover`
//! ran. One binary links once instead of eleven times.

mod agent;
mod cloud_sdks;
mod consistency;
mod errors;
mod event_aspects;
mod grpc_web;
mod limits;
mod mgn_cutover;
mod pagination;
mod smc_cutover;
mod watch;
