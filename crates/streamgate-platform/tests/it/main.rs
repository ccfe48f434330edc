//! The integration tests of this crate, as one binary: one link instead of one per file,
//! and the tests of every file run in parallel with each other. Each module is what
//! used to be a test file of its own.

mod admin_api;
mod analytics;
mod common;
mod generated_openapi;
mod operations;
mod revocation_feed;
mod session_events;
mod single_device;
mod status_limit;
mod viewer_api;
