//! `/api/v1/tickets/{id}/messages` and `/receipts`: history pages, posting,
//! and delivered/read receipts. The same rules as the WebSocket's `send`
//! and `mark_*` frames, because both call the same desk methods.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::domain::TicketId;
use neurochat_core::service::chat::{HistoryPage, PostMessage};
use neurochat_protocol::v1::{
    FieldErrorCode, MessageView, Page, ReceiptRequest, ReceiptView, SendMessageRequest,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, Id, QueryParams};
use crate::openapi::schemas;
use crate::state::AppState;

/// A `seq` from the wire as core's `i64`; beyond `i64::MAX` means "after
/// everything", which the clamp keeps.
fn seq(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A page of a ticket's conversation in ascending `seq` order: the latest
/// messages, the ones before `before_seq` (scrolling back) or after
/// `after_seq` (catching up). Customers never see internal notes, so they
/// may see gaps in `seq`. The page has no `next_cursor`: page on with the
/// first (or last) `seq` of this one.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/messages", tag = "messages",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id."), crate::openapi::queries::HistoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Up to `limit` messages (at most 200, default 50).", body = schemas::MessagePage),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `before_seq`, `after_seq` (not both), `limit`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
    QueryParams(mut q): QueryParams,
) -> Result<Json<Page<MessageView>>, ApiError> {
    let before: Option<u64> = q.number("before_seq");
    let after: Option<u64> = q.number("after_seq");
    let limit: u32 = q.number("limit").unwrap_or(0);
    let page = match (before, after) {
        (Some(_), Some(_)) => {
            q.invalid(
                "after_seq",
                FieldErrorCode::InvalidChoice,
                "Give `before_seq` or `after_seq`, not both.",
            );
            HistoryPage::Latest
        }
        (Some(b), None) => HistoryPage::Before(seq(b)),
        (None, Some(a)) => HistoryPage::After(seq(a)),
        (None, None) => HistoryPage::Latest,
    };
    q.finish()?;
    let messages = state
        .desk()
        .list_messages(&principal, TicketId(id), page, limit)
        .await?;
    Ok(Json(Page::last(messages.iter().map(Into::into).collect())))
}

/// Posts a message (staff may post an internal note with `internal: true`).
/// Idempotent per `client_msg_id`: a resend answers 200 with the original.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/messages", tag = "messages",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    request_body = schemas::SendMessageRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored.", body = schemas::MessageView),
        (status = 200, description = "A resend: the message stored the first time.", body = schemas::MessageView),
        (status = 403, description = "`forbidden`: a customer asked for an internal note.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ticket_closed`: start a new ticket.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `body`, `client_msg_id`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn post(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let SendMessageRequest {
        body,
        client_msg_id,
        internal,
    } = body;
    let posted = state
        .desk()
        .post_message(
            &principal,
            PostMessage {
                ticket_id: TicketId(id),
                body,
                client_msg_id,
                internal: internal.unwrap_or(false),
            },
        )
        .await?;
    let status = if posted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json((&posted.message).into())))
}

/// Every participant's delivered/read marks on a ticket.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}/receipts", tag = "messages",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One receipt per participant that has one.", body = Vec<schemas::ReceiptView>),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn receipts(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
) -> Result<Json<Vec<ReceiptView>>, ApiError> {
    let receipts = state.desk().list_receipts(&principal, TicketId(id)).await?;
    Ok(Json(receipts.iter().map(Into::into).collect()))
}

/// Moves the caller's delivered and/or read mark forward (never back;
/// clamped to the newest message).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/receipts", tag = "messages",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    request_body = schemas::ReceiptRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's marks now.", body = schemas::ReceiptView),
        (status = 404, description = "`not_found` (or not visible to the caller).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn mark(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ReceiptRequest>,
) -> Result<Json<ReceiptView>, ApiError> {
    let receipt = state
        .desk()
        .mark_receipt(
            &principal,
            TicketId(id),
            body.delivered_seq.map(seq),
            body.read_seq.map(seq),
        )
        .await?;
    Ok(Json((&receipt).into()))
}
