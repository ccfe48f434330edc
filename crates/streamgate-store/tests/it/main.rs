//! The integration tests of this crate, as one binary: one link instead of one per file,
//! and the tests of every file run in parallel with each other. Each module is what
//! used to be a test file of its own.

mod analytics;
mod code_status;
mod common;
mod destroy_guard;
mod large_apply;
mod reconcile;
mod reload_safety;
mod watch;
