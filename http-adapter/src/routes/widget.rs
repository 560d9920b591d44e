//! `/api/v1/widget/*`: visitor sessions for the customer chat widget, and
//! the team status its header shows.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::service::identity::VisitorStart;
use neurochat_protocol::v1::{
    UserView, VisitorProfileRequest, VisitorSessionRequest, VisitorSessionResponse,
    WidgetStatusView,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, rate_limit};
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

/// The team's status for the widget's header, for anyone (no auth): how
/// many agents are online now, and how soon the team usually replies.
///
/// - `agents_online`: enabled agents and admins whose availability is
///   `online` (the gateway sets it while they are connected, and agents set
///   it themselves), read at every request;
/// - `reply_within_seconds`: the median first-response time of the tickets
///   created in the last 7 days (the team metrics' `first_response_median`
///   over that window), rounded up to whole seconds; `null` when none of
///   them has a reply yet. Cached for `HttpConfig::reply_within_cache`.
///
/// Counts and a duration only: no agent's name, id or state.
#[utoipa::path(
    get, path = "/api/v1/widget/status", tag = "widget",
    responses(
        (status = 200, description = "Agents online now and the usual reply time.", body = schemas::WidgetStatusView),
        (status = 429, description = "`rate_limited`: too many status reads from this address; see `Retry-After`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn status(
    State(state): State<AppState>,
    ip: ClientIp,
) -> Result<Json<WidgetStatusView>, ApiError> {
    rate_limit(&state.0.widget_status, ip, None)?;
    let desk = state.desk();
    let agents_online = desk.agents_online().await?;
    let reply_within_seconds = {
        let mut cached = state.0.reply_within.lock().await;
        let ttl = state.0.config.reply_within_cache;
        match *cached {
            Some((at, value)) if at.elapsed() < ttl => value,
            _ => {
                let value = desk.typical_first_response().await?.map(|d| {
                    let ms = u64::try_from(d.whole_milliseconds()).unwrap_or(0);
                    ms.div_ceil(1000)
                });
                *cached = Some((Instant::now(), value));
                value
            }
        }
    };
    Ok(Json(WidgetStatusView {
        agents_online,
        reply_within_seconds,
    }))
}
