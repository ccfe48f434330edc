//! The integration tests of this crate, as one binary: one link instead of one per file,
//! and the tests of every file run in parallel with each other. Each module is what
//! used to be a test file of its own.

mod admin_browser;
mod admin_token_cli;
mod cli;
mod common;
mod csv_export;
mod db_copy;
mod deployment_files;
mod faults;
mod ingest_cli;
mod log_redaction;
mod platform_cli;
mod postgres_restart;
mod reconcile_cli;
mod sample_stream;
mod topology_c;
mod up_cli;
mod viewer_browser;
