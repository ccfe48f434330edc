//! StreamGate's shared core: the configuration model that `streamgate.toml` is checked
//! against, the layered loader that merges it with the environment, the validator that
//! reports every problem at once with a file location, and small domain types.
//!
//! This crate does no network or database I/O so that every other crate (store,
//! platform, HLS server, CLI) can depend on it and so that its rules can be tested as
//! plain functions. The one exception is reading the config file and `*_FILE` secrets,
//! which is what loading a configuration means. What both services share beyond types
//! lives here too: the revocation feed's wire contract ([`revocation`]) and the
//! shutdown and task supervision primitive ([`tasks`]).

pub mod code;
pub mod config;
pub mod csv;
pub mod env;
pub mod ids;
pub mod ingest;
pub mod jwt;
pub mod load;
pub mod playlist;
pub mod redact;
pub mod reference;
pub mod revocation;
pub mod secrets;
pub mod slug;
pub mod tasks;
pub mod timestamp;
pub mod validate;

pub use code::AccessCode;
pub use config::Config;
pub use ids::{CodeId, EventId, SessionId};
pub use load::{ConfigSource, LoadOptions, Loaded, Role, load};
pub use playlist::Playlist;
pub use secrets::{Secret, Secrets};
pub use slug::Slug;
pub use timestamp::Timestamp;
pub use validate::{Diagnostic, Location, Report, Rule};
