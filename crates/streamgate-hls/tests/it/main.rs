//! The integration tests of this crate, as one binary: one link instead of one per file,
//! and the tests of every file run in parallel with each other. Each module is what
//! used to be a test file of its own.

mod common;
mod faults;
mod gate;
mod live_load;
mod llhls;
mod playback;
mod proxy;
mod restart;
mod rewrite;
mod sendfile;
mod service;
mod shared_token;
mod sync;
mod traversal;
