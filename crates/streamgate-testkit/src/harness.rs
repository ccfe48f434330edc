//! What the platform, HLS and CLI test harnesses share: the test secrets and the
//! environment that carries them, so every harness signs and checks with the same keys.

use std::path::Path;

use streamgate_core::Role;
use streamgate_core::env::Env;
use streamgate_core::load::{Loaded, load_text};

/// `PLAYBACK_SIGNING_SECRET` in tests.
pub const SIGNING_SECRET: &str = "test-signing-secret-0123456789abcdef";
/// `INTERNAL_API_KEY` in tests.
pub const INTERNAL_KEY: &str = "test-internal-key-0123456789";
/// `ADMIN_PASSWORD_HASH` in tests (bcrypt of the admin password the admin tests use).
pub const ADMIN_HASH: &str = "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y";

/// The three secrets as `(name, value)` pairs, for a spawned binary's environment.
pub const SECRETS: [(&str, &str); 3] = [
    ("PLAYBACK_SIGNING_SECRET", SIGNING_SECRET),
    ("INTERNAL_API_KEY", INTERNAL_KEY),
    ("ADMIN_PASSWORD_HASH", ADMIN_HASH),
];

/// The environment an in-process platform or HLS server loads its config with.
pub fn env() -> Env {
    Env::from_pairs(SECRETS)
}

/// The config `text` loaded as `streamgate.toml` for `role` with `env`; a config a test
/// wrote wrong panics with the loader's report.
pub fn load(text: &str, env: &Env, role: Role) -> Loaded {
    load_text(Path::new("streamgate.toml"), Some(text), env, Some(role))
        .unwrap_or_else(|r| panic!("{r}"))
}

/// The platform with this config `text` and `env`, built as `streamgate platform
/// --no-watch` builds it and serving (on the port the text names; tests use port 0).
/// `config_file`: the file name the admin API's messages point to (`None`: none read).
#[cfg(feature = "platform")]
pub async fn start_platform(
    text: &str,
    env: Env,
    config_file: Option<std::path::PathBuf>,
) -> streamgate_platform::RunningPlatform {
    let loaded = load(text, &env, Role::Platform);
    streamgate_platform::Platform::build(
        loaded.config,
        &loaded.secrets,
        streamgate_platform::PlatformOptions {
            watch: None,
            env,
            prune: false,
            config_file,
        },
    )
    .await
    .expect("platform starts")
    .spawn()
}
