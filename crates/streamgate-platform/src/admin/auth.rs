//! Who may use the admin API, and how they prove it.
//!
//! The console logs in with the admin password (bcrypt, `ADMIN_PASSWORD_HASH`) and gets
//! an encrypted session cookie: AES-256-GCM through the cookie crate's private jar, so
//! the browser can neither read nor forge it, and any platform instance with the same
//! secrets can check it (no server-side session store, no sticky sessions). The key is
//! derived from the playback signing secret *and* the password hash, so changing the
//! admin password logs every console out. Scripts and generated clients send an admin
//! API token (`streamgate admin-token create`) as `Authorization: Bearer` instead.
//!
//! A cookie needs no server-side session, so logout records the moment before which
//! every console cookie is refused (the `console_sessions` table, read on each console
//! request): logging out ends every console session, on every instance, at once.
//!
//! A cookie rides along on any request the browser makes, so state-changing requests
//! that authenticate with it must also come from our own origin (the `Origin` header);
//! bearer tokens are never sent by a browser on its own and need no such check.

use std::sync::Arc;
use std::time::Duration;

use poem::Request;
use poem::http::Method;
use poem::web::Data;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, SecurityScheme};
use streamgate_store::logs::{self, Audit};
use streamgate_store::{admin_tokens, format_ms, now_ms};

use super::keys::CookieClaims;
pub use super::keys::{AdminKeys, COOKIE_NAME, SESSION_TTL};
use crate::api::ApiTags;
use crate::client_ip::client_ip_text;
use crate::error::ApiError;
use crate::ratelimit::Limit;
use crate::state::AppState;

/// An admin API token in `Authorization: Bearer`, checked against the database.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_token")]
pub struct AdminToken(pub Admin);

/// The console's encrypted session cookie, set by `POST /api/admin/login`; checked by
/// decrypting it, its expiry, and for state-changing methods the request's origin.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "streamgate_admin",
    key_in = "cookie",
    checker = "check_cookie"
)]
pub struct AdminCookie(pub Admin);

/// Either admin credential. The checks run while the request is taken apart, before
/// its body is parsed, so an unauthenticated caller learns nothing about input rules.
#[derive(SecurityScheme)]
pub enum AdminAuth {
    /// A script or generated client.
    Token(AdminToken),
    /// The console.
    Cookie(AdminCookie),
}

impl AdminAuth {
    /// Who is asking.
    pub fn admin(&self) -> &Admin {
        match self {
            AdminAuth::Token(AdminToken(admin)) | AdminAuth::Cookie(AdminCookie(admin)) => admin,
        }
    }
}

/// Who an admin request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// Logged in to the console with the password.
    Console {
        /// When the login runs out, Unix ms.
        expires_at: i64,
    },
    /// An admin API token, by name.
    Token(String),
}

impl Admin {
    /// The audit log's actor: `admin` for the console, `admin-token:<name>` for a token.
    pub fn actor(&self) -> String {
        match self {
            Admin::Console { .. } => "admin".to_owned(),
            Admin::Token(name) => format!("admin-token:{name}"),
        }
    }
}

fn app_state(req: &Request) -> poem::Result<&Arc<AppState>> {
    req.data::<Arc<AppState>>()
        .ok_or_else(|| ApiError::internal().into())
}

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Admin> {
    let state = app_state(req)?;
    match admin_tokens::authenticate(&state.store, &bearer.token).await {
        Ok(Some(name)) => Ok(Admin::Token(name)),
        Ok(None) => Err(ApiError::unauthorized("Invalid admin credentials").into()),
        Err(e) => {
            tracing::error!("admin token check failed: {e}");
            Err(ApiError::unavailable("Service temporarily unavailable").into())
        }
    }
}

async fn check_cookie(req: &Request, _cookie: ApiKey) -> poem::Result<Admin> {
    let state = app_state(req)?;
    let claims = console_session(state, req)
        .ok_or_else(|| ApiError::unauthorized("Session expired, log in again"))?;
    let valid_after = admin_tokens::console_sessions_valid_after(&state.store)
        .await
        .map_err(|e| {
            tracing::error!("console session check failed: {e}");
            ApiError::unavailable("Service temporarily unavailable")
        })?;
    if claims.iat <= valid_after {
        return Err(ApiError::unauthorized("Logged out, log in again").into());
    }
    let expires_at = claims.exp;
    if !matches!(*req.method(), Method::GET | Method::HEAD) && !same_origin(state, req, true) {
        return Err(ApiError::forbidden("Cross-origin request refused").into());
    }
    Ok(Admin::Console { expires_at })
}

/// The console session's claims when the request carries a cookie we made that has
/// not run out (whether a logout ended it is checked by the caller).
fn console_session(state: &AppState, req: &Request) -> Option<CookieClaims> {
    let cookie = req
        .cookie()
        .private_with_key(&state.admin.cookie_key)
        .get(COOKIE_NAME)?;
    let claims: CookieClaims = serde_json::from_str(cookie.value_str()).ok()?;
    let now = now_ms();
    (claims.exp > now && claims.iat <= now + 60_000).then_some(claims)
}

/// Whether the request's `Origin` is the platform's own: its public URL's origin, or
/// the origin the request was addressed to (`Host`). A cross-site page cannot choose
/// either. `required`: a request without `Origin` fails (browsers send it on every
/// state-changing fetch).
pub fn same_origin(state: &AppState, req: &Request, required: bool) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return !required;
    };
    let origin = origin.trim_end_matches('/');
    let config = state.config();
    let public = config.platform.public_url.origin().ascii_serialization();
    if origin.eq_ignore_ascii_case(&public) {
        return true;
    }
    let Some(host) = req.headers().get("host").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let scheme = if served_over_https(state, req) {
        "https"
    } else {
        "http"
    };
    origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
}

/// Whether the browser reached us over https: the public URL says so, or a trusted
/// proxy in front of us says so in `X-Forwarded-Proto`.
fn served_over_https(state: &AppState, req: &Request) -> bool {
    let config = state.config();
    if config.platform.public_url.scheme() == "https" {
        return true;
    }
    let trusted = &config.platform.trusted_proxies;
    let peer_trusted = req
        .remote_addr()
        .as_socket_addr()
        .is_some_and(|a| trusted.iter().any(|t| t.contains(a.ip())));
    peer_trusted
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// `POST /api/admin/login` body.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// The admin password.
    #[oai(nullable)]
    pub password: Option<String>,
}

/// `GET /api/admin/session` and login answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminSession {
    /// Always true (an unauthenticated request gets 401).
    pub authenticated: bool,
    /// `cookie` for the console, `token` for an admin API token.
    pub via: String,
    /// `admin`, or the token's name.
    pub name: String,
    /// When a console login runs out (RFC 3339); absent for tokens.
    #[oai(nullable)]
    pub expires_at: Option<String>,
}

impl AdminSession {
    fn of(admin: &Admin) -> Self {
        match admin {
            Admin::Console { expires_at } => Self {
                authenticated: true,
                via: "cookie".into(),
                name: "admin".into(),
                expires_at: Some(format_ms(*expires_at)),
            },
            Admin::Token(name) => Self {
                authenticated: true,
                via: "token".into(),
                name: name.clone(),
                expires_at: None,
            },
        }
    }
}

/// `POST /api/admin/logout` answer.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct LogoutResponse {
    /// Always true: the cookie is cleared whether or not it was valid.
    pub logged_out: bool,
}

/// Login, logout and the session check.
pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AuthApi {
    /// Logs the console in with the admin password and sets the encrypted session
    /// cookie (HttpOnly, SameSite=Strict, Secure over https, 8 hours). 401 for a wrong
    /// password, 429 over the per-IP login limit, 503 when no admin password is set.
    #[oai(
        path = "/api/admin/login",
        method = "post",
        operation_id = "adminLogin"
    )]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        jar: &CookieJar,
        body: Json<LoginRequest>,
    ) -> Result<Json<AdminSession>, ApiError> {
        if !same_origin(&state, req, false) {
            return Err(ApiError::forbidden("Cross-origin request refused"));
        }
        let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
        let config = state.config();
        let limit = Limit {
            name: "login",
            max: config.platform.rate_limits.admin_login_per_minute,
            window: Duration::from_secs(60),
        };
        if let Err(e) = state.limiter.hit(limit, &ip).await {
            return Err(ApiError::too_many(e.retry_after));
        }
        let password = body.0.password.unwrap_or_default();
        if password.is_empty() {
            return Err(ApiError::bad_request("Password is required"));
        }
        let Some(hash) = state.admin.password_hash.clone() else {
            return Err(ApiError::unavailable(
                "Admin login is not configured: set ADMIN_PASSWORD_HASH",
            ));
        };
        // bcrypt is deliberately slow: keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || {
            bcrypt::verify(password.as_bytes(), hash.expose()).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        let audit = |outcome: &'static str| Audit {
            actor: &ip,
            action: "admin.login",
            target: None,
            outcome,
            detail: None,
        };
        if !ok {
            record(&state, audit("invalid_password")).await;
            return Err(ApiError::unauthorized("Invalid password"));
        }
        let now = now_ms();
        let expires = now + i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
        let mut cookie = Cookie::new_with_str(COOKIE_NAME, state.admin.seal_session(now, expires));
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Strict);
        cookie.set_path("/");
        cookie.set_max_age(SESSION_TTL);
        cookie.set_secure(served_over_https(&state, req));
        jar.add(cookie);
        record(&state, audit("ok")).await;
        Ok(Json(AdminSession::of(&Admin::Console {
            expires_at: expires,
        })))
    }

    /// Logs the console out: clears the cookie and ends every console session.
    #[oai(
        path = "/api/admin/logout",
        method = "post",
        operation_id = "adminLogout"
    )]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        jar: &CookieJar,
    ) -> Result<Json<LogoutResponse>, ApiError> {
        if !same_origin(&state, req, false) {
            return Err(ApiError::forbidden("Cross-origin request refused"));
        }
        let was_logged_in = console_session(&state, req).is_some();
        if was_logged_in {
            // Ends this and every other console session (one admin password, one
            // "log out everywhere"). Only a logged-in console may do it.
            if let Err(e) = admin_tokens::end_console_sessions(&state.store, now_ms()).await {
                tracing::error!("console logout failed: {e}");
                return Err(ApiError::unavailable("Service temporarily unavailable"));
            }
        }
        let mut removal = Cookie::new_with_str(COOKIE_NAME, "");
        removal.set_http_only(true);
        removal.set_same_site(SameSite::Strict);
        removal.set_path("/");
        removal.set_secure(served_over_https(&state, req));
        removal.make_removal();
        jar.add(removal);
        if was_logged_in {
            let ip = client_ip_text(req, &state.config().platform.trusted_proxies);
            record(
                &state,
                Audit {
                    actor: &ip,
                    action: "admin.logout",
                    target: None,
                    outcome: "ok",
                    detail: None,
                },
            )
            .await;
        }
        Ok(Json(LogoutResponse { logged_out: true }))
    }

    /// Who the credential belongs to; 401 without a valid one.
    #[oai(
        path = "/api/admin/session",
        method = "get",
        operation_id = "adminSession"
    )]
    async fn session(&self, auth: AdminAuth) -> Result<Json<AdminSession>, ApiError> {
        Ok(Json(AdminSession::of(auth.admin())))
    }
}

/// Appends an audit entry; a failure is logged, not returned (the action happened).
pub async fn record(state: &AppState, entry: Audit<'_>) {
    if let Err(e) = logs::audit(&state.store, entry).await {
        tracing::error!("audit log write failed: {e}");
    }
}
