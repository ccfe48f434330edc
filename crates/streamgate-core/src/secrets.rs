//! Secrets StreamGate needs at run time. They never live in `streamgate.toml` (the
//! schema has no place for them); they come from the environment under the seed's
//! names, from `STREAMGATE_*`, or from a file named by `*_FILE` (Docker and systemd
//! secrets). The wrapper type keeps them out of `Debug` output and logs.

use std::fmt;

use base64::Engine as _;
use rand::TryRngCore as _;

/// A secret value whose `Debug` and `Display` never show the content.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from a trusted source.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the few places that must use it (HMAC keys, bcrypt checks).
    /// Named loudly so that reviewers see every use.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` equals the secret, compared in constant time so the answer
    /// takes as long however many leading characters were right.
    pub fn matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The three secrets of the seed's reference tables, each optional here: which ones a
/// process needs depends on its role (see [`crate::Role`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// HMAC-SHA256 key for playback JWTs; shared by platform and HLS servers.
    pub playback_signing_secret: Option<Secret>,
    /// The previous signing key, still accepted for verification during a rotation.
    pub playback_signing_secret_previous: Option<Secret>,
    /// Key the HLS servers present to the platform's internal API.
    pub internal_api_key: Option<Secret>,
    /// bcrypt hash of the admin console password.
    pub admin_password_hash: Option<Secret>,
    /// Key the events' publish keys are derived from (live ingest).
    pub ingest_secret: Option<Secret>,
}

/// Which secret a rule or message is about, with its environment variable names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `PLAYBACK_SIGNING_SECRET`.
    PlaybackSigningSecret,
    /// `PLAYBACK_SIGNING_SECRET_PREVIOUS`.
    PlaybackSigningSecretPrevious,
    /// `INTERNAL_API_KEY`.
    InternalApiKey,
    /// `ADMIN_PASSWORD_HASH`.
    AdminPasswordHash,
    /// `INGEST_SECRET`.
    IngestSecret,
}

impl SecretKind {
    /// Every secret, in the order messages list them.
    pub const ALL: [SecretKind; 5] = [
        SecretKind::PlaybackSigningSecret,
        SecretKind::PlaybackSigningSecretPrevious,
        SecretKind::InternalApiKey,
        SecretKind::AdminPasswordHash,
        SecretKind::IngestSecret,
    ];

    /// The seed's variable name.
    pub fn var(self) -> &'static str {
        match self {
            SecretKind::PlaybackSigningSecret => "PLAYBACK_SIGNING_SECRET",
            SecretKind::PlaybackSigningSecretPrevious => "PLAYBACK_SIGNING_SECRET_PREVIOUS",
            SecretKind::InternalApiKey => "INTERNAL_API_KEY",
            SecretKind::AdminPasswordHash => "ADMIN_PASSWORD_HASH",
            SecretKind::IngestSecret => "INGEST_SECRET",
        }
    }

    /// How to make a value, for "missing secret" messages.
    pub fn how_to_make(self) -> &'static str {
        match self {
            SecretKind::AdminPasswordHash => "make one with `streamgate hash-password`",
            _ => "make one with `streamgate gen-secret`",
        }
    }

    /// The slot in [`Secrets`] this kind fills.
    pub fn slot(self, secrets: &mut Secrets) -> &mut Option<Secret> {
        match self {
            SecretKind::PlaybackSigningSecret => &mut secrets.playback_signing_secret,
            SecretKind::PlaybackSigningSecretPrevious => {
                &mut secrets.playback_signing_secret_previous
            }
            SecretKind::InternalApiKey => &mut secrets.internal_api_key,
            SecretKind::AdminPasswordHash => &mut secrets.admin_password_hash,
            SecretKind::IngestSecret => &mut secrets.ingest_secret,
        }
    }

    /// The current value in `secrets`.
    pub fn get(self, secrets: &Secrets) -> Option<&Secret> {
        match self {
            SecretKind::PlaybackSigningSecret => secrets.playback_signing_secret.as_ref(),
            SecretKind::PlaybackSigningSecretPrevious => {
                secrets.playback_signing_secret_previous.as_ref()
            }
            SecretKind::InternalApiKey => secrets.internal_api_key.as_ref(),
            SecretKind::AdminPasswordHash => secrets.admin_password_hash.as_ref(),
            SecretKind::IngestSecret => secrets.ingest_secret.as_ref(),
        }
    }
}

/// Minimum length of the signing secret (SPEC section 1): shorter HMAC keys are
/// guessable and the seed refuses them too.
pub const MIN_SIGNING_SECRET_LEN: usize = 32;

/// Minimum length of `INTERNAL_API_KEY`: shorter keys can be guessed over the network.
pub const MIN_INTERNAL_API_KEY_LEN: usize = 16;

/// Fewest distinct characters a signing secret or API key may have. A generated secret
/// (`streamgate gen-secret`, `openssl rand -base64 32` or `-hex 16`) has well over this;
/// `aaaa...`, `abab...`, `12121212...` or a string of spaces have fewer, and pass a
/// length check while being worth a handful of guesses.
pub const MIN_DISTINCT_CHARS: usize = 8;

/// What is wrong with `value` as the secret `kind`, as a message naming the variable,
/// or `None` when it is usable. Checked when the environment is loaded, so `validate`
/// reports it and no service starts with it. Length comes first: a short value gets
/// the short-value message, whatever else is wrong with it.
pub fn secret_problem(kind: SecretKind, value: &str) -> Option<String> {
    let var = kind.var();
    let min_len = match kind {
        SecretKind::PlaybackSigningSecret
        | SecretKind::PlaybackSigningSecretPrevious
        | SecretKind::IngestSecret => MIN_SIGNING_SECRET_LEN,
        SecretKind::InternalApiKey => MIN_INTERNAL_API_KEY_LEN,
        SecretKind::AdminPasswordHash => {
            return (!looks_like_bcrypt(value)).then(|| {
                "ADMIN_PASSWORD_HASH is not a bcrypt hash (if it lost its `$` parts, the shell expanded them: quote it or use ADMIN_PASSWORD_HASH_FILE)".to_owned()
            });
        }
    };
    let n = value.chars().count();
    if n < min_len {
        return Some(format!(
            "{var} is {n} characters long; at least {min_len} are required"
        ));
    }
    weakness(value).map(|why| format!("{var} {why}: it is easy to guess whatever its length"))
}

/// Why a long-enough value is still a poor secret, if it is.
fn weakness(value: &str) -> Option<String> {
    if value.chars().all(char::is_whitespace) {
        return Some("is only whitespace".to_owned());
    }
    let mut distinct: Vec<char> = value.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    match distinct.len() {
        1 => Some("is one character repeated".to_owned()),
        n if n < MIN_DISTINCT_CHARS => Some(format!(
            "has only {n} distinct characters (at least {MIN_DISTINCT_CHARS} are required)"
        )),
        _ => None,
    }
}

/// A fresh random secret: base64 of 32 bytes from the operating system's CSPRNG, the
/// same shape as the seed's `openssl rand -base64 32`.
pub fn generate_secret() -> Result<String, rand::rand_core::OsError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Whether `hash` has the shape of a bcrypt hash (`$2a$`, `$2b$` or `$2y$`, cost,
/// 53 characters of salt and digest). Checked at load so that a hash mangled by shell
/// `$` expansion is reported at start, not at the first failed login.
pub fn looks_like_bcrypt(hash: &str) -> bool {
    let bytes = hash.as_bytes();
    hash.len() == 60
        && (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"))
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
        && hash[7..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_secret() {
        let s = Secret::new("internal-key-0123456789");
        assert!(s.matches("internal-key-0123456789"));
        for wrong in [
            "",
            "internal-key-012345678",
            "internal-key-01234567890",
            "INTERNAL-KEY-0123456789",
        ] {
            assert!(!s.matches(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let all = Secrets {
            internal_api_key: Some(s),
            ..Secrets::default()
        };
        assert!(!format!("{all:?}").contains("hunter2"));
    }

    #[test]
    fn generated_secrets_are_long_enough_and_distinct() {
        let a = generate_secret().expect("os rng");
        let b = generate_secret().expect("os rng");
        assert_eq!(a.len(), 44);
        assert!(a.len() >= MIN_SIGNING_SECRET_LEN);
        assert_ne!(a, b);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .expect("base64");
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn bcrypt_shape() {
        assert!(looks_like_bcrypt(
            "$2b$12$LJ3m4ys3Lk0TSwMBQWJJF.FzHqKn5A2n3MpGkbP0U7Q67rJFEyxGq"
        ));
        // What a shell makes of an unquoted hash: `$2b`, `$12` and the rest expanded away.
        assert!(!looks_like_bcrypt(".FzHqKn5A2n3MpGkbP0U7Q67rJFEyxGq"));
        assert!(!looks_like_bcrypt("password"));
    }

    #[test]
    fn poor_secrets_are_refused_for_every_kind_with_a_clear_message() {
        let signing_kinds = [
            SecretKind::PlaybackSigningSecret,
            SecretKind::PlaybackSigningSecretPrevious,
        ];
        let cases: [(&str, String, &str); 5] = [
            ("spaces", " ".repeat(40), "is only whitespace"),
            (
                "tabs and newlines",
                "\t\n ".repeat(14),
                "is only whitespace",
            ),
            ("one character", "a".repeat(40), "is one character repeated"),
            (
                "two characters",
                "ab".repeat(20),
                "has only 2 distinct characters",
            ),
            (
                "seven characters",
                "abcdefg".repeat(6),
                "has only 7 distinct characters",
            ),
        ];
        for kind in signing_kinds
            .into_iter()
            .chain([SecretKind::InternalApiKey, SecretKind::IngestSecret])
        {
            for (what, value, expected) in &cases {
                let message = secret_problem(kind, value)
                    .unwrap_or_else(|| panic!("{} accepted {what}", kind.var()));
                assert!(
                    message.starts_with(kind.var()) && message.contains(expected),
                    "{what}: {message}"
                );
            }
            // A short value is reported as short, not as weak.
            let short = secret_problem(kind, "x").expect("short refused");
            assert!(short.contains("1 characters long"), "{short}");
        }
        // The quality rule is not a length rule in disguise: exactly 20 spaces, the
        // issue's example, is refused for INTERNAL_API_KEY.
        assert!(secret_problem(SecretKind::InternalApiKey, &" ".repeat(20)).is_some());
    }

    #[test]
    fn real_secrets_pass_the_quality_rules() {
        let generated = generate_secret().expect("os rng");
        for kind in SecretKind::ALL.into_iter().take(3) {
            assert_eq!(secret_problem(kind, &generated), None);
            // `openssl rand -hex 16`: 16 distinct characters at most.
            assert_eq!(
                secret_problem(kind, "9f86d081884c7d659a2feaa0c55ad015"),
                None
            );
            assert_eq!(
                secret_problem(kind, "dev-secret-change-me-in-production-32chars"),
                None
            );
        }
    }
}
