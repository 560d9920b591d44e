//! Tickets and categories.

use super::ids::{CategoryId, TicketId, UserId};
use super::user::User;
use time::OffsetDateTime;

/// Where a ticket is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// Opened, not yet worked.
    New,
    /// Claimed or assigned and being worked.
    InProgress,
    /// Answered; a customer message reopens it.
    Resolved,
    /// Read-only; a new customer message starts a new ticket.
    Closed,
}

impl TicketStatus {
    /// Stable storage/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// Parses a stable name produced by [`TicketStatus::as_str`].
    pub fn parse(s: &str) -> Option<TicketStatus> {
        match s {
            "new" => Some(TicketStatus::New),
            "in_progress" => Some(TicketStatus::InProgress),
            "resolved" => Some(TicketStatus::Resolved),
            "closed" => Some(TicketStatus::Closed),
            _ => None,
        }
    }
}

/// How urgent a ticket is. Ordered `Low < Normal < High < Urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Whenever convenient.
    Low,
    /// The default.
    Normal,
    /// Before normal work.
    High,
    /// Now.
    Urgent,
}

impl Priority {
    /// Stable storage/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// Parses a stable name produced by [`Priority::as_str`].
    pub fn parse(s: &str) -> Option<Priority> {
        match s {
            "low" => Some(Priority::Low),
            "normal" => Some(Priority::Normal),
            "high" => Some(Priority::High),
            "urgent" => Some(Priority::Urgent),
            _ => None,
        }
    }

    /// Numeric rank for sorting in storage (`low` = 0 … `urgent` = 3).
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// A support ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Identity (time-ordered).
    pub id: TicketId,
    /// Human ticket number: 1, 2, 3… unique and never reused; assigned by the store.
    pub number: i64,
    /// One-line summary.
    pub subject: String,
    /// The customer who opened it.
    pub customer_id: UserId,
    /// Optional category.
    pub category_id: Option<CategoryId>,
    /// Urgency.
    pub priority: Priority,
    /// Lifecycle state.
    pub status: TicketStatus,
    /// The agent working it.
    pub assignee_id: Option<UserId>,
    /// Opened.
    pub created_at: OffsetDateTime,
    /// Last change, including new messages.
    pub updated_at: OffsetDateTime,
    /// First agent reply (for metrics).
    pub first_response_at: Option<OffsetDateTime>,
    /// Last time it became resolved.
    pub resolved_at: Option<OffsetDateTime>,
    /// When it was closed (read-only from then on).
    pub closed_at: Option<OffsetDateTime>,
    /// `seq` of the newest message; the store bumps it with every insert.
    pub last_seq: i64,
    /// Time of the oldest customer message no agent has answered yet (`None`
    /// when answered); maintained by the store on every message insert.
    pub awaiting_since: Option<OffsetDateTime>,
    /// `seq` of the newest agent message (0: none); maintained by the store.
    pub last_agent_seq: i64,
    /// Time of the newest agent message; maintained by the store.
    pub last_agent_message_at: Option<OffsetDateTime>,
    /// Highest agent `seq` the customer has been emailed about (batching).
    pub customer_notified_seq: i64,
    /// Set once when the "still new after X minutes" escalation fired.
    pub escalated_new_at: Option<OffsetDateTime>,
    /// The `awaiting_since` value the last "unanswered" escalation fired for,
    /// so each breach escalates once.
    pub escalated_awaiting_since: Option<OffsetDateTime>,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: i64,
}

/// Whose tickets a listing wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned or not.
    #[default]
    Any,
    /// Only unassigned tickets.
    Unassigned,
    /// Only tickets assigned to this user.
    User(UserId),
}

/// Order of a ticket listing. Every order ends with the id (descending, or
/// ascending for [`TicketSort::CreatedAsc`]) so keyset pages are stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TicketSort {
    /// Most recently updated first.
    #[default]
    UpdatedDesc,
    /// Newest first.
    CreatedDesc,
    /// Most urgent first, newest first within a priority.
    PriorityDesc,
    /// Oldest first (queues: auto-assignment takes the longest-waiting ticket).
    CreatedAsc,
}

/// A keyset position in a ticket listing: the sort key of the last ticket of
/// the previous page (`updated_at`/`created_at` in unix milliseconds, or the
/// priority rank) and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketCursor {
    /// The sort key of the last ticket seen.
    pub key: i64,
    /// Its id (tie-breaker).
    pub id: TicketId,
}

impl TicketCursor {
    /// The position of `ticket` in a listing sorted by `sort`.
    pub fn of(ticket: &Ticket, sort: TicketSort) -> TicketCursor {
        let millis = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
        let key = match sort {
            TicketSort::UpdatedDesc => millis(ticket.updated_at),
            TicketSort::CreatedDesc | TicketSort::CreatedAsc => millis(ticket.created_at),
            TicketSort::PriorityDesc => ticket.priority.rank(),
        };
        TicketCursor { key, id: ticket.id }
    }

    /// An opaque string form for clients (`<key>.<id>`).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.key, self.id.0.simple())
    }

    /// Parses [`TicketCursor::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<TicketCursor> {
        let (key, id) = s.split_once('.')?;
        Some(TicketCursor {
            key: key.parse().ok()?,
            id: TicketId(uuid::Uuid::try_parse(id).ok()?),
        })
    }
}

/// Filter, order and keyset page over tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only this customer's tickets (always set for customers).
    pub customer_id: Option<UserId>,
    /// Any of these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Only tickets in this category.
    pub category_id: Option<CategoryId>,
    /// Any of these priorities (empty: all).
    pub priorities: Vec<Priority>,
    /// Assigned to whom.
    pub assignee: AssigneeFilter,
    /// Words that must all occur (case-insensitively, as whole words or word
    /// prefixes) in the subject or in one message of the ticket.
    pub text: Option<String>,
    /// Whether `text` may match internal notes (staff only).
    pub include_internal: bool,
    /// Created at or after.
    pub created_from: Option<OffsetDateTime>,
    /// Created before.
    pub created_to: Option<OffsetDateTime>,
    /// Updated at or after.
    pub updated_from: Option<OffsetDateTime>,
    /// Updated before.
    pub updated_to: Option<OffsetDateTime>,
    /// Order.
    pub sort: TicketSort,
    /// Keyset cursor: continue after this position (in `sort` order).
    pub after: Option<TicketCursor>,
    /// Page size; the service clamps it to 1..=100.
    pub limit: u32,
}

/// An agent's current load, for auto-assignment and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    /// The agent (or admin).
    pub user: User,
    /// Tickets assigned to them in `new` or `in_progress`.
    pub open_tickets: i64,
}

/// A ticket category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Identity.
    pub id: CategoryId,
    /// Display name; unique case-insensitively.
    pub name: String,
    /// Archived categories stay on old tickets but cannot be chosen for new ones.
    pub archived: bool,
    /// Created.
    pub created_at: OffsetDateTime,
}
