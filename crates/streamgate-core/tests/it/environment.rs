//! The environment layers: every variable of the seed's reference tables lands on its
//! key with its seed meaning, `STREAMGATE_*` reaches any key, `*_FILE` reads secrets
//! from files, and the precedence is defaults < file < STREAMGATE_* < seed names.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Value, json};
use streamgate_core::env::{Env, SEED_VARS};
use streamgate_core::load::{LoadOptions, load, load_text};
use streamgate_core::secrets::SecretKind;
use streamgate_core::{Loaded, Role};

const FILE: &str = r#"[platform]
session_timeout_seconds = 90

[hls]
listen = "127.0.0.1:4000"
stream_root = "streams"
"#;

fn load_with(pairs: &[(&str, &str)]) -> Loaded {
    match load_text(
        Path::new("f.toml"),
        Some(FILE),
        &Env::from_pairs(pairs.iter().copied()),
        None,
    ) {
        Ok(loaded) => loaded,
        Err(report) => panic!("{pairs:?} rejected:\n{report}"),
    }
}

fn value_at(loaded: &Loaded, dotted: &str) -> Value {
    let whole = serde_json::to_value(&loaded.config).expect("config serialises");
    let pointer = format!("/{}", dotted.replace('.', "/"));
    whole.pointer(&pointer).cloned().unwrap_or(Value::Null)
}

#[test]
fn every_seed_variable_lands_on_its_key() {
    let table: &[(&str, &str, &str, Value)] = &[
        (
            "DATABASE_URL",
            "file:./dev.db",
            "platform.database_url",
            json!("file:./dev.db"),
        ),
        (
            "HLS_SERVER_BASE_URL",
            "https://hls.example.com",
            "hls.public_url",
            json!("https://hls.example.com/"),
        ),
        (
            "NEXT_PUBLIC_APP_NAME",
            "1999",
            "platform.app_name",
            json!("1999"),
        ),
        (
            "SESSION_TIMEOUT_SECONDS",
            "75",
            "platform.session_timeout_seconds",
            json!(75),
        ),
        (
            "PLATFORM_APP_URL",
            "http://platform:3000",
            "hls.platform_url",
            json!("http://platform:3000/"),
        ),
        (
            "CORS_ALLOWED_ORIGIN",
            "http://localhost:3000",
            "hls.cors_allowed_origin",
            json!("http://localhost:3000"),
        ),
        // PORT replaces the port and keeps the address the file chose.
        ("PORT", "4100", "hls.listen", json!("127.0.0.1:4100")),
        (
            "STREAM_ROOT",
            "/streams",
            "hls.stream_root",
            json!("/streams"),
        ),
        (
            "UPSTREAM_ORIGIN",
            "https://origin.example.com",
            "hls.upstream_origin",
            json!("https://origin.example.com/"),
        ),
        (
            "SEGMENT_CACHE_ROOT",
            "/var/cache/sg",
            "hls.segment_cache_root",
            json!("/var/cache/sg"),
        ),
        (
            "SEGMENT_CACHE_MAX_SIZE_GB",
            "2.5",
            "hls.segment_cache_max_size_gb",
            json!(2.5),
        ),
        (
            "SEGMENT_CACHE_MAX_AGE_HOURS",
            "12",
            "hls.segment_cache_max_age_hours",
            json!(12.0),
        ),
        (
            "REVOCATION_POLL_INTERVAL_MS",
            "1500",
            "hls.revocation_poll_interval_ms",
            json!(1500),
        ),
    ];
    assert_eq!(
        table.len(),
        SEED_VARS.len(),
        "a seed variable has no test row"
    );
    for (var, raw, key, expected) in table {
        let declared = SEED_VARS
            .iter()
            .find(|s| s.name == *var)
            .unwrap_or_else(|| panic!("{var} not declared"));
        assert_eq!(declared.key, *key, "{var}");
        let before = value_at(&load_with(&[]), key);
        let loaded = load_with(&[(var, raw)]);
        assert_eq!(value_at(&loaded, key), *expected, "{var}={raw}");
        assert_ne!(
            before, *expected,
            "{var}: the test value must differ from the file/default"
        );
        assert!(
            loaded
                .env_overrides
                .iter()
                .any(|(p, v)| p.to_string() == *key && v == var),
            "{var} not recorded as the source of {key}"
        );
    }
}

#[test]
fn every_secret_comes_from_its_variable_its_prefixed_twin_or_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = [
        (
            SecretKind::PlaybackSigningSecret,
            "signing-0123456789abcdef-0123456789".to_owned(),
        ),
        (
            SecretKind::PlaybackSigningSecretPrevious,
            "previous-0123456789abcdef-0123456789".to_owned(),
        ),
        (
            SecretKind::InternalApiKey,
            "internal-0123456789abcdef".to_owned(),
        ),
        (
            SecretKind::AdminPasswordHash,
            "$2b$12$LJ3m4ys3Lk0TSwMBQWJJF.FzHqKn5A2n3MpGkbP0U7Q67rJFEyxGq".to_owned(),
        ),
    ];
    for (kind, value) in &values {
        let file = dir.path().join(kind.var());
        let mut f = std::fs::File::create(&file).expect("create");
        // Docker secrets and `echo > file` leave a trailing newline.
        writeln!(f, "{value}").expect("write");
        let file = file.to_string_lossy().into_owned();
        for (name, raw) in [
            (kind.var().to_owned(), value.clone()),
            (format!("STREAMGATE_{}", kind.var()), value.clone()),
            (format!("{}_FILE", kind.var()), file.clone()),
            (format!("STREAMGATE_{}_FILE", kind.var()), file.clone()),
        ] {
            let loaded = load_with(&[(&name, &raw)]);
            let got = kind.get(&loaded.secrets).map(|s| s.expose().to_owned());
            assert_eq!(got.as_deref(), Some(value.as_str()), "{name}");
        }
    }
}

#[test]
fn a_role_starts_once_its_secrets_are_set() {
    let env = Env::from_pairs([
        (
            "PLAYBACK_SIGNING_SECRET",
            "dev-secret-change-me-in-production-32chars",
        ),
        ("INTERNAL_API_KEY", "dev-internal-api-key-change-me"),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$LJ3m4ys3Lk0TSwMBQWJJF.FzHqKn5A2n3MpGkbP0U7Q67rJFEyxGq",
        ),
    ]);
    for role in [Role::Up, Role::Platform, Role::Hls] {
        let loaded = load_text(Path::new("f.toml"), Some(FILE), &env, Some(role))
            .expect("the seed's development values are accepted");
        assert!(loaded.notes.is_empty());
    }
    // The seed's minimum .env, verbatim, on a platform-only host with no stream root.
    let platform_only = load_text(Path::new("f.toml"), None, &env, Some(Role::Platform))
        .expect("platform needs no HLS content");
    assert_eq!(platform_only.config.hls.stream_root, None);
}

#[test]
fn precedence_is_defaults_then_file_then_prefixed_then_seed() {
    assert_eq!(
        value_at(&load_with(&[]), "platform.heartbeat_interval_seconds"),
        json!(30),
        "default"
    );
    assert_eq!(
        value_at(&load_with(&[]), "platform.session_timeout_seconds"),
        json!(90),
        "file over default"
    );
    let prefixed = load_with(&[("STREAMGATE_PLATFORM__SESSION_TIMEOUT_SECONDS", "120")]);
    assert_eq!(
        value_at(&prefixed, "platform.session_timeout_seconds"),
        json!(120),
        "STREAMGATE_* over file"
    );
    let seed = load_with(&[
        ("STREAMGATE_PLATFORM__SESSION_TIMEOUT_SECONDS", "120"),
        ("SESSION_TIMEOUT_SECONDS", "150"),
    ]);
    assert_eq!(
        value_at(&seed, "platform.session_timeout_seconds"),
        json!(150),
        "seed name over STREAMGATE_*"
    );
    let nested = load_with(&[
        ("STREAMGATE_PLATFORM__RATE_LIMITS__REFRESH_PER_HOUR", "20"),
        (
            "STREAMGATE_HLS__CORS_ALLOWED_ORIGIN",
            "https://app.example.com",
        ),
    ]);
    assert_eq!(
        value_at(&nested, "platform.rate_limits.refresh_per_hour"),
        json!(20)
    );
    assert_eq!(
        value_at(&nested, "hls.cors_allowed_origin"),
        json!("https://app.example.com")
    );
    let list = load_with(&[(
        "STREAMGATE_PLATFORM__TRUSTED_PROXIES",
        "[\"10.0.0.0/8\", \"192.168.1.1\"]",
    )]);
    assert_eq!(
        value_at(&list, "platform.trusted_proxies"),
        json!(["10.0.0.0/8", "192.168.1.1"])
    );
}

#[test]
fn config_file_comes_from_the_option_then_streamgate_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    std::fs::write(
        &a,
        "[platform]\napp_name = \"A\"\n[hls]\nstream_root = \"s\"\n",
    )
    .expect("write");
    std::fs::write(
        &b,
        "[platform]\napp_name = \"B\"\n[hls]\nstream_root = \"s\"\n",
    )
    .expect("write");
    let env = Env::from_pairs([("STREAMGATE_CONFIG", b.to_string_lossy().into_owned())]);
    let by_var = load(&LoadOptions {
        config_path: None,
        env: env.clone(),
        role: None,
        require_secrets: false,
    })
    .expect("b loads");
    assert_eq!(by_var.config.platform.app_name, "B");
    let by_flag = load(&LoadOptions {
        config_path: Some(a.clone()),
        env,
        role: None,
        require_secrets: false,
    })
    .expect("a loads");
    assert_eq!(by_flag.config.platform.app_name, "A");
    let missing = load(&LoadOptions {
        config_path: Some(dir.path().join("nope.toml")),
        ..LoadOptions::default()
    })
    .expect_err("an explicit missing file is an error");
    assert!(
        missing.to_string().contains("cannot read the config file"),
        "{missing}"
    );
}

#[test]
fn the_committed_streamgate_toml_is_valid_and_declares_the_demo() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../streamgate.toml");
    let text = std::fs::read_to_string(&path).expect("streamgate.toml exists");
    assert!(text.starts_with("#:schema ./schemas/streamgate.schema.json\n"));
    let loaded =
        load_text(&path, Some(&text), &Env::default(), None).unwrap_or_else(|r| panic!("{r}"));
    let demo = loaded
        .config
        .events
        .iter()
        .find(|e| e.id.as_str() == "demo")
        .expect("demo event");
    assert!(
        demo.starts_at.get() < time::OffsetDateTime::now_utc(),
        "the demo has started"
    );
    assert!(
        demo.ends_at.get().year() >= 2099,
        "and ends far in the future"
    );
    assert!(!demo.codes.is_empty());
}
