//! Request id and tracing span, security headers, timeout, fallbacks and CORS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use neurochat_protocol::v1::ErrorCode;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument as _;

use crate::error::{ApiError, REQUEST_ID};
use crate::metrics::Metrics;

/// The request id header, read from the client (if sane) and always returned.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A client-sent id is kept only if it is short and plain, so it cannot
/// inject anything into logs.
fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}

/// Outermost layer: gives every request an id (`x-request-id`, echoed on the
/// response and in error bodies) and a tracing span. The span records the
/// method, the route template (never the raw URI, whose query could carry a
/// token) and the outcome; headers and bodies are never logged. The same
/// route, status and duration go to the `/metrics` registry.
pub(crate) async fn request_id_and_trace(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", |p| p.as_str())
        .to_owned();
    let span = tracing::info_span!(
        "http",
        method = %req.method(),
        route = %route,
        request_id = %id,
        status = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    let method = req.method().clone();
    let started = Instant::now();
    let mut resp = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    span.record("status", resp.status().as_u16());
    let took = started.elapsed();
    span.record("ms", took.as_millis() as u64);
    metrics.record_request(&method, &route, resp.status().as_u16(), took);
    span.in_scope(|| tracing::debug!("request done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

/// Headers every response carries: the API serves JSON only, never pages to
/// frame, and its answers (tokens included) must not be cached or sniffed.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Answers 503 `unavailable` when a request takes longer than the limit.
pub(crate) async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            ApiError::new(ErrorCode::Unavailable, "The request took too long.").into_response()
        }
    }
}

/// Unknown routes: 404 `not_found` as a problem document.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No such route.")
}

/// Known route, wrong method: 405 as a problem document.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MalformedRequest,
        "This route does not accept that method.",
    )
    .with_status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
}

/// CORS for the widget's host sites; `None` when no origin is allowed (then
/// browsers keep to the same-origin policy).
pub(crate) fn cors(origins: &[String]) -> Option<CorsLayer> {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                REQUEST_ID_HEADER,
            ])
            .expose_headers([REQUEST_ID_HEADER, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// Smallest body worth compressing: below about a kilobyte gzip's header
/// and the CPU cost outweigh the saving (a problem document, a single
/// ticket). Pages of tickets, message history and the OpenAPI document are
/// well above it.
const COMPRESS_ABOVE: u64 = 1024;

/// gzip for clients that send `Accept-Encoding: gzip`, on responses over
/// [`COMPRESS_ABOVE`] bytes (never images, gRPC or event streams: tower's
/// default predicate). BREACH needs a secret and attacker-chosen text in
/// one compressed response *and* a way to make the victim's browser send
/// authenticated requests; this API authenticates by bearer header, which
/// a cross-site page cannot attach, so compressing token responses is safe.
pub(crate) fn compression() -> CompressionLayer<impl tower_http::compression::Predicate> {
    CompressionLayer::new()
        .gzip(true)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE)))
}
