//! Every way an operator can get `streamgate.toml` or its environment wrong, each
//! pinned to the message, the key, the rule and the exact place to fix it.

use std::path::Path;

use streamgate_core::env::Env;
use streamgate_core::load::load_text;
use streamgate_core::{Report, Role};

/// A valid file the cases below break one thing at a time.
const BASE: &str = r#"[hls]
stream_root = "streams"

[[events]]
id = "e"
title = "E"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2026-01-02T00:00:00Z
"#;

struct Case {
    name: &'static str,
    toml: &'static str,
    env: &'static [(&'static str, &'static str)],
    role: Option<Role>,
    /// `f.toml:LINE:COL` or `environment variable NAME`.
    location: &'static str,
    path: &'static str,
    /// Start of the rule's display: `schema`, `rule schedule`, `secret missing`...
    rule: &'static str,
    message: &'static str,
    /// How many problems the file has in all (catches double reporting).
    count: usize,
}

const fn case(
    name: &'static str,
    toml: &'static str,
    location: &'static str,
    path: &'static str,
    rule: &'static str,
    message: &'static str,
) -> Case {
    Case {
        name,
        toml,
        env: &[],
        role: None,
        location,
        path,
        rule,
        message,
        count: 1,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "unclosed table header",
            "[platform\nlisten = \"x\"\n",
            "f.toml:1:10",
            "",
            "toml syntax",
            "",
        ),
        case(
            "unknown top-level table",
            "[plaform]\nlisten = \"0.0.0.0:1\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:1:2",
            "plaform",
            "schema",
            "unknown key `plaform`",
        ),
        case(
            "unknown platform key",
            "[platform]\nlistn = \"0.0.0.0:1\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:1",
            "platform.listn",
            "schema",
            "unknown key `listn`",
        ),
        case(
            "unknown event key",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitel = \"E\"\ntitle = \"E\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:5:1",
            "events[0].titel",
            "schema",
            "unknown key `titel`",
        ),
        case(
            "unknown batch key",
            concat!(
                include_str!("../data/base.toml"),
                "[[events.codes]]\nlabel = \"a\"\ncnt = 3\ncount = 3\n"
            ),
            "f.toml:11:1",
            "events[0].codes[0].cnt",
            "schema",
            "unknown key `cnt`",
        ),
        case(
            "number as text",
            "[platform]\nsession_timeout_seconds = \"sixty\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:27",
            "platform.session_timeout_seconds",
            "schema",
            "\"sixty\" is not of type \"integer\"",
        ),
        case(
            "listen as a bare port",
            "[platform]\nlisten = 3000\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:10",
            "platform.listen",
            "schema",
            "3000 is not of type \"string\"",
        ),
        case(
            "boolean as text",
            concat!(include_str!("../data/base.toml"), "active = \"yes\"\n"),
            "f.toml:9:10",
            "events[0].active",
            "schema",
            "\"yes\" is not of type \"boolean\"",
        ),
        case(
            "date in words",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitle = \"E\"\nstarts_at = \"tomorrow\"\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:6:13",
            "events[0].starts_at",
            "schema",
            "is not a \"date-time\"",
        ),
        case(
            "date without offset",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitle = \"E\"\nstarts_at = 2026-01-01T00:00:00\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:6:13",
            "events[0].starts_at",
            "schema",
            "\"2026-01-01T00:00:00\" is not a \"date-time\"",
        ),
        case(
            "month thirteen",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitle = \"E\"\nstarts_at = \"2026-13-01T00:00:00Z\"\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:6:13",
            "events[0].starts_at",
            "schema",
            "is not a \"date-time\"",
        ),
        case(
            "reversed schedule",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitle = \"E\"\nstarts_at = 2026-02-01T00:00:00Z\nends_at = 2026-01-01T00:00:00Z\n",
            "f.toml:7:11",
            "events[0].ends_at",
            "rule schedule",
            "must be after starts_at",
        ),
        case(
            "zero-length event",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\ntitle = \"E\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-01T01:00:00+01:00\n",
            "f.toml:7:11",
            "events[0].ends_at",
            "rule schedule",
            "must be after starts_at",
        ),
        case(
            "duplicate event id",
            concat!(
                include_str!("../data/base.toml"),
                "[[events]]\nid = \"e\"\ntitle = \"F\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n"
            ),
            "f.toml:10:6",
            "events[1].id",
            "rule unique-event-id",
            "already declared by events[0]",
        ),
        case(
            "duplicate batch label",
            concat!(
                include_str!("../data/base.toml"),
                "[[events.codes]]\nlabel = \"a\"\ncount = 1\n[[events.codes]]\nlabel = \"a\"\ncount = 2\n"
            ),
            "f.toml:13:9",
            "events[0].codes[1].label",
            "rule unique-batch-label",
            "already used by codes[0]",
        ),
        case(
            "uppercase slug",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"Keynote\"\ntitle = \"E\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:4:6",
            "events[0].id",
            "schema",
            "does not match",
        ),
        case(
            "slug too long",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\ntitle = \"E\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:4:6",
            "events[0].id",
            "schema",
            "does not match",
        ),
        case(
            "access window too long",
            concat!(
                include_str!("../data/base.toml"),
                "access_window_hours = 169\n"
            ),
            "f.toml:9:23",
            "events[0].access_window_hours",
            "schema",
            "169 is greater than the maximum of 168",
        ),
        case(
            "negative access window",
            concat!(
                include_str!("../data/base.toml"),
                "access_window_hours = -1\n"
            ),
            "f.toml:9:23",
            "events[0].access_window_hours",
            "schema",
            "-1 is less than the minimum of 0",
        ),
        case(
            "empty batch",
            concat!(
                include_str!("../data/base.toml"),
                "[[events.codes]]\nlabel = \"a\"\ncount = 0\n"
            ),
            "f.toml:11:9",
            "events[0].codes[0].count",
            "schema",
            "0 is less than the minimum of 1",
        ),
        case(
            "huge batch",
            concat!(
                include_str!("../data/base.toml"),
                "[[events.codes]]\nlabel = \"a\"\ncount = 100001\n"
            ),
            "f.toml:11:9",
            "events[0].codes[0].count",
            "schema",
            "100001 is greater than the maximum of 100000",
        ),
        case(
            "signing secret in file",
            "[platform]\nplayback_signing_secret = \"0123456789012345678901234567890123\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:1",
            "platform.playback_signing_secret",
            "secret secret-in-file",
            "looks like a secret",
        ),
        case(
            "secrets table in file",
            "[secrets]\ninternal_api_key = \"k\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:1:2",
            "secrets",
            "secret secret-in-file",
            "`secrets` looks like a secret",
        ),
        case(
            "database password in file",
            "[platform]\ndatabase_url = \"postgres://app:hunter2@db:5432/sg\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:16",
            "platform.database_url",
            "secret secret-in-file",
            "database_url holds a password",
        ),
        case(
            "no HLS content",
            "[platform]\napp_name = \"X\"\n[hls]\nlisten = \"0.0.0.0:4000\"\n",
            "f.toml:3:1",
            "hls",
            "rule hls-source",
            "needs content",
        ),
        case(
            "public url without scheme",
            "[platform]\npublic_url = \"localhost:3000\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:14",
            "platform.public_url",
            "rule url",
            "not an http:// or https:// URL",
        ),
        case(
            "poster over ftp",
            concat!(
                include_str!("../data/base.toml"),
                "poster_url = \"ftp://example.com/p.jpg\"\n"
            ),
            "f.toml:9:14",
            "events[0].poster_url",
            "rule url",
            "not an http:// or https:// URL",
        ),
        case(
            "playlist outside the event's folder",
            concat!(
                include_str!("../data/base.toml"),
                "playlist = \"../other/index.m3u8\"\n"
            ),
            "f.toml:9:12",
            "events[0].playlist",
            "schema",
            "does not match",
        ),
        case(
            "missing title",
            "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"e\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n",
            "f.toml:3:1",
            "events[0]",
            "schema",
            "missing required key `title`",
        ),
        case(
            "events as text",
            "events = \"keynote\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:1:10",
            "events",
            "schema",
            "is not of type \"array\"",
        ),
        case(
            "cors origin with a path",
            "[hls]\nstream_root = \"s\"\ncors_allowed_origin = \"https://app.example.com/player\"\n",
            "f.toml:3:23",
            "hls.cors_allowed_origin",
            "rule cors-origin",
            "more than scheme, host and port",
        ),
        case(
            "undeclared edge",
            "[hls]\nstream_root = \"s\"\nedge_id = \"eu\"\n",
            "f.toml:3:11",
            "hls.edge_id",
            "rule edge-declared",
            "edge `eu` is not declared",
        ),
        case(
            "duplicate edge",
            "[hls]\nstream_root = \"s\"\n[[topology.edges]]\nid = \"eu\"\npublic_url = \"https://eu.example.com\"\n[[topology.edges]]\nid = \"eu\"\npublic_url = \"https://eu2.example.com\"\n",
            "f.toml:7:6",
            "topology.edges[1].id",
            "rule unique-edge-id",
            "already used by topology.edges[0]",
        ),
        case(
            "heartbeat slower than timeout",
            "[platform]\nsession_timeout_seconds = 30\nheartbeat_interval_seconds = 30\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:27",
            "platform.session_timeout_seconds",
            "rule session-timeout",
            "must be longer than heartbeat_interval_seconds",
        ),
        case(
            "unsupported database",
            "[platform]\ndatabase_url = \"mysql://db/sg\"\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:16",
            "platform.database_url",
            "rule database-url",
            "not a database URL",
        ),
        case(
            "proxy by name",
            "[platform]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.local\"]\n[hls]\nstream_root = \"s\"\n",
            "f.toml:2:32",
            "platform.trusted_proxies[1]",
            "schema",
            "does not match",
        ),
        Case {
            env: &[("SESSION_TIMEOUT_SECONDS", "abc")],
            ..case(
                "seed number not a number",
                BASE,
                "environment variable SESSION_TIMEOUT_SECONDS",
                "platform.session_timeout_seconds",
                "environment",
                "\"abc\" is not a whole number",
            )
        },
        Case {
            env: &[("STREAMGATE_PLATFORM__LISTN", "0.0.0.0:1")],
            ..case(
                "unknown key from the environment",
                BASE,
                "environment variable STREAMGATE_PLATFORM__LISTN",
                "platform.listn",
                "environment",
                "unknown key `listn`",
            )
        },
        Case {
            env: &[("STREAMGATE_HLS__LISTEN", "everywhere")],
            ..case(
                "bad value from the environment",
                BASE,
                "environment variable STREAMGATE_HLS__LISTEN",
                "hls.listen",
                "environment",
                "everywhere",
            )
        },
        Case {
            env: &[("PORT", "70000")],
            ..case(
                "port out of range",
                BASE,
                "environment variable PORT",
                "hls.listen",
                "environment",
                "not a port number",
            )
        },
        Case {
            env: &[("UPSTREAM_ORIGIN", "origin.example.com")],
            ..case(
                "upstream without scheme",
                BASE,
                "environment variable UPSTREAM_ORIGIN",
                "hls.upstream_origin",
                "environment",
                "relative URL without a base",
            )
        },
        Case {
            env: &[("PLAYBACK_SIGNING_SECRET", "too-short")],
            ..case(
                "short signing secret",
                BASE,
                "environment variable PLAYBACK_SIGNING_SECRET",
                "",
                "secret malformed",
                "9 characters long; at least 32",
            )
        },
        Case {
            env: &[("ADMIN_PASSWORD_HASH", ".FzHqKn5A2n3MpGkbP0U7Q67rJFEyxGq")],
            ..case(
                "hash mangled by the shell",
                BASE,
                "environment variable ADMIN_PASSWORD_HASH",
                "",
                "secret malformed",
                "not a bcrypt hash",
            )
        },
        Case {
            env: &[
                ("INTERNAL_API_KEY", "0123456789abcdef"),
                ("INTERNAL_API_KEY_FILE", "/run/secrets/k"),
            ],
            ..case(
                "secret set twice",
                BASE,
                "environment variable INTERNAL_API_KEY, INTERNAL_API_KEY_FILE",
                "",
                "secret ambiguous",
                "set 2 ways at once",
            )
        },
        Case {
            env: &[("INTERNAL_API_KEY_FILE", "/nonexistent/streamgate-key")],
            ..case(
                "secret file missing",
                BASE,
                "environment variable INTERNAL_API_KEY_FILE",
                "",
                "secret file",
                "cannot read secret file",
            )
        },
        Case {
            role: Some(Role::Hls),
            env: &[("INTERNAL_API_KEY", "0123456789abcdef")],
            ..case(
                "hls without signing secret",
                BASE,
                "environment variable PLAYBACK_SIGNING_SECRET",
                "",
                "secret missing",
                "PLAYBACK_SIGNING_SECRET is required but not set",
            )
        },
    ]
}

fn report_for(case: &Case) -> Report {
    match load_text(
        Path::new("f.toml"),
        Some(case.toml),
        &Env::from_pairs(case.env.iter().copied()),
        case.role,
    ) {
        Ok(_) => panic!(
            "{}: expected problems, the configuration was accepted",
            case.name
        ),
        Err(report) => report,
    }
}

#[test]
fn every_broken_configuration_is_reported_where_it_can_be_fixed() {
    let cases = cases();
    assert!(
        cases.len() >= 25,
        "the issue asks for at least 25 broken files"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let report = report_for(case);
        let found = report.diagnostics.iter().any(|d| {
            d.location.to_string() == case.location
                && d.path.to_string() == case.path
                && d.rule.to_string().starts_with(case.rule)
                && d.message.contains(case.message)
        });
        if !found || report.diagnostics.len() != case.count {
            failures.push(format!(
                "{}: wanted {} problem(s) incl. `{}: {}: ..{}.. [{}..]`, got:\n{report}",
                case.name, case.count, case.location, case.path, case.message, case.rule
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_base_file_of_the_table_is_valid() {
    // Otherwise a case could pass because of the base, not its own break.
    let loaded =
        load_text(Path::new("f.toml"), Some(BASE), &Env::default(), None).expect("base is valid");
    assert_eq!(loaded.config.events.len(), 1);
    assert_eq!(include_str!("../data/base.toml"), BASE);
}

#[test]
fn every_problem_of_a_file_is_reported_in_one_run() {
    let text = "[platform]\nlistn = 1\nsession_timeout_seconds = \"x\"\n[hls]\n[[events]]\nid = \"A\"\ntitle = \"t\"\nstarts_at = 2026-01-01T00:00:00Z\nends_at = 2026-01-02T00:00:00Z\n[[events]]\nid = \"b\"\ntitle = \"t\"\nstarts_at = 2026-02-01T00:00:00Z\nends_at = 2026-01-01T00:00:00Z\n";
    let report =
        load_text(Path::new("f.toml"), Some(text), &Env::default(), None).expect_err("broken");
    let lines: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.location, d.path))
        .collect();
    assert_eq!(
        lines,
        [
            "f.toml:2:1 platform.listn",
            "f.toml:3:27 platform.session_timeout_seconds",
            "f.toml:4:1 hls",
            "f.toml:6:6 events[0].id",
            "f.toml:14:11 events[1].ends_at",
        ],
        "{report}"
    );
    assert!(report.to_string().ends_with("5 problems found"));
}

#[test]
fn an_event_with_a_schema_error_still_gets_its_rules_checked() {
    let text = "[hls]\nstream_root = \"s\"\n[[events]]\nid = \"one\"\ntitle = \"One\"\nstarts_at = 2030-01-02T00:00:00Z\nends_at = 2030-01-01T00:00:00Z\naccess_window_hours = 999\n[[events.codes]]\nlabel = \"x\"\ncount = \"many\"\n";
    let report =
        load_text(Path::new("f.toml"), Some(text), &Env::default(), None).expect_err("broken");
    let lines: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| format!("{} {} [{}]", d.location, d.path, d.rule))
        .collect();
    assert_eq!(
        lines,
        [
            "f.toml:7:11 events[0].ends_at [rule schedule]",
            "f.toml:8:23 events[0].access_window_hours [schema /$defs/EventConfig/properties/access_window_hours/maximum]",
            "f.toml:11:9 events[0].codes[0].count [schema /$defs/CodeBatchConfig/properties/count/type]",
        ],
        "{report}"
    );
}

#[test]
fn every_bad_environment_variable_is_reported_in_one_run() {
    let mut env = Env::default();
    for (name, value) in [
        ("STREAMGATE_PLATFORM__SESSION_TIMEOUT_SECONDS", "abc"),
        ("STREAMGATE_PLATFORM__HEARTBEAT_INTERVAL_SECONDS", "-5"),
        ("STREAMGATE_HLS__UPSTREAM_TIMEOUT_SECONDS", "soon"),
        ("STREAMGATE_HLS__BOGUS", "1"),
        ("PORT", "xyz"),
    ] {
        env.set(name, value);
    }
    let report = load_text(Path::new("f.toml"), Some(BASE), &env, None).expect_err("broken");
    let mut vars: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| format!("{} [{}]", d.location, d.rule))
        .collect();
    vars.sort();
    assert_eq!(
        vars,
        [
            "environment variable PORT [environment]",
            "environment variable STREAMGATE_HLS__BOGUS [environment]",
            "environment variable STREAMGATE_HLS__UPSTREAM_TIMEOUT_SECONDS [environment]",
            "environment variable STREAMGATE_PLATFORM__HEARTBEAT_INTERVAL_SECONDS [environment]",
            "environment variable STREAMGATE_PLATFORM__SESSION_TIMEOUT_SECONDS [environment]",
        ],
        "{report}"
    );
}

#[test]
fn syntax_errors_point_at_the_mistake_and_every_rule_is_named() {
    for (text, at) in [
        ("a = \"x\nb = 1\n", "f.toml:1:"),
        ("a = \"\"\"never closed\nb = 1\nc = 2\n", "f.toml:1:5"),
        ("a = '''never closed\nb = 1\n", "f.toml:1:5"),
        ("[platform\nlisten = \"x\"\n", "f.toml:1:"),
    ] {
        let report =
            load_text(Path::new("f.toml"), Some(text), &Env::default(), None).expect_err("broken");
        let shown = report.to_string();
        assert!(
            shown.starts_with(&format!("error: {at}")),
            "{text:?}: {shown}"
        );
    }
    // A rule tag is never empty (`[schema ]`), whichever pass found the problem.
    let mut env = Env::default();
    env.set("STREAMGATE_PLATFORM__SESSION_TIMEOUT_SECONDS", "abc");
    let text = format!("{BASE}\n[[events.codes]]\nlabel = \"t\"\ncount = 1\nextra = 1\n");
    let report = load_text(Path::new("f.toml"), Some(&text), &env, None).expect_err("broken");
    for d in &report.diagnostics {
        let rule = d.rule.to_string();
        assert!(
            !rule.trim().is_empty() && !rule.ends_with(' '),
            "unnamed rule in {report}"
        );
    }
}

#[test]
fn invalid_utf8_is_reported_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.toml");
    std::fs::write(&path, b"[platform]\napp_name = \"Caf\xe9\"\n").expect("write");
    let options = streamgate_core::LoadOptions {
        config_path: Some(path.clone()),
        ..Default::default()
    };
    let report = streamgate_core::load(&options).expect_err("not UTF-8");
    let shown = report.to_string();
    assert!(
        shown.contains(&format!("{}:2:16", path.display())) && shown.contains("0xE9"),
        "{shown}"
    );
}

#[test]
fn tools_may_use_the_prefix_but_a_key_with_one_underscore_is_caught() {
    let mut env = Env::default();
    env.set("STREAMGATE_BIN", "/usr/local/bin/streamgate");
    env.set(
        "STREAMGATE_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1/postgres",
    );
    load_text(Path::new("f.toml"), Some(BASE), &env, None)
        .expect("tool variables are not configuration");

    env.set("STREAMGATE_PLATFORM_LISTEN", "0.0.0.0:3000");
    env.set("STREAMGATE_HLS__NO_SUCH_KEY", "1");
    let report = load_text(Path::new("f.toml"), Some(BASE), &env, None).expect_err("typos");
    let shown = report.to_string();
    assert!(
        shown.contains(
            "environment variable STREAMGATE_PLATFORM_LISTEN: looks like a `platform` setting"
        ) && shown.contains("STREAMGATE_PLATFORM__LISTEN"),
        "{shown}"
    );
    assert!(
        shown.contains("environment variable STREAMGATE_HLS__NO_SUCH_KEY"),
        "{shown}"
    );
    assert!(shown.ends_with("2 problems found"), "{shown}");
}

/// `[events.ingest]` mistakes, each reported where it is: a port two events share or
/// the HLS server's own, a rendition folder named twice, a missing `INGEST_SECRET`
/// where the ingest runs, and none needed where it does not (a platform host).
#[test]
fn ingest_tables_are_checked_against_each_other_and_the_services() {
    let text = r#"[hls]
listen = "127.0.0.1:9000"
stream_root = "streams"

[[events]]
id = "a"
title = "A"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2026-01-02T00:00:00Z
[events.ingest]
port = 9000
renditions = [{ name = "720p", height = 720, video_kbps = 2800 }, { name = "720p", height = 480, video_kbps = 1400 }]

[[events]]
id = "b"
title = "B"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2026-01-02T00:00:00Z
[events.ingest]
protocol = "rtmp"
port = 9000
"#;
    let env = Env::from_pairs([
        (
            "PLAYBACK_SIGNING_SECRET",
            "ingest-test-signing-secret-0123456789ab",
        ),
        ("INTERNAL_API_KEY", "ingest-test-internal-key-0123"),
    ]);
    let report =
        load_text(Path::new("f.toml"), Some(text), &env, Some(Role::Hls)).expect_err("refused");
    let shown = report.to_string();
    for expected in [
        "f.toml:11:8: events[0].ingest.port: ingest port 9000 is hls.listen's port",
        "events[0].ingest.renditions[1].name: rendition `720p` is already declared by renditions[0]",
        "events[1].ingest.port: ingest port 9000 is already used by events[0]",
        "INGEST_SECRET is required but not set",
    ] {
        assert!(shown.contains(expected), "{expected:?} not in:\n{shown}");
    }
    // The platform does not run the ingest: no INGEST_SECRET needed there.
    let fixed = text
        .replace("port = 9000\nrenditions", "port = 9001\nrenditions")
        .replace(
            "protocol = \"rtmp\"\nport = 9000",
            "protocol = \"rtmp\"\nport = 9002",
        )
        .replace(
            "{ name = \"720p\", height = 480",
            "{ name = \"480p\", height = 480",
        );
    let platform_env = Env::from_pairs([
        (
            "PLAYBACK_SIGNING_SECRET",
            "ingest-test-signing-secret-0123456789ab",
        ),
        ("INTERNAL_API_KEY", "ingest-test-internal-key-0123"),
        (
            "ADMIN_PASSWORD_HASH",
            "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS8y6ZkzqDvWqqbDNrXxZ6YQ1Y6F6H5y",
        ),
    ]);
    load_text(
        Path::new("f.toml"),
        Some(&fixed),
        &platform_env,
        Some(Role::Platform),
    )
    .expect("a platform host needs no INGEST_SECRET");
    // An edge that only proxies does not ingest either.
    let edge = fixed.replace(
        "stream_root = \"streams\"",
        "upstream_origin = \"http://origin/\"",
    );
    load_text(Path::new("f.toml"), Some(&edge), &env, Some(Role::Hls))
        .expect("a proxying edge needs no INGEST_SECRET");
    // `streamgate ingest` needs somewhere to write.
    let rootless = fixed.replace("stream_root = \"streams\"", "");
    let ingest_env = Env::from_pairs([(
        "INGEST_SECRET",
        "ingest-test-ingest-secret-0123456789abcdef",
    )]);
    let report = load_text(
        Path::new("f.toml"),
        Some(&rootless),
        &ingest_env,
        Some(Role::Ingest),
    )
    .expect_err("no stream root");
    assert!(
        report
            .to_string()
            .contains("ingest writes into hls.stream_root, which is not set"),
        "{report}"
    );
}
