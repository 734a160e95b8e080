//! Faults at the edges of the service: a full disk, a read-only data
//! directory, a truncated or corrupt database, a database from a newer
//! release, and thousands of idle connections with a watcher that never
//! reads. Each answers with a clear error and loses nothing acknowledged,
//! or leaves other clients unaffected.
//!
//! The disk tests mount small tmpfs file systems, so they run as root (CI
//! and the development machine do).

mod connections;
mod disk;
mod files;
mod mount;
