//! Users, roles and agent availability.

use super::ids::UserId;
use time::OffsetDateTime;

/// What a user may do. Ordered: `Customer < Agent < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Opens tickets and chats about their own tickets only.
    Customer,
    /// Works the ticket queue.
    Agent,
    /// Everything an agent does, plus users, roles, categories and the audit log.
    Admin,
}

impl Role {
    /// Stable storage/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// Parses a stable name produced by [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "customer" => Some(Role::Customer),
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Agents and admins: the staff side of the desk.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

/// An agent's availability for new work; data for assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Ready to take tickets.
    Online,
    /// Signed in but not taking new tickets.
    Away,
    /// Not working.
    Offline,
}

impl Availability {
    /// Stable storage/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }

    /// Parses a stable name produced by [`Availability::as_str`].
    pub fn parse(s: &str) -> Option<Availability> {
        match s {
            "online" => Some(Availability::Online),
            "away" => Some(Availability::Away),
            "offline" => Some(Availability::Offline),
            _ => None,
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// Login email as the user typed it (trimmed); `None` for anonymous visitors
    /// and host-identified customers without an email.
    pub email: Option<String>,
    /// Lower-cased `email`; unique across users, the lookup key for login.
    pub email_normalized: Option<String>,
    /// Shown to other participants.
    pub display_name: String,
    /// argon2id PHC string; `None` when the user cannot log in with a password
    /// (widget visitors, host-identified customers).
    pub password_hash: Option<String>,
    /// Authorization role.
    pub role: Role,
    /// Disabled users cannot authenticate; disabling revokes all sessions.
    pub disabled: bool,
    /// The host site's own user id for customers bound through identity
    /// verification; unique.
    pub external_id: Option<String>,
    /// True when the identity was proven (password registration or a host signature).
    pub verified: bool,
    /// An unverified contact email a visitor typed into the widget. Never a
    /// login key, never unique: a visitor must not gain anyone's account by
    /// typing their address.
    pub contact_email: Option<String>,
    /// Agent availability (ignored for customers).
    pub availability: Availability,
    /// Agent capacity: max open tickets assigned at once (0 = no auto-assignment).
    pub capacity: u32,
    /// When the user was created.
    pub created_at: OffsetDateTime,
    /// Last change to any field.
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: i64,
}

impl User {
    /// A new enabled user with only an id, a name and a role: no login email,
    /// password or host id, offline with capacity 0, version 1. Callers add
    /// the rest with struct-update syntax.
    pub fn new(id: UserId, display_name: String, role: Role, now: OffsetDateTime) -> User {
        User {
            id,
            email: None,
            email_normalized: None,
            display_name,
            password_hash: None,
            role,
            disabled: false,
            external_id: None,
            verified: false,
            contact_email: None,
            availability: Availability::Offline,
            capacity: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// Filter and keyset page for listing users (admin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Case-insensitive substring of email or display name.
    pub search: Option<String>,
    /// Only users with this role.
    pub role: Option<Role>,
    /// Only disabled (`true`) or enabled (`false`) users.
    pub disabled: Option<bool>,
    /// Keyset cursor: return users with an id greater than this (ids are time-ordered).
    pub after: Option<UserId>,
    /// Page size; the service clamps it to 1..=100.
    pub limit: u32,
}
