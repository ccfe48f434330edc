//! One session's playback token used from two client addresses at once (a shared
//! `?__token=` URL), against the real platform and HLS server. The two viewers are two
//! real source addresses on loopback (127.0.0.1 and 127.0.0.2). The edge reports the
//! session to the platform (console, audit entry, metric) and, in `refuse` mode, gives
//! the later address the usual 403; a viewer whose address changes plays on.

use crate::common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use serde_json::Value;

const PLAYLIST: &str = "/streams/demo/index.m3u8";

fn client_from(addr: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(addr.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn play(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let resp = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    let body = if status == 200 {
        Value::Null
    } else {
        resp.json().await.unwrap_or_default()
    };
    (status, body)
}

async fn token_for(platform: &Running<streamgate_platform::state::AppState>, code: &str) -> String {
    redeem(platform, code).await["playbackToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_addresses_on_one_token_are_reported_and_the_later_one_refused() {
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(3)).await;
    let section = format!(
        "{}shared_token = \"refuse\"\n",
        local_section(&sample_streams())
    );
    let hls = hls(&section, "", Some(&platform.base)).await;
    let codes = codes(&db, "demo").await;
    let token = token_for(&platform, &codes[0].1).await;
    let url = hls.url(PLAYLIST);
    let (home, friend) = (client_from("127.0.0.1"), client_from("127.0.0.2"));

    assert_eq!(play(&home, &url, &token).await.0, 200);
    assert_eq!(play(&friend, &url, &token).await.0, 200, "not proven yet");
    assert_eq!(play(&home, &url, &token).await.0, 200, "the owner plays on");
    let (status, body) = play(&friend, &url, &token).await;
    assert_eq!(
        (status, body),
        (403, serde_json::json!({"error": "Access denied"})),
        "the later address gets the usual vague 403"
    );
    assert_eq!(play(&home, &url, &token).await.0, 200);

    // The platform records it on the session, in the audit log and in a metric.
    let store = &platform.state.store;
    let marked = eventually(Duration::from_secs(15), || async {
        streamgate_store::sessions::open_for_event(store, &"demo".into())
            .await
            .expect("sessions")
            .iter()
            .any(|s| s.shared_at.is_some())
    })
    .await;
    assert!(marked, "the session was marked shared");
    let sessions = streamgate_store::sessions::open_for_event(store, &"demo".into())
        .await
        .expect("sessions");
    let shared: Vec<_> = sessions.iter().filter(|s| s.shared_at.is_some()).collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].code_id, codes[0].0);
    assert_eq!(
        shared[0].shared_addresses.as_deref(),
        Some("127.0.0.1, 127.0.0.2")
    );
    let (audit, total) =
        streamgate_store::logs::audit_page(store, Some("session.token_shared"), None, 1, 10)
            .await
            .expect("audit");
    assert_eq!(total, 1);
    // Without an edge id the edge is named by its address.
    assert_eq!(audit[0].actor, "edge:127.0.0.1");
    assert_eq!(audit[0].outcome, "refused");
    let metrics = get_text(&platform.url("/metrics")).await;
    assert!(
        metrics.contains("streamgate_shared_tokens_total{action=\"refused\"} 1"),
        "{metrics}"
    );
    // The console's session list carries it.
    let admin = streamgate_store::admin_tokens::create(store, "shared-test")
        .await
        .expect("admin token");
    let list: Value = reqwest::Client::new()
        .get(platform.url("/api/admin/events/demo/sessions"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("sessions")
        .json()
        .await
        .expect("json");
    let items = list["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|s| s["tokenSharedAt"].is_string()
                && s["sharedAddresses"] == "127.0.0.1, 127.0.0.2"),
        "{list}"
    );
    let edge_metrics = get_text(&hls.url("/metrics")).await;
    assert!(
        edge_metrics.contains("streamgate_hls_requests_total{outcome=\"denied_shared\"} 1"),
        "{edge_metrics}"
    );

    // Another viewer changes address (Wi-Fi to mobile): the old one goes quiet, the new
    // one plays at once and on, and nothing is reported.
    let token = token_for(&platform, &codes[1].1).await;
    for _ in 0..3 {
        assert_eq!(play(&home, &url, &token).await.0, 200);
    }
    for n in 0..5 {
        assert_eq!(
            play(&friend, &url, &token).await.0,
            200,
            "after the change, {n}"
        );
    }
    assert_eq!(
        hls.state.shared.detected(),
        1,
        "only the first session was shared"
    );
    hls.stop().await;
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_mode_reports_and_keeps_serving_both() {
    let db = TestDb::sqlite();
    let platform = platform(&db, &demo_events(1)).await;
    let hls = hls(&local_section(&sample_streams()), "", Some(&platform.base)).await;
    let codes = codes(&db, "demo").await;
    let token = token_for(&platform, &codes[0].1).await;
    let url = hls.url(PLAYLIST);
    let (home, friend) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    for _ in 0..3 {
        assert_eq!(play(&home, &url, &token).await.0, 200);
        assert_eq!(play(&friend, &url, &token).await.0, 200);
    }
    let store = &platform.state.store;
    let reported = eventually(Duration::from_secs(15), || async {
        streamgate_store::logs::audit_page(store, Some("session.token_shared"), None, 1, 10)
            .await
            .map(|(entries, _)| entries.first().is_some_and(|e| e.outcome == "reported"))
            .unwrap_or(false)
    })
    .await;
    assert!(reported, "the default mode reports");
    assert_eq!(hls.state.shared.refused(), 0);
    hls.stop().await;
    platform.stop().await;
}
