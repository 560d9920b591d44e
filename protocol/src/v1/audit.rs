//! The security audit log: recorded actions and the admin listing.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an audit entry records. Variants are only ever added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A user logged in.
    LoginSucceeded,
    /// A login attempt failed (wrong credentials or disabled account).
    LoginFailed,
    /// A session was logged out.
    Logout,
    /// A refresh token was presented twice; the session was revoked.
    RefreshTokenReused,
    /// A password reset email was requested.
    PasswordResetRequested,
    /// A password was reset with a reset token.
    PasswordResetCompleted,
    /// A user changed their password.
    PasswordChanged,
    /// A user changed their email address.
    EmailChanged,
    /// An administrator changed a user's role.
    RoleChanged,
    /// An administrator disabled a user.
    UserDisabled,
    /// An administrator re-enabled a user.
    UserEnabled,
    /// A user registered (or a visitor was created).
    UserRegistered,
    /// A ticket's status changed.
    TicketStatusChanged,
    /// A ticket was assigned to an agent by someone else.
    TicketAssigned,
    /// An agent claimed a ticket for themselves.
    TicketClaimed,
    /// A ticket's assignee was removed.
    TicketUnassigned,
    /// A ticket's priority changed.
    TicketPriorityChanged,
    /// A ticket's category changed.
    TicketCategoryChanged,
    /// A category was created, renamed, archived or unarchived.
    CategoryChanged,
    /// A customer's data was exported.
    CustomerDataExported,
    /// A customer's personal data was erased.
    CustomerDataErased,
}

impl AuditAction {
    /// Every action, in declaration order.
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::RefreshTokenReused,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordResetCompleted,
        AuditAction::PasswordChanged,
        AuditAction::EmailChanged,
        AuditAction::RoleChanged,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::UserRegistered,
        AuditAction::TicketStatusChanged,
        AuditAction::TicketAssigned,
        AuditAction::TicketClaimed,
        AuditAction::TicketUnassigned,
        AuditAction::TicketPriorityChanged,
        AuditAction::TicketCategoryChanged,
        AuditAction::CategoryChanged,
        AuditAction::CustomerDataExported,
        AuditAction::CustomerDataErased,
    ];

    /// The stable snake_case string of this action (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login_succeeded",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::RefreshTokenReused => "refresh_token_reused",
            AuditAction::PasswordResetRequested => "password_reset_requested",
            AuditAction::PasswordResetCompleted => "password_reset_completed",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::EmailChanged => "email_changed",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::UserRegistered => "user_registered",
            AuditAction::TicketStatusChanged => "ticket_status_changed",
            AuditAction::TicketAssigned => "ticket_assigned",
            AuditAction::TicketClaimed => "ticket_claimed",
            AuditAction::TicketUnassigned => "ticket_unassigned",
            AuditAction::TicketPriorityChanged => "ticket_priority_changed",
            AuditAction::TicketCategoryChanged => "ticket_category_changed",
            AuditAction::CategoryChanged => "category_changed",
            AuditAction::CustomerDataExported => "customer_data_exported",
            AuditAction::CustomerDataErased => "customer_data_erased",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit log entry as the admin listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    /// The entry's id.
    pub id: Uuid,
    /// When the action happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who acted; absent for anonymous or system actions (e.g. a failed login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// What happened.
    pub action: AuditAction,
    /// The kind of object acted on (e.g. `user`, `ticket`, `category`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// The id of the object acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The client IP address the request came from, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// Free-form detail (e.g. `in_progress -> resolved`); never contains secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Admin: query string of the audit listing (returns a `Page<AuditEntryView>`,
/// newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only entries by this actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// Only entries with this action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    /// Only entries at or after this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<OffsetDateTime>,
    /// Only entries before this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub to: Option<OffsetDateTime>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size; the server clamps it to its maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}
