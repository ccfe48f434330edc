//! The two browser apps the platform serves: the viewer portal at `/` and the admin
//! console at `/admin`. Each is plain ES modules with no build step and no third-party
//! code but hls.js (vendored from npm with its licence, see
//! `assets/portal/hls.js.VERSION`), embedded in the binary so a deployment is one file.
//! Modules both apps import live once in `assets/shared/`; each app reaches them at
//! `../shared/` from its own assets (`/shared/` for the portal, `/admin/shared/` for the
//! console), so a relative import means the same on disk and in the browser, and each
//! copy is served under its app's CSP.
//!
//! Both pages get a CSP that allows our own origin and nothing else, except that the
//! portal may also talk to the HLS server's origin (playlists and segments) and play
//! MediaSource blobs. `__APP_NAME__` in a page is replaced by `platform.app_name`.
//!
//! Debug builds serve the files from `STREAMGATE_DEV_ASSETS_DIR/<dir>/` (`admin`,
//! `portal` or `shared`) when that is set, so the pages can be edited and reloaded without rebuilding; release builds
//! always serve the embedded copies.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Response, handler};

use crate::state::AppState;

/// Which app a page is served for: it decides the CSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Admin,
    Portal,
}

/// Where a file lives under `assets/`: one app's folder, or the one both share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Admin,
    Portal,
    Shared,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::Admin => "admin",
            Dir::Portal => "portal",
            Dir::Shared => "shared",
        }
    }
}

/// One embedded file; `name` is its path inside its folder (`views/events.js`).
struct Asset {
    dir: Dir,
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($dir:expr, $folder:literal, $name:literal, $type:expr) => {
        Asset {
            dir: $dir,
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/", $folder, "/", $name)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

// Every file is listed here (a test checks none is missing and every import resolves).
const ASSETS: &[Asset] = &[
    asset!(Dir::Admin, "admin", "index.html", HTML),
    asset!(Dir::Admin, "admin", "app.css", CSS),
    asset!(Dir::Admin, "admin", "app.js", JS),
    asset!(Dir::Admin, "admin", "api.js", JS),
    asset!(Dir::Admin, "admin", "dom.js", JS),
    asset!(Dir::Admin, "admin", "format.js", JS),
    asset!(Dir::Admin, "admin", "messages.js", JS),
    asset!(Dir::Admin, "admin", "model.js", JS),
    asset!(Dir::Admin, "admin", "router.js", JS),
    asset!(Dir::Admin, "admin", "analytics.js", JS),
    asset!(Dir::Admin, "admin", "ingest.js", JS),
    asset!(Dir::Admin, "admin", "stream.js", JS),
    asset!(Dir::Admin, "admin", "views/audit.js", JS),
    asset!(Dir::Admin, "admin", "views/codes.js", JS),
    asset!(Dir::Admin, "admin", "views/config.js", JS),
    asset!(Dir::Admin, "admin", "views/dashboard.js", JS),
    asset!(Dir::Admin, "admin", "views/event-codes.js", JS),
    asset!(Dir::Admin, "admin", "views/event-detail.js", JS),
    asset!(Dir::Admin, "admin", "views/event-form.js", JS),
    asset!(Dir::Admin, "admin", "views/event-generate.js", JS),
    asset!(Dir::Admin, "admin", "views/event-header.js", JS),
    asset!(Dir::Admin, "admin", "views/event-sessions.js", JS),
    asset!(Dir::Admin, "admin", "views/events.js", JS),
    asset!(Dir::Admin, "admin", "views/login.js", JS),
    asset!(Dir::Portal, "portal", "index.html", HTML),
    asset!(Dir::Portal, "portal", "app.css", CSS),
    asset!(Dir::Portal, "portal", "app.js", JS),
    asset!(Dir::Portal, "portal", "api.js", JS),
    asset!(Dir::Portal, "portal", "dom.js", JS),
    asset!(Dir::Portal, "portal", "session.js", JS),
    asset!(Dir::Portal, "portal", "state.js", JS),
    asset!(Dir::Portal, "portal", "views/controls.js", JS),
    asset!(Dir::Portal, "portal", "views/entry.js", JS),
    asset!(Dir::Portal, "portal", "views/overlay.js", JS),
    asset!(Dir::Portal, "portal", "views/player.js", JS),
    asset!(Dir::Portal, "portal", "views/pre-event.js", JS),
    asset!(Dir::Portal, "portal", "views/quality.js", JS),
    asset!(Dir::Portal, "portal", "hls.min.js", JS),
    asset!(Dir::Portal, "portal", "hls.js.LICENSE", TEXT),
    asset!(Dir::Shared, "shared", "dom.js", JS),
    asset!(Dir::Shared, "shared", "format.js", JS),
    asset!(Dir::Shared, "shared", "http.js", JS),
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

/// The file `name` of `dir`, served for the app `area` (its CSP).
fn serve(state: &AppState, area: Area, dir: Dir, name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.dir == dir && a.name == name) else {
        return not_found();
    };
    let mut body = dev_override(dir, asset.name).unwrap_or_else(|| asset.bytes.to_vec());
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

/// The file from `STREAMGATE_DEV_ASSETS_DIR/<dir>/` in debug builds. `name` is one of
/// the embedded names, never the request's path, so nothing outside the folder is read.
fn dev_override(dir: Dir, name: &str) -> Option<Vec<u8>> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let root = std::env::var_os(streamgate_core::env::DEV_ASSETS_VAR)?;
    std::fs::read(std::path::Path::new(&root).join(dir.name()).join(name)).ok()
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
    serve(&state, Area::Admin, Dir::Admin, "index.html")
}

/// `GET /admin/assets/*path`: the console's modules (`views/` among them) and stylesheet.
#[handler]
pub fn admin_assets(state: Data<&Arc<AppState>>, Path(path): Path<String>) -> Response {
    if path == "index.html" {
        return not_found();
    }
    serve(&state, Area::Admin, Dir::Admin, &path)
}

/// `GET /admin/shared/:file`: the modules both apps use, under the console's CSP.
#[handler]
pub fn admin_shared(state: Data<&Arc<AppState>>, Path(file): Path<String>) -> Response {
    serve(&state, Area::Admin, Dir::Shared, &file)
}

/// `GET /`: the viewer portal's page.
pub fn portal_page(state: &AppState) -> Response {
    serve(state, Area::Portal, Dir::Portal, "index.html")
}

/// `GET /assets/*path`: the portal's modules, stylesheet and hls.js with its licence.
#[handler]
pub fn portal_assets(state: Data<&Arc<AppState>>, Path(path): Path<String>) -> Response {
    if path == "index.html" {
        return not_found();
    }
    serve(&state, Area::Portal, Dir::Portal, &path)
}

/// `GET /shared/:file`: the modules both apps use, under the portal's CSP.
#[handler]
pub fn portal_shared(state: Data<&Arc<AppState>>, Path(file): Path<String>) -> Response {
    serve(&state, Area::Portal, Dir::Shared, &file)
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
            let dir = asset.dir.name();
            assert!(!page.contains("<script>"), "{dir}: inline script");
            assert!(!page.contains("style=\""), "{dir}: inline style");
            assert!(!page.contains("://"), "{dir}: absolute URL");
        }
    }

    /// The files under `assets/` on disk, as (folder, path inside it).
    fn files_on_disk() -> Vec<(String, String)> {
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
            let entries = std::fs::read_dir(dir).expect("read assets dir");
            for entry in entries {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path.strip_prefix(root).expect("under root");
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut found = Vec::new();
        for dir in [Dir::Admin, Dir::Portal, Dir::Shared] {
            let root = assets.join(dir.name());
            let mut names = Vec::new();
            walk(&root, &root, &mut names);
            found.extend(names.into_iter().map(|n| (dir.name().to_owned(), n)));
        }
        found
    }

    #[test]
    fn every_file_under_assets_is_embedded() {
        for (dir, name) in files_on_disk() {
            if name == "hls.js.VERSION" {
                continue; // provenance note for maintainers, not served
            }
            assert!(
                ASSETS.iter().any(|a| a.dir.name() == dir && a.name == name),
                "assets/{dir}/{name} is not listed in ASSETS"
            );
        }
    }

    /// The relative module specifiers (`from './x.js'`, `import './x.js'`) of a script.
    fn imports(source: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for line in source.lines() {
            let line = line.trim_start();
            if !(line.starts_with("import ") || line.starts_with("export ")) {
                continue;
            }
            for quote in ['\'', '"'] {
                if let Some(start) = line.find(&format!("{quote}.")) {
                    let rest = &line[start + 1..];
                    if let Some(end) = rest.find(quote) {
                        out.push(&rest[..end]);
                    }
                }
            }
        }
        out
    }

    /// `spec` resolved against the file `dir/name` as the browser resolves it; None
    /// when it climbs above `assets/`.
    fn resolve(dir: &str, name: &str, spec: &str) -> Option<String> {
        let mut parts: Vec<&str> = std::iter::once(dir).chain(name.split('/')).collect();
        parts.pop();
        for seg in spec.split('/') {
            match seg {
                "." => {}
                ".." => {
                    parts.pop()?;
                }
                s => parts.push(s),
            }
        }
        Some(parts.join("/"))
    }

    #[test]
    fn every_module_import_names_an_embedded_script() {
        let mut checked = 0;
        for asset in ASSETS
            .iter()
            .filter(|a| a.content_type == JS && a.name != "hls.min.js")
        {
            let source = String::from_utf8_lossy(asset.bytes);
            for spec in imports(&source) {
                let target = resolve(asset.dir.name(), asset.name, spec);
                // An app reaches its own folder and shared/ (at ../shared/ of its
                // assets); shared/ is served under both apps, so it reaches only itself.
                let reachable = |dir: &str| dir == asset.dir.name() || dir == "shared";
                let found = target
                    .as_deref()
                    .and_then(|t| t.split_once('/'))
                    .is_some_and(|(dir, name)| {
                        reachable(dir)
                            && ASSETS.iter().any(|a| {
                                a.dir.name() == dir && a.name == name && a.content_type == JS
                            })
                    });
                assert!(
                    found,
                    "{}/{}: import {spec} names no embedded script",
                    asset.dir.name(),
                    asset.name
                );
                checked += 1;
            }
        }
        assert!(
            checked > 20,
            "only {checked} imports found: is the parser right?"
        );
    }
}
