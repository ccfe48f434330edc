//! The admin console: a small browser app (HTML, one script, one stylesheet, no build
//! step) embedded in the binary and served at `/admin`. It talks only to the admin API
//! with the session cookie, so its CSP allows nothing but our own origin: no inline
//! script or style, no third-party anything.
//!
//! Debug builds serve the files from `STREAMGATE_DEV_ASSETS_DIR` when it is set, so the
//! console can be edited and reloaded without rebuilding; release builds always serve
//! the embedded copies.

use poem::http::StatusCode;
use poem::web::Path;
use poem::{Response, handler};

/// The CSP of console pages.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// One embedded file: its name under `assets/admin/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../assets/admin/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/admin/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/admin/app.css"),
    },
];

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("application/json; charset=utf-8")
            .body(r#"{"error":"Not found"}"#);
    };
    let body: Vec<u8> = dev_override(asset.name).unwrap_or_else(|| asset.bytes.to_vec());
    Response::builder()
        .content_type(asset.content_type)
        .header("cache-control", "no-cache")
        .header("content-security-policy", CONSOLE_CSP)
        .header("x-frame-options", "DENY")
        .body(body)
}

/// The file from `STREAMGATE_DEV_ASSETS_DIR/admin/` in debug builds.
fn dev_override(name: &str) -> Option<Vec<u8>> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let dir = std::env::var_os(streamgate_core::env::DEV_ASSETS_VAR)?;
    std::fs::read(std::path::Path::new(&dir).join("admin").join(name)).ok()
}

/// `GET /admin`: the console page.
#[handler]
pub fn index() -> Response {
    serve("index.html")
}

/// `GET /admin/assets/:file`: the script and stylesheet (anything else is 404).
#[handler]
pub fn assets(Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return serve("");
    }
    serve(&file)
}
