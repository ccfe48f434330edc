//! The HLS server's service surface: CORS for the one allowed origin, `/health`,
//! `/metrics` accepted by Prometheus's own checker, and the committed OpenAPI
//! description matching the code.

use crate::common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

#[tokio::test]
async fn cors_allows_only_the_configured_origin() {
    let section = format!(
        "{}cors_allowed_origin = \"https://watch.example.com\"\n",
        local_section(&sample_streams())
    );
    let hls = hls(&section, "", None).await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            hls.url("/streams/demo/index.m3u8"),
        )
        .header("origin", "https://watch.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization, range")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://watch.example.com"
    );
    assert_eq!(h["access-control-max-age"], "86400");
    let methods = h["access-control-allow-methods"]
        .to_str()
        .expect("text")
        .to_ascii_uppercase();
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert!(!methods.contains("POST"), "{methods}");
    let headers = h["access-control-allow-headers"]
        .to_str()
        .expect("text")
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("range"),
        "{headers}"
    );

    let token = sign(&claims("demo"));
    let get = client
        .get(hls.url("/streams/demo/index.m3u8"))
        .header("origin", "https://watch.example.com")
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "https://watch.example.com"
    );

    let foreign = client
        .request(
            reqwest::Method::OPTIONS,
            hls.url("/streams/demo/index.m3u8"),
        )
        .header("origin", "https://evil.example.net")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        foreign.headers()
    );
    hls.stop().await;
}

#[tokio::test]
async fn health_and_metrics_describe_the_edge() {
    let section = format!("{}edge_id = \"eu-1\"\n", local_section(&sample_streams()));
    let edges = "[[topology.edges]]\nid = \"eu-1\"\npublic_url = \"https://eu.example.com\"\n";
    let hls = hls(&section, edges, None).await;
    let health = get_json(&hls.url("/health")).await;
    assert_eq!(health["mode"], "local");
    assert_eq!(health["edgeId"], "eu-1");
    assert_eq!(
        health["status"], "starting",
        "no platform to sync from: {health}"
    );
    assert_eq!(health["revocationCacheSize"], 0);
    let url = hls.url("/health");
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            get_json(&url).await["syncError"]
                .as_str()
                .is_some_and(|e| e.contains("cannot reach"))
        })
        .await,
        "the failing sync shows on /health"
    );

    let token = sign(&claims("demo"));
    assert_eq!(
        get_status(&hls.url("/streams/demo/index.m3u8"), Some(&token)).await,
        200
    );
    assert_eq!(
        get_status(&hls.url("/streams/demo/index.m3u8"), None).await,
        401
    );
    let metrics = get_text(&hls.url("/metrics")).await;
    assert!(
        metrics.contains("streamgate_hls_requests_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("streamgate_hls_requests_total{outcome=\"unauthorized\"} 1"));
    match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(metrics.as_bytes())
                .expect("write");
            let out = child.wait_with_output().expect("promtool");
            assert!(
                out.status.success(),
                "promtool refused /metrics: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(_) if std::env::var_os("CI").is_some() => panic!("promtool is required under CI"),
        Err(_) => eprintln!("skipping the promtool check: promtool is not installed"),
    }
    hls.stop().await;
}

#[test]
fn committed_openapi_hls_yaml_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi-hls.yaml");
    let generated = streamgate_hls::openapi_yaml();
    if std::env::var_os("STREAMGATE_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write openapi-hls.yaml");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi-hls.yaml is stale: run `cargo run -- openapi --service hls > openapi-hls.yaml` (or STREAMGATE_BLESS=1 cargo test) and commit it"
    );
    let spec: serde_yaml::Value = serde_yaml::from_str(&generated).expect("valid YAML");
    let paths = &spec["paths"];
    for (path, method) in [
        ("/streams/{eventId}/{path}", "get"),
        ("/streams/{eventId}/{path}", "head"),
        ("/health", "get"),
        ("/metrics", "get"),
        ("/admin/cache/{event_id}", "delete"),
    ] {
        assert!(paths[path][method].is_mapping(), "{method} {path} missing");
    }
    assert!(spec["components"]["securitySchemes"]["PlaybackToken"].is_mapping());
    assert!(spec["components"]["schemas"]["ErrorBody"].is_mapping());
}
