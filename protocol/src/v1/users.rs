//! User and agent views, profile and administration bodies, and the user
//! listing query.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{Availability, Role};
use super::redact::Redacted;

/// A user as other parts of the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The user's id.
    pub id: Uuid,
    /// The email address; absent for anonymous widget visitors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The name shown in the console and the chat.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// Whether an administrator disabled the account.
    pub disabled: bool,
    /// Whether the identity is verified: by a host application (widget
    /// identity) or by registering with a password.
    pub verified: bool,
    /// When the user was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An agent (or admin) as the routing and presence views show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    /// The agent's user id.
    pub id: Uuid,
    /// The agent's display name.
    pub display_name: String,
    /// The agent's current presence.
    pub availability: Availability,
    /// How many open tickets the agent takes at most.
    pub capacity: u32,
}

/// A staff member in the staff directory (`GET /api/v1/agents`): who can
/// take tickets and how loaded they are. Deliberately no email or other
/// personal data: every agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLoadView {
    /// The user id (what `assignee_id` takes).
    pub id: Uuid,
    /// The name shown in the console.
    pub display_name: String,
    /// `agent` or `admin`.
    pub role: Role,
    /// The current presence.
    pub availability: Availability,
    /// How many open tickets they take at most.
    pub capacity: u32,
    /// Tickets assigned to them that are `new` or `in_progress`.
    pub open_tickets: u32,
}

/// Change the signed-in user's display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// The new display name.
    pub display_name: String,
}

/// Change the signed-in user's email; requires the current password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    /// The new email address.
    pub new_email: String,
    /// The current password (secret).
    pub password: String,
}

impl fmt::Debug for ChangeEmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            new_email,
            password: _,
        } = self;
        f.debug_struct("ChangeEmailRequest")
            .field("new_email", new_email)
            .field("password", &Redacted)
            .finish()
    }
}

/// Admin: set a user's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// The new role.
    pub role: Role,
}

/// Admin: disable or re-enable a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDisabledRequest {
    /// `true` to disable, `false` to enable.
    pub disabled: bool,
}

/// Change an agent's routing settings; absent fields are left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettingsRequest {
    /// New presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    /// New maximum number of open tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

/// Admin: query string of the user listing (returns a `Page<UserView>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Case-insensitive substring of the email or display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Only users with this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Only disabled (`true`) or enabled (`false`) users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size; the server clamps it to its maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}
