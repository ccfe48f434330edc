//! The admin API's credentials. Scripts and generated clients send an admin API token
//! (`streamgate admin-token create`) as `Authorization: Bearer`; it is looked up by its
//! SHA-256, and a revoked or unknown token is a 401. The console's session cookie and
//! the admin endpoints that use these credentials build on this module.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, SecurityScheme};
use streamgate_store::admin_tokens;

use crate::error::ApiError;
use crate::state::AppState;
use crate::viewer::ApiTags;

/// An admin API token in `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct AdminToken(Bearer);

/// Who an admin request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// An admin API token, by name.
    Token(String),
}

impl Admin {
    /// The audit log's actor for this admin: `admin-token:<name>`.
    pub fn actor(&self) -> String {
        match self {
            Admin::Token(name) => format!("admin-token:{name}"),
        }
    }
}

/// Checks the credential of an admin request.
pub async fn authenticate(state: &AppState, token: &AdminToken) -> Result<Admin, ApiError> {
    match admin_tokens::authenticate(&state.store, &token.0.token).await {
        Ok(Some(name)) => Ok(Admin::Token(name)),
        Ok(None) => Err(ApiError::unauthorized("Invalid admin credentials")),
        Err(e) => {
            tracing::error!("admin token check failed: {e}");
            Err(ApiError::internal())
        }
    }
}

/// `GET /api/admin/session` body.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminSession {
    /// Always true (an unauthenticated request gets 401).
    pub authenticated: bool,
    /// `token` for an admin API token.
    pub via: String,
    /// The token's name.
    pub name: String,
}

/// Admin endpoints.
pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Who the credential belongs to; 401 without a valid one.
    #[oai(
        path = "/api/admin/session",
        method = "get",
        operation_id = "adminSession"
    )]
    async fn session(
        &self,
        state: Data<&Arc<AppState>>,
        token: AdminToken,
    ) -> Result<Json<AdminSession>, ApiError> {
        let Admin::Token(name) = authenticate(&state, &token).await?;
        Ok(Json(AdminSession {
            authenticated: true,
            via: "token".into(),
            name,
        }))
    }
}
