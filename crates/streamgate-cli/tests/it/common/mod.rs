//! The platform in-process, for CLI tests that need one beside the binary they run.

#![allow(dead_code)]

pub mod binary;
pub mod browser;
pub mod ingest;

use streamgate_platform::RunningPlatform;

/// The internal API key the in-process platform expects.
pub const INTERNAL_KEY: &str = streamgate_testkit::harness::INTERNAL_KEY;

/// The platform on `database_url` with this config text, serving on a free port.
pub async fn platform(database_url: &str, config: &str) -> RunningPlatform {
    let mut env = streamgate_testkit::harness::env();
    env.set("DATABASE_URL", database_url);
    streamgate_testkit::harness::start_platform(config, env, None).await
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
