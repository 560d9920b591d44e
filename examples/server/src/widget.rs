//! `/widget/*`: the chat widget's built files (`cargo xtask web`, see
//! `docs/WIDGET.md`), served from a directory.
//!
//! - `neurochat.js` (the loader sites embed, stable URL) and anything else
//!   without a content hash: `Cache-Control: public, max-age=300`, so a new
//!   build reaches every site within minutes;
//! - `neurochat-widget-<hash>.js` / `…_bg.wasm`: `public, max-age=31536000,
//!   immutable` (a new build has new names);
//! - a `.gz` next to a file is sent instead when the browser accepts gzip
//!   (`Content-Encoding: gzip`, `Vary: accept-encoding`);
//! - content types from the extension (`application/wasm` for the module,
//!   which `WebAssembly.instantiateStreaming` insists on);
//! - `Access-Control-Allow-Origin: *` and `Cross-Origin-Resource-Policy:
//!   cross-origin`: a host site on another origin imports the glue as an ES
//!   module and fetches the module, both CORS requests. The files are public
//!   and the requests carry no credentials, so `*` gives nothing away.
//!
//! A missing directory is not an error: the server starts, says so once,
//! and `/widget/*` answers 404.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;

/// The loader's file name, the one URL that is not content-hashed.
pub const LOADER: &str = "neurochat.js";
/// Cache lifetime of files without a hash in their name.
const SHORT_CACHE: &str = "public, max-age=300";
/// Cache lifetime of content-hashed files.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The router serving `dir` under `/widget/`. Prints one line when `dir`
/// has no loader, so an operator knows why the demo page has no widget.
pub fn router(dir: &Path) -> Router {
    if dir.join(LOADER).is_file() {
        tracing::info!(dir = %dir.display(), "serving the chat widget under /widget/");
    } else {
        println!(
            "  widget assets not found at {}; run `cargo xtask web` (or pass --web-dir)",
            dir.display()
        );
        tracing::warn!(dir = %dir.display(), "widget assets not found; /widget/* answers 404");
    }
    let files = ServeDir::new(dir)
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    Router::new()
        .nest_service("/widget", files)
        .layer(middleware::from_fn(headers))
}

/// Whether a file name carries a content hash: `<stem>-<16+ hex digits>`
/// before its first `.` or `_bg` (as `cargo xtask web` names them).
pub fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Cache, CORS and sniffing headers of the files (not of 404s).
async fn headers(req: Request, next: Next) -> Response {
    let name = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut resp = next.run(req).await;
    let ok = matches!(
        resp.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    );
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if ok {
        let cache = if is_hashed(&name) {
            IMMUTABLE
        } else {
            SHORT_CACHE
        };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names() {
        assert!(is_hashed("neurochat-widget-0123456789abcdef.js"));
        assert!(is_hashed("neurochat-widget-0123456789abcdef_bg.wasm"));
        assert!(is_hashed("neurochat-widget-0123456789abcdef.js.gz"));
        assert!(!is_hashed("neurochat.js"));
        assert!(!is_hashed("manifest.json"));
        assert!(!is_hashed("neurochat-widget-latest.js"));
        assert!(!is_hashed("neurochat-widget-0123.js"));
    }
}
