//! The typed API: its endpoint groups, tags and the OpenAPI document they make.

use poem_openapi::{OpenApiService, Tags};

use crate::{admin, health, internal, session_events, viewer};

/// API groups in the OpenAPI description.
#[derive(Tags)]
pub enum ApiTags {
    /// The viewer portal's calls.
    Viewer,
    /// HLS edge to platform calls.
    Internal,
    /// Health and metrics.
    Operations,
    /// The admin API (console, scripts and generated clients).
    Admin,
}

/// The admin API's endpoint groups.
pub type AdminApis = (
    admin::auth::AuthApi,
    admin::events::EventsApi,
    admin::codes::CodesApi,
    admin::overview::OverviewApi,
    admin::analytics::AnalyticsApi,
);

/// Every typed endpoint group of the platform.
pub type Apis = (
    viewer::ViewerApi,
    session_events::SessionEventsApi,
    internal::InternalApi,
    health::OpsApi,
    AdminApis,
);

/// The OpenAPI service: every typed endpoint of the platform.
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            viewer::ViewerApi,
            session_events::SessionEventsApi,
            internal::InternalApi,
            health::OpsApi,
            (
                admin::auth::AuthApi,
                admin::events::EventsApi,
                admin::codes::CodesApi,
                admin::overview::OverviewApi,
                admin::analytics::AnalyticsApi,
            ),
        ),
        "StreamGate platform API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Viewer, internal (HLS edge), operations and admin endpoints of the StreamGate platform. \
         Errors are JSON objects {\"error\": \"<message>\"}.",
    )
}

/// The committed `openapi.yaml`: what `streamgate openapi` prints.
pub fn openapi_yaml() -> String {
    api_service().spec_yaml()
}
