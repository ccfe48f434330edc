//! Admin API tokens: how scripts and generated clients authenticate to the admin API
//! without the console's session cookie. A token is 32 random bytes shown once when
//! made; the database keeps only its SHA-256, so a copy of the database does not hand
//! out admin access. A revoked token is kept (with when) so the audit trail still
//! names it.

use sha2::{Digest, Sha256};

use crate::logs::{self, Audit};
use crate::{Store, StoreError, now_ms};

/// Prefix of every token, so one found in a log or a paste is recognisable.
pub const TOKEN_PREFIX: &str = "sgadm_";

/// One token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdminToken {
    /// Row id.
    pub id: String,
    /// The name given at creation (unique).
    pub name: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last accepted use.
    pub last_used_at: Option<i64>,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
}

/// Why a token could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is empty, too long or has characters other than letters, digits, `-`,
    /// `_` and `.`.
    #[error("token names are 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName,
    /// A token with this name exists (revoked or not).
    #[error("a token named {0:?} exists already")]
    Exists(String),
    /// No token has this name.
    #[error("no token named {0:?}")]
    NotFound(String),
    /// The random source failed.
    #[error("the operating system's random source failed")]
    Random,
    /// A database error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Store(StoreError::from(e))
    }
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Makes a token named `name`; returns the token, which is not stored anywhere.
pub async fn create(store: &Store, name: &str) -> Result<String, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName);
    }
    let secret = streamgate_core::secrets::generate_secret().map_err(|_| TokenError::Random)?;
    // URL-safe and without padding, so it pastes into headers and shells unquoted.
    let token = format!(
        "{TOKEN_PREFIX}{}",
        secret
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    );
    let mut tx = store.begin_write().await?;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM admin_tokens WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
    if exists > 0 {
        return Err(TokenError::Exists(name.to_owned()));
    }
    sqlx::query(
        "INSERT INTO admin_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(name)
    .bind(hash(&token))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    logs::append_audit(
        &mut tx,
        Audit {
            actor: "cli",
            action: "admin_token.create",
            target: Some(name),
            outcome: "ok",
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Every token, oldest first.
pub async fn list(store: &Store) -> Result<Vec<AdminToken>, TokenError> {
    Ok(sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY created_at, name",
    )
    .fetch_all(store.pool())
    .await?)
}

/// Revokes the token named `name` (revoking a revoked token changes nothing).
pub async fn revoke(store: &Store, name: &str) -> Result<(), TokenError> {
    let mut tx = store.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE name = $2",
    )
    .bind(now_ms())
    .bind(name)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(TokenError::NotFound(name.to_owned()));
    }
    logs::append_audit(
        &mut tx,
        Audit {
            actor: "cli",
            action: "admin_token.revoke",
            target: Some(name),
            outcome: "ok",
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The name of the live token `presented` is, if any; records the use. The lookup is
/// by SHA-256, so the comparison never touches the token itself byte by byte.
pub async fn authenticate(store: &Store, presented: &str) -> Result<Option<String>, TokenError> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let name: Option<String> = sqlx::query_scalar(
        "SELECT name FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash(presented))
    .fetch_optional(store.pool())
    .await?;
    let Some(name) = name else {
        return Ok(None);
    };
    sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE name = $2")
        .bind(now_ms())
        .bind(&name)
        .execute(store.pool())
        .await?;
    Ok(Some(name))
}

/// The moment (Unix ms) before which console session cookies are no longer accepted:
/// the last console logout, or 0.
pub async fn console_sessions_valid_after(store: &Store) -> Result<i64, TokenError> {
    let valid_after: Option<i64> =
        sqlx::query_scalar("SELECT valid_after FROM console_sessions WHERE id = 1")
            .fetch_optional(store.pool())
            .await?;
    Ok(valid_after.unwrap_or(0))
}

/// Ends every console session issued up to `at` (Unix ms), on every instance.
pub async fn end_console_sessions(store: &Store, at: i64) -> Result<(), TokenError> {
    sqlx::query(
        "INSERT INTO console_sessions (id, valid_after) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET valid_after = excluded.valid_after",
    )
    .bind(at)
    .execute(store.pool())
    .await?;
    Ok(())
}
