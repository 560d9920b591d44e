//! Staff metrics (`/api/v1/metrics/*`), the admin audit log
//! (`/api/v1/audit`) and a ticket's audit trail for staff
//! (`/api/v1/tickets/{id}/audit`).

use axum::Json;
use axum::extract::State;
use neurochat_core::domain::{AuditEntry, AuditFilter, AuditId, TicketId, UserId};
use neurochat_core::service::metrics::MetricsWindow;
use neurochat_core::service::users::clamp_limit;
use neurochat_protocol::v1::{
    self as wire, AgentMetricsView, AuditEntryView, Page, TeamMetricsView,
};

use crate::error::{ApiError, Problem};
use crate::extract::{Auth, Id, Params, QueryParams};
use crate::openapi::schemas;
use crate::state::AppState;

/// How far back the metrics window reaches when `from` is absent.
const DEFAULT_WINDOW: time::Duration = time::Duration::days(7);

/// The `[from, to)` window of a metrics query: `to` defaults to now, `from`
/// to 7 days before `to`. Core checks the window itself.
fn window(state: &AppState, mut q: Params) -> Result<MetricsWindow, ApiError> {
    let from = q.time("from");
    let to = q.time("to");
    q.finish()?;
    let to = to.unwrap_or_else(|| state.desk().now());
    Ok(MetricsWindow::new(from.unwrap_or(to - DEFAULT_WINDOW), to))
}

/// The calling agent's (or admin's) own figures.
#[utoipa::path(
    get, path = "/api/v1/metrics/me", tag = "metrics",
    params(crate::openapi::queries::MetricsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's figures for the window.", body = schemas::AgentMetricsView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` (RFC 3339; `from` before `to`, at most 366 days).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    Auth(principal): Auth,
    QueryParams(q): QueryParams,
) -> Result<Json<AgentMetricsView>, ApiError> {
    let w = window(&state, q)?;
    let m = state.desk().my_metrics(&principal, w).await?;
    Ok(Json((&m).into()))
}

/// Team totals plus per-agent rows: every agent for admins, only one's own
/// row for agents.
#[utoipa::path(
    get, path = "/api/v1/metrics/team", tag = "metrics",
    params(crate::openapi::queries::MetricsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The team's figures for the window.", body = schemas::TeamMetricsView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from`, `to` (RFC 3339; `from` before `to`, at most 366 days).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn team(
    State(state): State<AppState>,
    Auth(principal): Auth,
    QueryParams(q): QueryParams,
) -> Result<Json<TeamMetricsView>, ApiError> {
    let w = window(&state, q)?;
    let m = state.desk().team_metrics(&principal, w).await?;
    Ok(Json(neurochat_core::wire::team_metrics_view(&m, w)))
}

/// Admin: one page of the audit log, newest first, filtered by actor,
/// action and time.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(crate::openapi::queries::AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page; pass `next_cursor` back as `cursor` for the next one.", body = schemas::AuditPage),
        (status = 403, description = "`forbidden`: admins only.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `actor_id`, `action`, `from`, `to`, `cursor`, `limit`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn audit(
    State(state): State<AppState>,
    Auth(principal): Auth,
    QueryParams(q): QueryParams,
) -> Result<Json<Page<AuditEntryView>>, ApiError> {
    let filter = audit_filter(q)?;
    let limit = clamp_limit(filter.limit) as usize;
    let entries = state.desk().list_audit(&principal, filter).await?;
    Ok(Json(audit_page(&entries, limit)))
}

/// The audit listing's query parameters (shared by both audit routes).
fn audit_filter(mut q: Params) -> Result<AuditFilter, ApiError> {
    let before = q.cursor(|c| uuid::Uuid::try_parse(c).ok().map(AuditId));
    let filter = AuditFilter {
        actor_id: q.uuid("actor_id").map(UserId),
        action: q.choice::<wire::AuditAction>("action").map(Into::into),
        from: q.time("from"),
        to: q.time("to"),
        before,
        limit: q.number("limit").unwrap_or(0),
        ..AuditFilter::default()
    };
    q.finish()?;
    Ok(filter)
}

/// A page of entries, newest first by time-ordered id: the last id
/// continues the listing when the page is full.
fn audit_page(entries: &[AuditEntry], limit: usize) -> Page<AuditEntryView> {
    let next = (entries.len() >= limit)
        .then(|| entries.last().map(|e| e.id.0.to_string()))
        .flatten();
    Page::new(entries.iter().map(Into::into).collect(), next)
}

/// Staff: one page of a ticket's audit trail (the entries whose target is
/// the ticket: claims, assignments, status, priority and category changes),
/// newest first, with the query parameters of `/api/v1/audit`. Entries
/// carry `source_ip` for admins only.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/audit", tag = "audit",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id."), crate::openapi::queries::AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page; pass `next_cursor` back as `cursor` for the next one.", body = schemas::AuditPage),
        (status = 403, description = "`forbidden`: staff only (the ticket's own customer).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such ticket (or, for a customer, not theirs).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `actor_id`, `action`, `from`, `to`, `cursor`, `limit`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn ticket_audit(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
    QueryParams(q): QueryParams,
) -> Result<Json<Page<AuditEntryView>>, ApiError> {
    let filter = audit_filter(q)?;
    let limit = clamp_limit(filter.limit) as usize;
    let entries = state
        .desk()
        .ticket_audit(&principal, TicketId(id), filter)
        .await?;
    Ok(Json(audit_page(&entries, limit)))
}
