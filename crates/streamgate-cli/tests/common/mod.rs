//! The platform in-process, for CLI tests that need one beside the binary they run.

#![allow(dead_code)]

pub mod binary;
pub mod browser;
pub mod ingest;

use std::path::Path;

use streamgate_core::env::Env;
use streamgate_core::{Role, load::load_text};
use streamgate_platform::{Platform, PlatformOptions, RunningPlatform};

pub const INTERNAL_KEY: &str = "cli-test-internal-key-0123456789";

/// The platform on `database_url` with this config text, serving on a free port.
pub async fn platform(database_url: &str, config: &str) -> RunningPlatform {
    let mut env = Env::from_pairs([
        (
            "PLAYBACK_SIGNING_SECRET",
            "cli-test-signing-secret-0123456789abcdef",
        ),
        ("INTERNAL_API_KEY", INTERNAL_KEY),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ]);
    env.set("DATABASE_URL", database_url);
    let loaded = load_text(
        Path::new("streamgate.toml"),
        Some(config),
        &env,
        Some(Role::Platform),
    )
    .unwrap_or_else(|r| panic!("{r}"));
    Platform::build(
        loaded.config,
        &loaded.secrets,
        PlatformOptions {
            watch: None,
            env,
            prune: false,
            config_file: None,
        },
    )
    .await
    .expect("platform starts")
    .spawn()
}

/// `POST /api/tokens/validate` with `code`, as the portal sends it; the answer's body.
pub async fn redeem(client: &reqwest::Client, platform: &str, code: &str) -> serde_json::Value {
    client
        .post(format!("{platform}/api/tokens/validate"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .expect("validate")
        .json()
        .await
        .expect("json")
}
