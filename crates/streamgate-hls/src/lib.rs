//! The HLS media server: where every playlist and segment request is checked against
//! a playback token before a byte of video leaves.
//!
//! It has no database. What it knows about revocations comes from the platform's
//! revocation feed ([`sync`]); what it serves comes from local files, an upstream
//! origin through an on-disk cache, or both ([`source`], [`cache`]). [`HlsServer::build`]
//! does everything that can fail before the first request (keys, content roots, cache
//! index, port) and hands back the bound address, so tests run the real server on port
//! 0; [`HlsServer::run`] serves until the shutdown future resolves and then lets
//! in-flight responses finish. Its background tasks (revocation sync, cache sweep,
//! shared-token reports) run under one [`streamgate_core::tasks::Supervisor`]: one that
//! fails stops the server with that error.
//!
//! Modules: [`startup`] (build, spawn, run), [`http`] (the application: CORS, access
//! log, headers), [`server`] (the connections), the stream route ([`serve`]) and the
//! typed endpoints with the OpenAPI document ([`api`]), and what
//! they use: [`path`] (parsing request paths safely), [`gate`] (tokens), [`revocation`]
//! and [`sync`] (who may no longer watch), [`source`] and [`cache`] (content),
//! [`playlist`] (query-token and origin-URI rewriting), [`live`] (encoder restarts,
//! LL-HLS directives), [`upstream`] (origin requests), [`metrics`] and [`state`].

pub mod api;
pub mod cache;
pub mod files;
pub mod gate;
pub mod http;
pub mod live;
pub mod metrics;
pub mod path;
pub mod playlist;
pub mod revocation;
pub mod sendfile;
pub mod serve;
pub mod server;
pub mod shared;
pub mod source;
pub mod startup;
pub mod state;
pub mod sync;
pub mod upstream;

pub use api::{api_service, openapi_yaml};
pub use http::app;
pub use startup::{
    FILE_MEMORY_BYTES, FIRST_SYNC_WAIT, HlsError, HlsOptions, HlsServer, RunningHls, cache_root,
};
