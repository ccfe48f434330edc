//! The platform service: where an access code becomes a playback token.
//!
//! [`Platform::build`] does everything that can fail before the first request (open
//! and migrate the database, apply `streamgate.toml`, check the signing secret, reach
//! Redis, bind the port) and hands back the bound address, so tests run the real
//! service on port 0. [`Platform::run`] serves until the shutdown future resolves, with
//! the config watcher and the PostgreSQL LISTEN task beside it under one
//! [`streamgate_core::tasks::Supervisor`] (a task that fails stops the platform with
//! that error), and drains in-flight requests before returning.
//!
//! Modules: `startup` (build, spawn, run), `http` (the application around the API:
//! assets, limits, access log), `api` (endpoint groups, tags, the OpenAPI document);
//! one per API group (`viewer`, `internal`, `health`, `admin` with the console), plus
//! the pieces they share (`error`, `client_ip`, `ratelimit`, `feed`, `probe`,
//! `metrics`, `state`).

pub mod admin;
pub mod api;
pub mod assets;
pub mod audience;
pub mod client_ip;
pub mod error;
pub mod feed;
pub mod health;
pub mod http;
pub mod internal;
pub mod metrics;
pub mod probe;
pub mod ratelimit;
pub mod session_events;
pub mod startup;
pub mod state;
pub mod viewer;

pub use api::{AdminApis, ApiTags, Apis, api_service, openapi_yaml};
pub use http::{MAX_BODY_BYTES, app};
pub use startup::{Platform, PlatformError, PlatformOptions, RunningPlatform};
