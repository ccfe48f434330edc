//! The committed `openapi.yaml` is what the code generates (clients are generated from
//! it without building), and the running service serves the same description.
//! `STREAMGATE_BLESS=1 cargo test` rewrites the file after an intended API change.

use crate::common;

use std::path::PathBuf;

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let generated = streamgate_platform::openapi_yaml();
    if std::env::var_os("STREAMGATE_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.yaml");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` (or STREAMGATE_BLESS=1 cargo test) and commit it"
    );
    for path in [
        "/api/tokens/validate",
        "/api/playback/refresh",
        "/api/playback/heartbeat",
        "/api/playback/release",
        "/api/events/{id}/status",
        "/api/revocations",
        "/health",
        "/metrics",
    ] {
        assert!(generated.contains(&format!("  {path}:")), "{path} missing");
    }
}

#[tokio::test]
async fn the_service_serves_its_description_and_docs() {
    let db = common::TestDb::sqlite();
    let app = common::App::start(&db).await;
    let (status, spec) = app.get("/openapi.json", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(spec["info"]["title"], "StreamGate platform API");
    assert!(spec["paths"]["/api/tokens/validate"]["post"].is_object());
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    app.stop().await;
}
