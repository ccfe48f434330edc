//! What the codes and sessions endpoints take and answer, as the OpenAPI document
//! describes them, and how store rows become them.

use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object};
use streamgate_store::codes::{CodeRow, CodeStatus};
use streamgate_store::format_ms;

/// Most codes one bulk revoke may name.
pub const MAX_BULK: usize = 1000;

/// A code's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Status {
    /// Never redeemed.
    Unused,
    /// Redeemed, no live session now.
    Redeemed,
    /// Watching now.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

impl From<CodeStatus> for Status {
    fn from(s: CodeStatus) -> Self {
        match s {
            CodeStatus::Unused => Status::Unused,
            CodeStatus::Redeemed => Status::Redeemed,
            CodeStatus::Active => Status::Active,
            CodeStatus::Expired => Status::Expired,
            CodeStatus::Revoked => Status::Revoked,
        }
    }
}

impl From<Status> for CodeStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Unused => CodeStatus::Unused,
            Status::Redeemed => CodeStatus::Redeemed,
            Status::Active => CodeStatus::Active,
            Status::Expired => CodeStatus::Expired,
            Status::Revoked => CodeStatus::Revoked,
        }
    }
}

/// An access code as the admin API shows it.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminCode {
    /// Row id (what revoke and bulk revoke take).
    pub id: String,
    /// The code printed on the ticket.
    pub code: String,
    /// Its event.
    pub event_id: String,
    /// The event's title.
    pub event_title: String,
    /// Operator label.
    #[oai(nullable)]
    pub label: Option<String>,
    // No doc comment here: poem-openapi would wrap the enum's $ref in an allOf that
    // client generators cannot take (openapi-python-client refuses allOf of an enum).
    pub status: Status,
    /// First redemption (RFC 3339).
    #[oai(nullable)]
    pub redeemed_at: Option<String>,
    /// Address of the first redemption.
    #[oai(nullable)]
    pub redeemed_ip: Option<String>,
    /// When revoked (RFC 3339).
    #[oai(nullable)]
    pub revoked_at: Option<String>,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
    /// Made (RFC 3339).
    pub created_at: String,
}

impl From<CodeRow> for AdminCode {
    fn from(c: CodeRow) -> Self {
        Self {
            id: c.id.into_string(),
            code: c.code,
            event_id: c.event_id.into_string(),
            event_title: c.event_title,
            label: c.label,
            status: c.status.into(),
            redeemed_at: c.redeemed_at.map(format_ms),
            redeemed_ip: c.redeemed_ip,
            revoked_at: c.revoked_at.map(format_ms),
            expires_at: format_ms(c.expires_at),
            created_at: format_ms(c.created_at),
        }
    }
}

/// A page of codes (50 per page, newest first).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CodeList {
    /// The codes on this page.
    pub items: Vec<AdminCode>,
    /// Codes matching on every page.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// Codes per page.
    pub per_page: i64,
}

/// `POST /api/admin/events/{id}/tokens` body.
#[derive(Debug, Object)]
pub struct GenerateRequest {
    /// How many codes (1..=500, or less when `max_codes_per_request` says so).
    pub count: i64,
    /// Label shown beside them (e.g. "press", "sponsor batch 2").
    #[oai(nullable)]
    pub label: Option<String>,
}

/// The codes just made.
#[derive(Debug, Object)]
pub struct GenerateResponse {
    /// How many were made.
    pub generated: i64,
    /// The new codes.
    pub tokens: Vec<AdminCode>,
}

/// 201 with the new codes.
#[derive(Debug, ApiResponse)]
pub enum Generated {
    /// Made, all of them in one transaction.
    #[oai(status = 201)]
    Created(Json<GenerateResponse>),
}

/// `POST /api/admin/tokens/bulk-revoke` body.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct BulkRevokeRequest {
    /// Row ids of the codes to revoke (1..=1000).
    pub token_ids: Vec<String>,
}

/// How many codes a bulk revoke changed.
#[derive(Debug, Object)]
pub struct BulkRevokeResponse {
    /// Codes newly revoked (already revoked and unknown ids are not counted).
    pub revoked: i64,
}

/// The CSV export.
#[derive(Debug, ApiResponse)]
pub enum CsvExport {
    /// `code,label,status,createdAt,expiresAt`, one line per code, as a download.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        /// `attachment; filename="<event>-codes.csv"`.
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

/// A viewer session that has not ended.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AdminViewerSession {
    /// Session id.
    pub id: String,
    /// The code's row id.
    pub code_id: String,
    /// The code.
    pub code: String,
    /// The code's label.
    #[oai(nullable)]
    pub label: Option<String>,
    /// The viewer's address.
    #[oai(nullable)]
    pub client_ip: Option<String>,
    /// The viewer's browser.
    #[oai(nullable)]
    pub user_agent: Option<String>,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Last heartbeat (RFC 3339).
    pub last_heartbeat: String,
    /// No heartbeat within the session timeout: the code may be used elsewhere.
    pub stale: bool,
    /// When an HLS edge first saw this session's token from two addresses at once
    /// (RFC 3339); the console shows "token shared".
    #[oai(nullable)]
    pub token_shared_at: Option<String>,
    /// The addresses of the last such report.
    #[oai(nullable)]
    pub shared_addresses: Option<String>,
}

/// An event's open sessions.
#[derive(Debug, Object)]
pub struct SessionList {
    /// Newest heartbeat first.
    pub items: Vec<AdminViewerSession>,
}

/// A forced release's result.
#[derive(Debug, Object)]
pub struct ForceReleaseResponse {
    /// True when the session was live and is now ended; false when it had ended.
    pub released: bool,
}
