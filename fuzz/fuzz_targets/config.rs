//! The config loader (TOML -> schema check -> semantic rules -> typed config): any
//! text gives a config or a report, never a panic; a report always says something.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use streamgate_core::Role;
use streamgate_core::env::Env;
use streamgate_core::load::load_text;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Env::from_pairs([
        (
            "PLAYBACK_SIGNING_SECRET",
            "fuzz-signing-secret-0123456789abcdef",
        ),
        ("INTERNAL_API_KEY", "fuzz-internal-key-0123456789abcdef"),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ]);
    match load_text(
        Path::new("streamgate.toml"),
        Some(text),
        &env,
        Some(Role::Platform),
    ) {
        Ok(loaded) => {
            for event in &loaded.config.events {
                assert!(
                    event.starts_at < event.ends_at,
                    "accepted an event that ends before it starts"
                );
            }
        }
        Err(report) => assert!(!report.to_string().trim().is_empty(), "an empty report"),
    }
});
