//! `/api/v1/users*`: the admin user list and search, roles, disabling,
//! agent availability and capacity, and a customer's data export and
//! erasure; `/api/v1/agents`: the staff directory.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::domain::{UserFilter, UserId};
use neurochat_core::service::users::clamp_limit;
use neurochat_protocol::v1::{
    self as wire, AgentLoadView, AgentSettingsRequest, AgentView, Page, SetDisabledRequest,
    SetRoleRequest, UserView,
};
use serde_json::Value;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, Id, QueryParams};
use crate::openapi::schemas;
use crate::state::AppState;

/// Staff: the staff directory, every enabled agent and admin by id with
/// presence, capacity and open (`new` or `in_progress`) assigned tickets;
/// whom a ticket can be assigned to. No emails or other personal data.
#[utoipa::path(
    get, path = "/api/v1/agents", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The enabled agents and admins, by id.", body = Vec<schemas::AgentLoadView>),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn agents(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Json<Vec<AgentLoadView>>, ApiError> {
    let loads = state.desk().list_agents(&principal).await?;
    Ok(Json(loads.iter().map(Into::into).collect()))
}

/// Admin: one page of users ordered by id, filtered by role, state and a
/// case-insensitive search of email and name.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    params(crate::openapi::queries::UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page; pass `next_cursor` back as `cursor` for the next one.", body = schemas::UserPage),
        (status = 403, description = "`forbidden`: admins only.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `search`, `role`, `disabled`, `cursor`, `limit`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    QueryParams(mut q): QueryParams,
) -> Result<Json<Page<UserView>>, ApiError> {
    let after = q.cursor(|c| uuid::Uuid::try_parse(c).ok().map(UserId));
    let filter = UserFilter {
        search: q.text("search"),
        role: q.choice::<wire::Role>("role").map(Into::into),
        disabled: q.boolean("disabled"),
        after,
        limit: q.number("limit").unwrap_or(0),
    };
    q.finish()?;
    let limit = clamp_limit(filter.limit) as usize;
    let users = state.desk().list_users(&principal, filter).await?;
    // The cursor is the last id: users are listed in id order.
    let next = (users.len() >= limit)
        .then(|| users.last().map(|u| u.id.0.to_string()))
        .flatten();
    Ok(Json(Page::new(
        users.iter().map(Into::into).collect(),
        next,
    )))
}

/// One user: oneself, or anyone for staff (customers get 404 for others).
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The user's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user.", body = schemas::UserView),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<UserView>, ApiError> {
    let user = state.desk().get_user(&principal, UserId(id)).await?;
    Ok(Json((&user).into()))
}

/// Admin: changes a user's role (not one's own); it applies to the user's
/// very next request.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/role", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The user's id.")),
    request_body = schemas::SetRoleRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user now.", body = schemas::UserView),
        (status = 403, description = "`forbidden`: admins only, and not for themselves.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: changed meanwhile.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<SetRoleRequest>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .desk()
        .set_role(&principal, UserId(id), body.role.into(), &ip.ctx())
        .await?;
    Ok(Json((&user).into()))
}

/// Admin: disables a user (every session ends at once) or enables them
/// again; never oneself.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/disabled", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The user's id.")),
    request_body = schemas::SetDisabledRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user now.", body = schemas::UserView),
        (status = 403, description = "`forbidden`: admins only, and not for themselves.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<SetDisabledRequest>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .desk()
        .set_disabled(&principal, UserId(id), body.disabled, &ip.ctx())
        .await?;
    Ok(Json((&user).into()))
}

/// An agent's (or admin's) availability and capacity, for staff.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/agent", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The agent's user id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agent's routing settings.", body = schemas::AgentView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such agent or admin.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get_agent(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<AgentView>, ApiError> {
    if !principal.is_staff() {
        return Err(neurochat_core::Error::Forbidden.into());
    }
    let user = state.desk().get_user(&principal, UserId(id)).await?;
    if !user.role.is_staff() {
        return Err(ApiError::not_found("agent"));
    }
    Ok(Json((&user).into()))
}

/// Sets an agent's availability and/or capacity: agents their own, admins
/// anyone's. Going online (or getting room) hands waiting tickets out when
/// auto-assignment is on.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}/agent", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The agent's user id.")),
    request_body = schemas::AgentSettingsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agent's routing settings now.", body = schemas::AgentView),
        (status = 403, description = "`forbidden`: one's own settings, or an admin.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `capacity` (0..=1000), or the user is not staff.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn set_agent(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AgentSettingsRequest>,
) -> Result<Json<AgentView>, ApiError> {
    let user = state
        .desk()
        .set_agent_settings(
            &principal,
            UserId(id),
            body.availability.map(Into::into),
            body.capacity,
        )
        .await?;
    Ok(Json((&user).into()))
}

/// A customer's data export (the customer themselves, or an admin):
/// profile, tickets and their messages without internal notes, as the
/// versioned document `neurochat.customer_export.v1`. Audited.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/export", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export document.", body = schemas::CustomerExport),
        (status = 403, description = "`forbidden`: agents may not export.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (another customer asking, or no such user).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the user is not a customer.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let export = state
        .desk()
        .export_customer_data(&principal, UserId(id), &ip.ctx())
        .await?;
    Ok(Json(export.to_json()))
}

/// Erases a customer's personal data (the customer themselves, or an
/// admin): name, emails, host id and password go, sessions end, their
/// subjects and messages become `[erased]`. Tickets and the audit log stay.
/// Erasing twice is harmless.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/erase", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased."),
        (status = 403, description = "`forbidden`: agents may not erase.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (another customer asking, or no such user).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the user is not a customer.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn erase(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    state
        .desk()
        .erase_customer(&principal, UserId(id), &ip.ctx())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
