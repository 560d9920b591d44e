//! `/api/v1/widget/*`: visitor sessions for the customer chat widget.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::service::identity::VisitorStart;
use neurochat_protocol::v1::{
    UserView, VisitorProfileRequest, VisitorSessionRequest, VisitorSessionResponse,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::openapi::schemas;
use crate::state::AppState;

/// Starts a visitor session: anonymous, or bound to the customer the host
/// site vouches for (`identity`: HMAC signature or host JWT).
#[utoipa::path(
    post, path = "/api/v1/widget/sessions", tag = "widget",
    request_body = schemas::VisitorSessionRequest,
    responses(
        (status = 201, description = "A visitor token for the widget's REST calls and WebSocket.", body = schemas::VisitorSessionResponse),
        (status = 401, description = "`identity_invalid`: the host identity did not verify.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`identity_required` (anonymous visitors are off) or `account_disabled`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `display_name`, `email`, identity fields.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn start_session(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<VisitorSessionRequest>,
) -> Result<(StatusCode, Json<VisitorSessionResponse>), ApiError> {
    let VisitorSessionRequest {
        identity,
        display_name,
        email,
    } = body;
    let start = VisitorStart {
        identity: identity.map(Into::into),
        display_name,
        email,
    };
    let session = state.desk().start_visitor_session(start, &ip.ctx()).await?;
    Ok((StatusCode::CREATED, Json((&session).into())))
}

/// Lets a visitor fill in their name and contact email (customers only).
#[utoipa::path(
    patch, path = "/api/v1/widget/profile", tag = "widget",
    request_body = schemas::VisitorProfileRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated visitor.", body = schemas::UserView),
        (status = 401, description = "Not signed in.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: staff have no visitor profile.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `display_name`, `email`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<VisitorProfileRequest>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .desk()
        .update_visitor_profile(
            &principal,
            body.display_name.as_deref(),
            body.email.as_deref(),
        )
        .await?;
    Ok(Json((&user).into()))
}
