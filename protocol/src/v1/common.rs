//! Types shared by several endpoints: pagination and the role/availability
//! vocabularies.

use serde::{Deserialize, Serialize};

/// One page of a keyset-paginated listing.
///
/// Pass `next_cursor` back as the `cursor` query parameter to fetch the next
/// page; it is absent on the last page. The cursor is opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, in the listing's sort order.
    pub items: Vec<T>,
    /// Opaque cursor of the next page; `None` when this is the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page with the given items and next-page cursor.
    pub fn new(items: Vec<T>, next_cursor: Option<String>) -> Self {
        Self { items, next_cursor }
    }

    /// A last page holding `items` (no next cursor).
    pub fn last(items: Vec<T>) -> Self {
        Self::new(items, None)
    }
}

/// What a user is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opens tickets and chats about their own tickets (includes widget visitors).
    Customer,
    /// Works tickets: claims, answers, reassigns, writes internal notes.
    Agent,
    /// Everything an agent can do, plus user, category and audit administration.
    Admin,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: &'static [Role] = &[Role::Customer, Role::Agent, Role::Admin];

    /// The stable snake_case string of this role (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// Whether this role works tickets (agent or admin).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent's presence, used for routing new tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Connected and accepting new tickets.
    Online,
    /// Connected but not accepting new tickets.
    Away,
    /// Not connected.
    Offline,
}

impl Availability {
    /// Every availability, in declaration order.
    pub const ALL: &'static [Availability] = &[
        Availability::Online,
        Availability::Away,
        Availability::Offline,
    ];

    /// The stable snake_case string of this availability (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }
}

impl std::fmt::Display for Availability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
