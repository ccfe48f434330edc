//! The admin credentials the platform starts with: the password hash and the console
//! cookie's key, derived from secrets. Kept apart from the endpoints (`auth`) so the
//! shared state can hold them without the state and the endpoints importing each other.

use std::time::Duration;

use poem::web::cookie::{Cookie, CookieJar, CookieKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use streamgate_core::secrets::Secret;

/// The console's session cookie.
pub const COOKIE_NAME: &str = "streamgate_admin";

/// How long a console login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The admin credentials the platform was started with.
pub struct AdminKeys {
    pub(crate) password_hash: Option<Secret>,
    pub(crate) cookie_key: CookieKey,
}

impl std::fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminKeys")
            .field("password_configured", &self.password_hash.is_some())
            .finish_non_exhaustive()
    }
}

impl AdminKeys {
    /// Derives the cookie key from the signing secret and the password hash (either
    /// changing invalidates every console session).
    pub fn new(signing_secret: &Secret, password_hash: Option<Secret>) -> Self {
        let mut master = Sha256::new();
        master.update(b"streamgate admin session cookie v1\0");
        master.update(signing_secret.expose().as_bytes());
        master.update(b"\0");
        if let Some(hash) = &password_hash {
            master.update(hash.expose().as_bytes());
        }
        let master = master.finalize();
        Self {
            password_hash,
            cookie_key: CookieKey::derive_from(&master),
        }
    }

    /// The encrypted cookie value of a console session issued at `issued_at` and
    /// running out at `expires_at` (Unix milliseconds). Login uses it; so do tests that
    /// need an expired session, which no honest clock can make.
    pub fn seal_session(&self, issued_at: i64, expires_at: i64) -> String {
        let claims = CookieClaims {
            iat: issued_at,
            exp: expires_at,
        };
        let jar = CookieJar::default();
        let value = serde_json::to_string(&claims).unwrap_or_default();
        jar.private_with_key(&self.cookie_key)
            .add(Cookie::new_with_str(COOKIE_NAME, value));
        jar.get(COOKIE_NAME)
            .map(|c| c.value_str().to_owned())
            .unwrap_or_default()
    }
}

/// What the encrypted cookie holds.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CookieClaims {
    /// Issued, Unix ms.
    pub(crate) iat: i64,
    /// Expires, Unix ms.
    pub(crate) exp: i64,
}
