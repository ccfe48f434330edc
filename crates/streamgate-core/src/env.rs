//! The environment as StreamGate reads it. Two families of variables override
//! `streamgate.toml`:
//!
//! 1. `STREAMGATE_<SECTION>__<KEY>` for any key of the file (`__` separates nesting
//!    levels), e.g. `STREAMGATE_PLATFORM__LISTEN=0.0.0.0:8080`;
//! 2. the seed's variable names (the deployment guide's reference tables), which win
//!    over everything so that a deployment written for the seed works unchanged.
//!
//! The process environment is captured once into an [`Env`] and passed around, so tests
//! can describe an environment without touching the real one.

use std::collections::BTreeMap;

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// The current process environment. Variables whose name or value is not UTF-8 are
    /// skipped: none of ours can be.
    pub fn from_process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    /// An environment made of the given pairs, for tests and embedding.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A variable's value; an empty value counts as unset, as in most shells' `${X:-}`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every variable, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a variable; used by `streamgate up` to add generated development secrets.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }
}

/// Prefix of the generic per-key overrides.
pub const PREFIX: &str = "STREAMGATE_";

/// Variable naming the config file, like `--config`.
pub const CONFIG_VAR: &str = "STREAMGATE_CONFIG";

/// Debug builds serve the console's files from this directory (the platform's
/// `admin::console`): a development switch, not a configuration key.
pub const DEV_ASSETS_VAR: &str = "STREAMGATE_DEV_ASSETS_DIR";

/// What a seed variable holds, which decides how its text becomes a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedKind {
    /// Taken as text, whatever it looks like (`NEXT_PUBLIC_APP_NAME=1999` stays a name).
    Text,
    /// A whole number.
    Integer,
    /// A number that may have a fraction.
    Number,
    /// A port number replacing the port of the key's socket address.
    Port,
}

/// One row of the seed's reference tables that maps onto a key of `streamgate.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedVar {
    /// The seed's variable name.
    pub name: &'static str,
    /// The dotted key of `streamgate.toml` it sets.
    pub key: &'static str,
    /// How its text is read.
    pub kind: SeedKind,
}

/// Every non-secret seed variable and the key it lands on. Secrets are in
/// [`crate::secrets::SecretKind`]; they have no key in the file.
pub const SEED_VARS: &[SeedVar] = &[
    SeedVar {
        name: "DATABASE_URL",
        key: "platform.database_url",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "HLS_SERVER_BASE_URL",
        key: "hls.public_url",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "NEXT_PUBLIC_APP_NAME",
        key: "platform.app_name",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "SESSION_TIMEOUT_SECONDS",
        key: "platform.session_timeout_seconds",
        kind: SeedKind::Integer,
    },
    SeedVar {
        name: "PLATFORM_APP_URL",
        key: "hls.platform_url",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "CORS_ALLOWED_ORIGIN",
        key: "hls.cors_allowed_origin",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "PORT",
        key: "hls.listen",
        kind: SeedKind::Port,
    },
    SeedVar {
        name: "STREAM_ROOT",
        key: "hls.stream_root",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "UPSTREAM_ORIGIN",
        key: "hls.upstream_origin",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "SEGMENT_CACHE_ROOT",
        key: "hls.segment_cache_root",
        kind: SeedKind::Text,
    },
    SeedVar {
        name: "SEGMENT_CACHE_MAX_SIZE_GB",
        key: "hls.segment_cache_max_size_gb",
        kind: SeedKind::Number,
    },
    SeedVar {
        name: "SEGMENT_CACHE_MAX_AGE_HOURS",
        key: "hls.segment_cache_max_age_hours",
        kind: SeedKind::Number,
    },
    SeedVar {
        name: "REVOCATION_POLL_INTERVAL_MS",
        key: "hls.revocation_poll_interval_ms",
        kind: SeedKind::Integer,
    },
];

/// The seed variable that sets a dotted key, if any (for the configuration reference).
pub fn seed_var_for(key: &str) -> Option<&'static SeedVar> {
    SEED_VARS.iter().find(|v| v.key == key)
}

/// The `STREAMGATE_*` name that sets a dotted key: `platform.rate_limits.refresh_per_hour`
/// is `STREAMGATE_PLATFORM__RATE_LIMITS__REFRESH_PER_HOUR`.
pub fn prefixed_var_for(key: &str) -> String {
    format!("{PREFIX}{}", key.replace('.', "__").to_ascii_uppercase())
}
