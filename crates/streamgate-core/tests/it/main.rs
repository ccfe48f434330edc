//! The integration tests of this crate, as one binary: one link instead of one per file,
//! and the tests of every file run in parallel with each other. Each module is what
//! used to be a test file of its own.

mod broken_configs;
mod environment;
mod generated_files;
mod jwt_verify;
mod schema_agreement;
