//! The append-only audit log.

use super::ids::{AuditId, TicketId, UserId};
use time::OffsetDateTime;

/// What happened. Stable names; only ever added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A password login succeeded.
    LoginSucceeded,
    /// A password login failed (unknown email, wrong password or disabled).
    LoginFailed,
    /// A session was logged out.
    Logout,
    /// A rotated refresh token was presented again; its session was revoked.
    RefreshTokenReused,
    /// A password reset was requested for an existing account.
    PasswordResetRequested,
    /// A password reset token was used.
    PasswordResetCompleted,
    /// A user changed their password.
    PasswordChanged,
    /// A user changed their login email.
    EmailChanged,
    /// An admin changed a user's role.
    RoleChanged,
    /// An admin disabled a user.
    UserDisabled,
    /// An admin enabled a user.
    UserEnabled,
    /// A customer registered.
    UserRegistered,
    /// A ticket's status changed.
    TicketStatusChanged,
    /// A ticket was assigned by someone to someone.
    TicketAssigned,
    /// An agent claimed a ticket.
    TicketClaimed,
    /// A ticket was unassigned.
    TicketUnassigned,
    /// A ticket's priority changed.
    TicketPriorityChanged,
    /// A ticket's category changed.
    TicketCategoryChanged,
    /// A category was created, renamed or archived.
    CategoryChanged,
    /// A customer's data was exported.
    CustomerDataExported,
    /// A customer's personal data was erased.
    CustomerDataErased,
}

impl AuditAction {
    /// Every action, for exhaustive tests and conversions.
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

    /// Stable storage/wire name.
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

    /// Parses a stable name produced by [`AuditAction::as_str`].
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

/// The `target_type` of entries about a ticket (their `target_id` is the
/// ticket's id, hyphenated).
pub const TARGET_TICKET: &str = "ticket";

/// One audit record. Never updated or deleted by NeuroChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Identity; time-ordered, so it doubles as the page cursor.
    pub id: AuditId,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it (`None`: anonymous, e.g. a failed login for an unknown email).
    pub actor_id: Option<UserId>,
    /// What happened.
    pub action: AuditAction,
    /// Kind of the thing acted on (`user`, `session`, `ticket`, `category`).
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// Client IP when the adapter knows it.
    pub source_ip: Option<String>,
    /// Short detail (e.g. `agent -> admin`); never a secret.
    pub detail: Option<String>,
}

/// Filter and keyset page over the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries by this actor.
    pub actor_id: Option<UserId>,
    /// Only entries with this action.
    pub action: Option<AuditAction>,
    /// Only entries whose target is this ticket (`target_type` `ticket`,
    /// `target_id` its id).
    pub target_ticket: Option<TicketId>,
    /// Only entries at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only entries before this time.
    pub to: Option<OffsetDateTime>,
    /// Keyset cursor: entries with an id less than this.
    pub before: Option<AuditId>,
    /// Page size; the service clamps it to 1..=100.
    pub limit: u32,
}
