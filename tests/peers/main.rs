//! Other programs as clients of the contract: grpcurl, a Python and a
//! Node.js client, buf's lint, and the dashboard in headless Chromium.
//! `scripts/test` installs them. Each module was a test binary of its own
//! and keeps its name (`cargo test --test peers grpcurl::`).

mod dashboard;
mod grpcurl;
mod node_client;
mod proto_lint;
mod python_client;
