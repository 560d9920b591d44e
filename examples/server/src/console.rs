//! `/console`: the agent console (`cargo xtask web` builds it into
//! `target/web/console/`, see `docs/CONSOLE.md`), served from a directory.
//!
//! - `GET /console` (and `/console/`): the app's `index.html`, read on each
//!   request (a rebuild shows at once), `Cache-Control: no-cache`, under a
//!   strict CSP: scripts and the WebAssembly module from this origin only
//!   (`script-src 'self' 'wasm-unsafe-eval'`), REST and the WebSocket to
//!   this host only (`connect-src 'self'` plus `ws:`/`wss:` of the request's
//!   host), no inline script, no framing;
//! - `GET /console/<name>-<hash>.<ext>`: the content-hashed assets (boot
//!   module, glue, module, style sheet), `public, max-age=31536000,
//!   immutable`, the `.gz` next to one sent when the browser accepts gzip;
//!   any other name is 404 (no directory listing, nothing outside).
//!
//! Same origin as the API, so no CORS headers. A missing directory is not
//! an error: `/console` then answers 404 saying how to build it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::widget::is_hashed;

/// Cache lifetime of content-hashed files.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The CSP of the console page; `{ws}` becomes `ws://HOST wss://HOST` of
/// the request's host (when it is a plain host name or address).
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'{ws}; style-src 'self'; img-src 'self' data:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The router serving `dir` at `/console`.
pub fn router(dir: &Path) -> Router {
    if dir.join("index.html").is_file() {
        tracing::info!(dir = %dir.display(), "serving the agent console at /console");
    } else {
        println!(
            "  agent console not built yet at {}: run `cargo xtask web` (or pass --console-dir)",
            dir.display()
        );
        tracing::warn!(dir = %dir.display(), "agent console not built; /console answers 404");
    }
    let dir = Arc::new(dir.to_path_buf());
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/{file}", get(asset))
        .with_state(dir)
}

/// The policy for a request with this `Host`.
pub fn csp(host: Option<&str>) -> String {
    let ws = host
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    CSP.replace("{ws}", &ws)
}

fn not_found(text: &'static str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

async fn index(State(dir): State<Arc<PathBuf>>, headers: HeaderMap) -> Response {
    let Ok(page) = tokio::fs::read(dir.join("index.html")).await else {
        return not_found("The agent console is not built: run `cargo xtask web`.\n");
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let csp = HeaderValue::from_str(&csp(host))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        page,
    )
        .into_response()
}

/// The content type of an asset by extension.
fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        _ => return None,
    })
}

async fn asset(
    State(dir): State<Arc<PathBuf>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let safe = !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    let Some(kind) = content_type(&name).filter(|_| safe && is_hashed(&name)) else {
        return not_found("Not found.\n");
    };
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let (bytes, gz) = match gzip_ok {
        true => match tokio::fs::read(dir.join(format!("{name}.gz"))).await {
            Ok(b) => (Some(b), true),
            Err(_) => (tokio::fs::read(dir.join(&name)).await.ok(), false),
        },
        false => (tokio::fs::read(dir.join(&name)).await.ok(), false),
    };
    let Some(bytes) = bytes else {
        return not_found("Not found.\n");
    };
    let mut resp = (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, IMMUTABLE),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::VARY, "accept-encoding"),
        ],
        bytes,
    )
        .into_response();
    if gz {
        resp.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::{content_type, csp};

    #[test]
    fn policy_names_the_host_only_when_it_is_plain() {
        let p = csp(Some("127.0.0.1:8080"));
        assert!(p.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"));
        assert!(p.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(csp(Some("evil; script-src *")).contains("connect-src 'self';"));
        assert!(csp(None).contains("connect-src 'self';"));
    }

    #[test]
    fn content_types() {
        assert_eq!(
            content_type("a-0123456789abcdef_bg.wasm"),
            Some("application/wasm")
        );
        assert_eq!(content_type("a.css"), Some("text/css; charset=utf-8"));
        assert_eq!(content_type("manifest.json"), None);
    }
}
