//! The two browser apps the platform serves: the viewer portal at `/` and the admin
//! console at `/admin`. Each is a few files with no build step and no third-party code
//! but hls.js (vendored from npm with its licence, see `assets/portal/hls.js.VERSION`),
//! embedded in the binary so a deployment is one file.
//!
//! Both pages get a CSP that allows our own origin and nothing else, except that the
//! portal may also talk to the HLS server's origin (playlists and segments) and play
//! MediaSource blobs. `__APP_NAME__` in a page is replaced by `platform.app_name`.
//!
//! Debug builds serve the files from `STREAMGATE_DEV_ASSETS_DIR/<area>/` when that is
//! set, so the pages can be edited and reloaded without rebuilding; release builds
//! always serve the embedded copies.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};

use crate::state::AppState;

/// Which app a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Admin,
    Portal,
}

impl Area {
    fn dir(self) -> &'static str {
        match self {
            Area::Admin => "admin",
            Area::Portal => "portal",
        }
    }
}

/// One embedded file.
struct Asset {
    area: Area,
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($area:expr, $dir:literal, $name:literal, $type:expr) => {
        Asset {
            area: $area,
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/", $dir, "/", $name)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!(Area::Admin, "admin", "index.html", HTML),
    asset!(Area::Admin, "admin", "app.js", JS),
    asset!(Area::Admin, "admin", "app.css", CSS),
    asset!(Area::Admin, "admin", "analytics.js", JS),
    asset!(Area::Admin, "admin", "stream.js", JS),
    asset!(Area::Admin, "admin", "ingest.js", JS),
    asset!(Area::Admin, "admin", "dom.js", JS),
    asset!(Area::Portal, "portal", "index.html", HTML),
    asset!(Area::Portal, "portal", "app.js", JS),
    asset!(Area::Portal, "portal", "app.css", CSS),
    asset!(Area::Portal, "portal", "hls.min.js", JS),
    asset!(Area::Portal, "portal", "hls.js.LICENSE", TEXT),
];

/// The CSP of the admin console.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The CSP of the viewer portal: our origin, plus the HLS server's for playlists and
/// segments, MediaSource blobs for the player, and poster images from anywhere.
pub fn portal_csp(hls_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; \
         media-src 'self' blob: {hls_origin}; connect-src 'self' {hls_origin}; worker-src 'self' blob:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

fn not_found() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type("application/json; charset=utf-8")
        .body(r#"{"error":"Not found"}"#)
}

fn serve(state: &AppState, area: Area, name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.area == area && a.name == name) else {
        return not_found();
    };
    let mut body = dev_override(area, asset.name).unwrap_or_else(|| asset.bytes.to_vec());
    if asset.content_type == HTML {
        let page = String::from_utf8_lossy(&body).replace(
            "__APP_NAME__",
            &html_escape(&state.config().platform.app_name),
        );
        body = page.into_bytes();
    }
    let csp = match area {
        Area::Admin => CONSOLE_CSP.to_owned(),
        Area::Portal => {
            let config = state.config();
            portal_csp(&config.hls.public_url.origin().ascii_serialization())
        }
    };
    // Pages and our own scripts change with each release and carry no version in
    // their names: browsers revalidate them. hls.js is pinned: cache it for a day.
    let cache = if asset.name == "hls.min.js" {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    Response::builder()
        .content_type(asset.content_type)
        .header("cache-control", cache)
        .header("content-security-policy", csp)
        .header("x-frame-options", "DENY")
        .body(body)
}

/// The file from `STREAMGATE_DEV_ASSETS_DIR/<area>/` in debug builds.
fn dev_override(area: Area, name: &str) -> Option<Vec<u8>> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let dir = std::env::var_os(streamgate_core::env::DEV_ASSETS_VAR)?;
    std::fs::read(std::path::Path::new(&dir).join(area.dir()).join(name)).ok()
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /admin`: the console page.
#[handler]
pub fn admin_index(state: Data<&Arc<AppState>>) -> Response {
    serve(&state, Area::Admin, "index.html")
}

/// `GET /admin/assets/:file`: the console's script and stylesheet.
#[handler]
pub fn admin_assets(state: Data<&Arc<AppState>>, Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return not_found();
    }
    serve(&state, Area::Admin, &file)
}

/// `GET /`: the viewer portal's page.
pub fn portal_page(state: &AppState) -> Response {
    serve(state, Area::Portal, "index.html")
}

/// `GET /assets/:file`: the portal's script, stylesheet and hls.js with its licence.
#[handler]
pub fn portal_assets(state: Data<&Arc<AppState>>, Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return not_found();
    }
    serve(&state, Area::Portal, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_cannot_inject_markup() {
        assert_eq!(
            html_escape(r#"<b>"Tom & Jerry's"</b>"#),
            "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn every_embedded_page_loads_its_script_from_our_origin_only() {
        for asset in ASSETS.iter().filter(|a| a.content_type == HTML) {
            let page = String::from_utf8_lossy(asset.bytes);
            assert!(
                !page.contains("<script>"),
                "{}: inline script",
                asset.area.dir()
            );
            assert!(
                !page.contains("style=\""),
                "{}: inline style",
                asset.area.dir()
            );
            assert!(!page.contains("://"), "{}: absolute URL", asset.area.dir());
        }
    }
}
