//! Tickets and categories: views, create/update bodies and the ticket listing
//! query.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a ticket is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Opened, not yet worked on.
    New,
    /// An agent is working on it.
    InProgress,
    /// An agent marked it solved.
    Resolved,
    /// Finished and read-only.
    Closed,
}

impl TicketStatus {
    /// Every status, in declaration order.
    pub const ALL: &'static [TicketStatus] = &[
        TicketStatus::New,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The stable snake_case string of this status (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl std::fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a ticket is; ordered from `Low` to `Urgent`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever there is time.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Before normal tickets.
    High,
    /// Immediately.
    Urgent,
}

impl Priority {
    /// Every priority, from lowest to highest.
    pub const ALL: &'static [Priority] = &[
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    /// The stable snake_case string of this priority (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket as the console, the widget and `ticket_event` frames show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    /// The ticket's id.
    pub id: Uuid,
    /// Human-friendly sequential number (e.g. shown as `#1042`).
    pub number: u64,
    /// One-line summary.
    pub subject: String,
    /// The customer who opened it.
    pub customer_id: Uuid,
    /// Its category, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    /// How urgent it is.
    pub priority: Priority,
    /// Where it is in its lifecycle.
    pub status: TicketStatus,
    /// The agent working on it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it or its conversation last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When an agent first replied, if one has.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_response_at: Option<OffsetDateTime>,
    /// When it was last resolved, if it is resolved or closed.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub resolved_at: Option<OffsetDateTime>,
    /// The `seq` of the latest message in its conversation (0 when none).
    pub last_seq: u64,
}

/// Open a ticket with its first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// One-line summary.
    pub subject: String,
    /// The first message.
    pub body: String,
    /// Client-chosen id of the first message; retries with the same id are
    /// deduplicated.
    pub client_msg_id: String,
    /// The category, if the customer picked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    /// The priority; `normal` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// Staff: change a ticket; absent fields are left unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// New priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// New category: absent leaves it, `null` clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "present_or_null"
    )]
    pub category_id: Option<Option<Uuid>>,
}

/// An optional field where `null` means something (clear it) and absence
/// something else (leave it): `None` is absent, `Some(None)` is `null`.
/// Serde alone maps both to `None`; the field also needs `#[serde(default)]`
/// (absent → `None`) and `skip_serializing_if = "Option::is_none"`.
mod present_or_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        // Called only when the field is present: `null` → Some(None).
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Staff: assign a ticket to an agent, or unassign it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The new assignee; absent (or `null`) unassigns the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
}

/// Sort order of the ticket listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketSort {
    /// Most recently updated first (the default).
    #[default]
    Updated,
    /// Most recently created first.
    Created,
    /// Highest priority first.
    Priority,
}

impl TicketSort {
    /// Every sort order, in declaration order.
    pub const ALL: &'static [TicketSort] = &[
        TicketSort::Updated,
        TicketSort::Created,
        TicketSort::Priority,
    ];

    /// The stable snake_case string of this sort order (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketSort::Updated => "updated",
            TicketSort::Created => "created",
            TicketSort::Priority => "priority",
        }
    }
}

/// Query string of the ticket listing (returns a `Page<TicketView>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketQuery {
    /// Only tickets in one of these statuses. In a query string the key is
    /// repeated (`status=new&status=in_progress`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<TicketStatus>>,
    /// Only tickets in this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    /// Only tickets with this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// `me`, `unassigned`, or an agent's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Only tickets of this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    /// Free-text search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only tickets created at or after this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_from: Option<OffsetDateTime>,
    /// Only tickets created before this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_to: Option<OffsetDateTime>,
    /// Only tickets updated at or after this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_from: Option<OffsetDateTime>,
    /// Only tickets updated before this instant.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_to: Option<OffsetDateTime>,
    /// Sort order; defaults to [`TicketSort::Updated`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<TicketSort>,
    /// The `next_cursor` of the previous page (only valid with the same filters
    /// and sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size; the server clamps it to its maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A ticket category as the console and the widget show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryView {
    /// The category's id.
    pub id: Uuid,
    /// Its unique name.
    pub name: String,
    /// Archived categories stay on old tickets but cannot be chosen for new ones.
    pub archived: bool,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Admin: create a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    /// Its unique name.
    pub name: String,
}

/// Admin: rename, archive or unarchive a category; absent fields are left
/// unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryRequest {
    /// New unique name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `true` to archive, `false` to unarchive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}
