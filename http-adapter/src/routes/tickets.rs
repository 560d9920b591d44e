//! `/api/v1/tickets*`: opening, listing and searching, reading, changing
//! status / priority / category, claiming and (un)assigning tickets.
//!
//! Authorization is core's. Where core would answer a customer `forbidden`
//! for a staff-only action, the handler first reads the ticket as that
//! customer, so someone else's ticket is 404 `not_found` (never a hint that
//! it exists) and only their own is 403.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::Principal;
use neurochat_core::domain::{
    AssigneeFilter, CategoryId, Priority, Role, TicketCursor, TicketFilter, TicketId, TicketSort,
    TicketStatus, UserId,
};
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::service::users::clamp_limit;
use neurochat_protocol::v1::{
    self as wire, AssignRequest, CreateTicketRequest, FieldErrorCode, Page, TicketView,
    UpdateTicketRequest,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, Id, QueryParams, ticket_create_limit};
use crate::openapi::schemas;
use crate::state::AppState;

/// Opens a ticket with its first message (customers and widget visitors).
/// Idempotent per `client_msg_id`: a resend answers 200 with the ticket the
/// first attempt opened (201 only when this request opened it). Rate
/// limited per client IP and per customer.
#[utoipa::path(
    post, path = "/api/v1/tickets", tag = "tickets",
    request_body = schemas::CreateTicketRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Opened.", body = schemas::TicketView),
        (status = 200, description = "A resend (same `client_msg_id`): the ticket the first attempt opened.", body = schemas::TicketView),
        (status = 403, description = "`forbidden`: only customers open tickets.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`category_archived`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `subject`, `body`, `client_msg_id`, `category_id`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<CreateTicketRequest>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    ticket_create_limit(&state, ip, &principal)?;
    let CreateTicketRequest {
        subject,
        body,
        client_msg_id,
        category_id,
        priority,
    } = body;
    let input = NewTicket {
        subject,
        body,
        client_msg_id,
        category_id: category_id.map(CategoryId),
        priority: priority.map(Into::into),
    };
    // Core answers a resend with the original ticket but does not say it
    // was one; this indexed read (the same lookup core's own resend path
    // makes) tells the two apart. Two identical requests racing each other
    // both miss it and both get 201 with the one ticket core keeps.
    let resend = principal.role() == Role::Customer
        && state
            .desk()
            .store()
            .fetch_ticket_by_first_message(principal.user_id(), &input.client_msg_id)
            .await
            .map_err(|e| ApiError::from(neurochat_core::Error::from(e)))?
            .is_some();
    let (ticket, _) = state
        .desk()
        .create_ticket(&principal, input, &ip.ctx())
        .await?;
    let status = if resend {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json((&ticket).into())))
}

/// One page of tickets: filtered, searched and sorted, with a keyset
/// cursor. Customers only ever get their own tickets.
#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "tickets",
    params(crate::openapi::queries::TicketQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page; pass `next_cursor` back as `cursor` for the next one.", body = schemas::TicketPage),
        (status = 422, description = "`validation_failed`: names each bad parameter (`status`, `priority`, `category_id`, `assignee`, `customer_id`, `q`, `created_from`, `created_to`, `updated_from`, `updated_to`, `sort`, `cursor`, `limit`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    QueryParams(mut q): QueryParams,
) -> Result<Json<Page<TicketView>>, ApiError> {
    let statuses: Vec<wire::TicketStatus> = q.choices("status").unwrap_or_default();
    let priority: Option<wire::Priority> = q.choice("priority");
    let sort = match q.choice::<wire::TicketSort>("sort") {
        None | Some(wire::TicketSort::Updated) => TicketSort::UpdatedDesc,
        Some(wire::TicketSort::Created) => TicketSort::CreatedDesc,
        Some(wire::TicketSort::Priority) => TicketSort::PriorityDesc,
    };
    let assignee = match q.text("assignee").as_deref().map(str::trim) {
        None | Some("") => AssigneeFilter::Any,
        Some("me") => AssigneeFilter::User(principal.user_id()),
        Some("unassigned") => AssigneeFilter::Unassigned,
        Some(other) => match uuid::Uuid::try_parse(other) {
            Ok(id) => AssigneeFilter::User(UserId(id)),
            Err(_) => {
                q.invalid(
                    "assignee",
                    FieldErrorCode::InvalidChoice,
                    "Expected `me`, `unassigned` or a user id.",
                );
                AssigneeFilter::Any
            }
        },
    };
    let after = q.cursor(TicketCursor::decode);
    let filter = TicketFilter {
        customer_id: q.uuid("customer_id").map(UserId),
        statuses: statuses.into_iter().map(TicketStatus::from).collect(),
        category_id: q.uuid("category_id").map(CategoryId),
        priorities: priority.map(Priority::from).into_iter().collect(),
        assignee,
        text: q.text("q"),
        include_internal: false,
        created_from: q.time("created_from"),
        created_to: q.time("created_to"),
        updated_from: q.time("updated_from"),
        updated_to: q.time("updated_to"),
        sort,
        after,
        limit: q.number("limit").unwrap_or(0),
    };
    q.finish()?;
    // Core clamps the same way; knowing the page size tells whether a
    // full page may have a successor.
    let limit = clamp_limit(filter.limit) as usize;
    let tickets = state.desk().list_tickets(&principal, filter).await?;
    let next = (tickets.len() >= limit)
        .then(|| tickets.last().map(|t| TicketCursor::of(t, sort).encode()))
        .flatten();
    Ok(Json(Page::new(
        tickets.iter().map(Into::into).collect(),
        next,
    )))
}

/// One ticket. Someone else's ticket is 404 for a customer.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket.", body = schemas::TicketView),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = state.desk().get_ticket(&principal, TicketId(id)).await?;
    Ok(Json((&ticket).into()))
}

/// Changes a ticket's category, priority and/or status (absent fields stay).
/// Staff may do all three; a customer may only set their own ticket's
/// status to `resolved`. The changes apply one after the other (category,
/// priority, then status), each atomic and audited on its own; a failing
/// one leaves those before it applied.
#[utoipa::path(
    patch, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    request_body = schemas::UpdateTicketRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket after the changes.", body = schemas::TicketView),
        (status = 403, description = "`forbidden`: a customer asked for more than resolving their ticket.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`, `ticket_closed`, `category_archived`, `conflict`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `category_id` (unknown category).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<UpdateTicketRequest>,
) -> Result<Json<TicketView>, ApiError> {
    let desk = state.desk();
    let ctx = ip.ctx();
    let id = TicketId(id);
    // Visibility first: someone else's ticket is 404 whatever is asked.
    let mut ticket = desk.get_ticket(&principal, id).await?;
    let UpdateTicketRequest {
        status,
        priority,
        category_id,
    } = body;
    // Absent: leave the category; `null`: clear it; a value: set it.
    if let Some(c) = category_id {
        ticket = desk
            .set_ticket_category(&principal, id, c.map(CategoryId), &ctx)
            .await?;
    }
    if let Some(p) = priority {
        ticket = desk
            .set_ticket_priority(&principal, id, p.into(), &ctx)
            .await?;
    }
    if let Some(s) = status {
        ticket = desk
            .set_ticket_status(&principal, id, s.into(), &ctx)
            .await?;
    }
    Ok(Json((&ticket).into()))
}

/// A customer may not claim or assign, but must not learn whether someone
/// else's ticket exists either: their own ticket gets core's 403, any other
/// a 404 from this read.
async fn visible_to_customer(
    state: &AppState,
    principal: &Principal,
    id: TicketId,
) -> Result<(), ApiError> {
    if !principal.is_staff() {
        state.desk().get_ticket(principal, id).await?;
    }
    Ok(())
}

/// Claims an unassigned ticket for the calling agent (staff only). Of
/// concurrent claims one wins; the others get 409 `already_claimed`.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/claim", tag = "tickets",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claimed (or already the caller's).", body = schemas::TicketView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_claimed`, `invalid_transition`, `ticket_closed`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<TicketView>, ApiError> {
    let id = TicketId(id);
    visible_to_customer(&state, &principal, id).await?;
    let ticket = state.desk().claim_ticket(&principal, id, &ip.ctx()).await?;
    Ok(Json((&ticket).into()))
}

/// Assigns a ticket to an active agent or admin (staff only); a `null` or
/// absent `assignee_id` unassigns it.
#[utoipa::path(
    put, path = "/api/v1/tickets/{id}/assignee", tag = "tickets",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    request_body = schemas::AssignRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket after the assignment.", body = schemas::TicketView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ticket_closed`, `conflict`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `assignee_id` (not an active agent or admin).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn assign(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<TicketView>, ApiError> {
    let id = TicketId(id);
    visible_to_customer(&state, &principal, id).await?;
    let ticket = state
        .desk()
        .assign_ticket(&principal, id, body.assignee_id.map(UserId), &ip.ctx())
        .await?;
    Ok(Json((&ticket).into()))
}

/// Unassigns a ticket (staff only); an `in_progress` ticket goes back to `new`.
#[utoipa::path(
    delete, path = "/api/v1/tickets/{id}/assignee", tag = "tickets",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket, unassigned.", body = schemas::TicketView),
        (status = 403, description = "`forbidden`: staff only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ticket_closed`, `conflict`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn unassign(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<TicketView>, ApiError> {
    let id = TicketId(id);
    visible_to_customer(&state, &principal, id).await?;
    let ticket = state
        .desk()
        .assign_ticket(&principal, id, None, &ip.ctx())
        .await?;
    Ok(Json((&ticket).into()))
}
