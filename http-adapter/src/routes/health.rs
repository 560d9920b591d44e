//! Liveness and readiness probes (outside `/api/v1`: they are for the
//! orchestrator, not for clients, and never change shape).

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neurochat_protocol::v1::ErrorCode;
use serde_json::{Value, json};

use crate::error::{ApiError, Problem};
use crate::metrics::MetricsAccess;
use crate::openapi::schemas;
use crate::state::AppState;

/// `Store::ping`, timed into the metrics' database histogram.
async fn ping(state: &AppState) -> neurochat_core::ports::StoreResult<()> {
    let started = Instant::now();
    let r = state.desk().store().ping().await;
    state.0.metrics.record_db_ping(started.elapsed());
    r
}

/// The process is up and serving HTTP (no dependency is checked).
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive.", body = schemas::Health)),
)]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers (`Store::ping`); take the node out of rotation
/// while this fails.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready.", body = schemas::Health),
        (status = 503, description = "`unavailable`: the database does not answer.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match ping(&state).await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                ErrorCode::Unavailable,
                "The database is not reachable.",
            ))
        }
    }
}

/// Byte-wise comparison whose time does not depend on where the first
/// difference is, so the token cannot be guessed a byte at a time.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Prometheus metrics (text format 0.0.4): HTTP requests by route and
/// status, latency histograms, WebSocket connections and messages relayed,
/// store ping latency, escalations. Off unless the host enables it
/// (`HttpConfig::metrics`).
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "The metrics, in the Prometheus text format.", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "`unauthenticated`: the metrics need the configured bearer token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: metrics are turned off on this server.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.0.config.metrics {
        MetricsAccess::Off => {
            return ApiError::new(
                ErrorCode::NotFound,
                "Metrics are turned off on this server.",
            )
            .into_response();
        }
        MetricsAccess::Open => {}
        MetricsAccess::BearerToken(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !same_secret(given.as_bytes(), token.as_bytes()) {
                return ApiError::new(
                    ErrorCode::Unauthenticated,
                    "The metrics need the configured bearer token.",
                )
                .into_response();
            }
        }
    }
    // One fresh database sample per scrape, so the histogram moves even when
    // nothing probes /readyz; bounded, so a hung store cannot hang scrapes.
    let _ = tokio::time::timeout(Duration::from_secs(2), ping(&state)).await;
    let body = state.0.metrics.render(&state.0.gateway);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
