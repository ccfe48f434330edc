//! The token gate: a token string other than the one the platform signed never gets
//! in (whatever its header, algorithm, claims or encoding), a valid token gets in only
//! on its own event's paths, and nothing panics.
#![no_main]

use std::sync::{Arc, RwLock};

use libfuzzer_sys::fuzz_target;
use streamgate_core::jwt::{Claims, PlaybackKeys};
use streamgate_core::secrets::Secret;
use streamgate_hls::gate::Gate;
use streamgate_hls::path::StreamPath;
use streamgate_hls::revocation::RevocationSet;

fuzz_target!(|data: &[u8]| {
    let keys = PlaybackKeys::new(&Secret::new("fuzz-signing-secret-0123456789abcdef"), None)
        .expect("keys");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = Claims {
        sub: "code-1".into(),
        eid: "demo".into(),
        sid: "session-1".into(),
        sp: Claims::stream_prefix("demo"),
        iat: now,
        exp: now + 3600,
        nbf: None,
        probe: false,
    };
    let valid = keys.sign(&claims).expect("sign");
    let gate = Gate::new(keys, Arc::new(RwLock::new(RevocationSet::default())));
    let demo = StreamPath::parse("/streams/demo/index.m3u8").expect("path");
    assert!(gate.check(&valid, false, &demo, "GET").is_ok());

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // Flip bytes of the valid token at fuzzer-chosen places.
        let mut bytes = valid.clone().into_bytes();
        for pair in rest.chunks(2) {
            if let [at, with] = pair {
                let i = usize::from(*at) % bytes.len();
                bytes[i] ^= with;
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let path_text = format!(
        "/streams/{}",
        String::from_utf8_lossy(&rest[rest.len() / 2..])
    );
    let path = StreamPath::parse(&path_text).unwrap_or_else(|| demo.clone());
    for (is_head, method) in [(false, "GET"), (true, "HEAD")] {
        let result = gate.check(&token, is_head, &path, method);
        if token != valid {
            assert!(
                result.is_err(),
                "a token that was not signed got in: {token:?}"
            );
        } else if path.event_id() != "demo" {
            assert!(
                result.is_err(),
                "a token got into another event: {path_text:?}"
            );
        }
    }
});
