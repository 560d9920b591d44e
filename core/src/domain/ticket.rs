//! Tickets and categories.

use super::ids::{CategoryId, TicketId, UserId};
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
    /// `seq` of the newest message; the store bumps it with every insert.
    pub last_seq: i64,
    /// Optimistic-concurrency version, bumped by every update.
    pub version: i64,
}

/// Filter and keyset page over tickets. Extended by the tickets service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only this customer's tickets (always set for customers).
    pub customer_id: Option<UserId>,
    /// Any of these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Only tickets assigned to this user.
    pub assignee_id: Option<UserId>,
    /// Only unassigned tickets.
    pub unassigned: bool,
    /// Keyset cursor: tickets with `(updated_at, id)` strictly before this pair.
    pub before: Option<(OffsetDateTime, TicketId)>,
    /// Page size; the service clamps it to 1..=100.
    pub limit: u32,
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
