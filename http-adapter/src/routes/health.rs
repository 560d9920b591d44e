//! Liveness and readiness probes (outside `/api/v1`: they are for the
//! orchestrator, not for clients, and never change shape).

use axum::Json;
use axum::extract::State;
use neurochat_protocol::v1::ErrorCode;
use serde_json::{Value, json};

use crate::error::{ApiError, Problem};
use crate::openapi::schemas;
use crate::state::AppState;

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
    match state.desk().store().ping().await {
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
