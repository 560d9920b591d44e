//! OpenAPI descriptions of the query strings the list routes take (the
//! handlers parse them with `QueryParams`; these only document them).
#![allow(dead_code)]

use time::OffsetDateTime;
use uuid::Uuid;

use super::schemas::{AuditAction, Priority, Role, TicketSort, TicketStatus};

/// Query of the ticket listing.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Any of these statuses; repeat the key (`status=new&status=in_progress`).
    pub status: Option<Vec<TicketStatus>>,
    /// Only this category.
    pub category_id: Option<Uuid>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// `me`, `unassigned`, or an agent's id.
    pub assignee: Option<String>,
    /// Only this customer's tickets (staff).
    pub customer_id: Option<Uuid>,
    /// Words that must all occur in the subject or one message (at most 200 characters).
    pub q: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_from: Option<OffsetDateTime>,
    /// Created before.
    pub created_to: Option<OffsetDateTime>,
    /// Updated at or after.
    pub updated_from: Option<OffsetDateTime>,
    /// Updated before.
    pub updated_to: Option<OffsetDateTime>,
    /// Order; default `updated`.
    pub sort: Option<TicketSort>,
    /// `next_cursor` of the previous page (same filters and sort).
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 50).
    pub limit: Option<u32>,
}

/// Query of a ticket's message history.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this `seq` (scrolling back).
    pub before_seq: Option<u64>,
    /// Messages after this `seq` (catching up); not with `before_seq`.
    pub after_seq: Option<u64>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<u32>,
}

/// Query of the admin user listing.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Case-insensitive substring of email or name (at most 200 characters).
    pub search: Option<String>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only disabled (`true`) or enabled (`false`) users.
    pub disabled: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 50).
    pub limit: Option<u32>,
}

/// Query of the audit log.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries by this actor.
    pub actor_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// At or after (RFC 3339).
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub to: Option<OffsetDateTime>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 50).
    pub limit: Option<u32>,
}

/// Query of the metrics: the window `[from, to)`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Start, inclusive (RFC 3339); default 7 days before `to`.
    pub from: Option<OffsetDateTime>,
    /// End, exclusive; default now.
    pub to: Option<OffsetDateTime>,
}
