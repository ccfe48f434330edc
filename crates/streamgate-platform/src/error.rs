//! The platform's one error type and its mapping to HTTP, done once at the API edge.
//! Every error body is `{"error": "<message>"}` (SPEC section 3); the messages a viewer
//! can see are the SPEC's exact words.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// The JSON body of every error response.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// Present (true) only on the 409 "in use on another device" answer.
    #[oai(skip_serializing_if_is_none)]
    pub in_use: Option<bool>,
}

impl ErrorBody {
    fn new(message: impl Into<String>) -> Json<Self> {
        Json(Self {
            error: message.into(),
            in_use: None,
        })
    }
}

/// Every error status the platform API answers with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or a required value is missing.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid credential (code, playback token, internal key).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The credential is valid but does not allow this now (revoked, deactivated).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource (event, session).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// In use elsewhere, or taken over.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Expired for good.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// The body is not JSON (a wrong or missing `Content-Type`). Raised below the
    /// handlers; listed so that clients know to expect it.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Over a rate limit; retry after the given number of seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        /// Seconds until the limit resets.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// Something broke on our side; the log has the details.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency (the database) is unavailable.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl ApiError {
    /// The status and message, for answers that are not HTTP responses (an event in a
    /// server-sent-events stream).
    pub fn status_and_message(&self) -> (u16, String) {
        let (status, body) = match self {
            Self::BadRequest(b) => (400, b),
            Self::Unauthorized(b) => (401, b),
            Self::Forbidden(b) => (403, b),
            Self::NotFound(b) => (404, b),
            Self::Conflict(b) => (409, b),
            Self::Gone(b) => (410, b),
            Self::UnsupportedMediaType(b) => (415, b),
            Self::TooManyRequests(b, _) => (429, b),
            Self::Internal(b) => (500, b),
            Self::Unavailable(b) => (503, b),
        };
        (status, body.0.error.clone())
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(ErrorBody::new(message))
    }
    /// 401 with `message`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(ErrorBody::new(message))
    }
    /// 403 with `message`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(ErrorBody::new(message))
    }
    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(ErrorBody::new(message))
    }
    /// 409 with `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(ErrorBody::new(message))
    }
    /// 410 with `message`.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::Gone(ErrorBody::new(message))
    }
    /// 429 with a Retry-After of `retry_after` seconds.
    pub fn too_many(retry_after: u64) -> Self {
        Self::TooManyRequests(
            ErrorBody::new("Too many requests, please try again later"),
            retry_after.max(1),
        )
    }
    /// 500; the details belong in the log, not the answer.
    pub fn internal() -> Self {
        Self::Internal(ErrorBody::new("Internal server error"))
    }
    /// 503 with `message`: something this request needs is not there (yet).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(ErrorBody::new(message))
    }
    /// The 409 a second device gets: `inUse` set, nothing about the other device.
    pub fn in_use() -> Self {
        Self::Conflict(Json(ErrorBody {
            error: "This access code is currently in use on another device".into(),
            in_use: Some(true),
        }))
    }
}

impl From<streamgate_store::StoreError> for ApiError {
    fn from(e: streamgate_store::StoreError) -> Self {
        tracing::error!("database error: {e}");
        if e.is_unavailable() {
            Self::Unavailable(ErrorBody::new("Service temporarily unavailable"))
        } else {
            Self::internal()
        }
    }
}

/// Turns errors raised below the typed API (body too large, wrong content type,
/// malformed JSON, missing bearer token, unknown route) into the same JSON shape, with
/// messages that say what to fix.
pub async fn json_error(err: poem::Error) -> poem::Response {
    use poem::http::StatusCode;
    let status = err.status();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request body too large".to_owned(),
        StatusCode::LENGTH_REQUIRED => "Content-Length required".to_owned(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Unsupported content type: send application/json".to_owned()
        }
        StatusCode::UNAUTHORIZED => "Authorization required".to_owned(),
        StatusCode::NOT_FOUND => "Not found".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".to_owned(),
        StatusCode::BAD_REQUEST => format!("Malformed request: {err}"),
        s if s.is_server_error() => {
            tracing::error!("request failed: {err}");
            "Internal server error".to_owned()
        }
        _ => err.to_string(),
    };
    let body = serde_json::json!({ "error": message });
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}
