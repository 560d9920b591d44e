//! Domain events carried by the [`EventBus`](crate::ports::EventBus), and
//! their wire codec (JSON) for buses that cross process boundaries.

mod codec;

pub use codec::{decode, encode};

use crate::domain::{Availability, Message, SessionId, Ticket, TicketId, UserId};

/// Where an event is published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everything about one ticket: messages, receipts, typing, changes.
    Ticket(TicketId),
    /// What only staff may see of one ticket: its internal notes.
    TicketStaff(TicketId),
    /// The agents' inbox: new and changed tickets, escalations.
    Inbox,
    /// One user's private channel: session revocations, assignments to them.
    User(UserId),
    /// Agent availability changes.
    Presence,
}

impl Topic {
    /// A stable string form, used as the channel name by cross-node buses.
    pub fn key(&self) -> String {
        match self {
            Topic::Ticket(id) => format!("ticket:{id}"),
            Topic::TicketStaff(id) => format!("ticket-staff:{id}"),
            Topic::Inbox => "inbox".to_owned(),
            Topic::User(id) => format!("user:{id}"),
            Topic::Presence => "presence".to_owned(),
        }
    }

    /// Parses [`Topic::key`].
    pub fn parse_key(s: &str) -> Option<Topic> {
        match s {
            "inbox" => Some(Topic::Inbox),
            "presence" => Some(Topic::Presence),
            _ => {
                let (kind, id) = s.split_once(':')?;
                let uuid = uuid::Uuid::parse_str(id).ok()?;
                match kind {
                    "ticket" => Some(Topic::Ticket(TicketId(uuid))),
                    "ticket-staff" => Some(Topic::TicketStaff(TicketId(uuid))),
                    "user" => Some(Topic::User(UserId(uuid))),
                    _ => None,
                }
            }
        }
    }
}

/// What changed on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketChange {
    /// Opened.
    Created,
    /// Claimed by an agent.
    Claimed,
    /// Assigned by someone.
    Assigned,
    /// Unassigned.
    Unassigned,
    /// Status changed.
    Status,
    /// Priority changed.
    Priority,
    /// Category changed.
    Category,
    /// A message was posted while it is unassigned (inbox only; the
    /// snapshot carries the new `last_seq`).
    Activity,
}

/// Which service level a ticket breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EscalationReason {
    /// Still `new` (unclaimed) after the configured time.
    NewTooLong,
    /// A customer message has waited for an agent answer longer than the
    /// first-response target.
    Unanswered,
}

impl EscalationReason {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::NewTooLong => "new_too_long",
            EscalationReason::Unanswered => "unanswered",
        }
    }

    /// Parses [`EscalationReason::as_str`].
    pub fn parse(s: &str) -> Option<EscalationReason> {
        match s {
            "new_too_long" => Some(EscalationReason::NewTooLong),
            "unanswered" => Some(EscalationReason::Unanswered),
            _ => None,
        }
    }
}

/// A domain event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message was stored.
    MessagePosted(Message),
    /// A ticket was created or changed; carries the new state.
    TicketChanged {
        /// The ticket after the change.
        ticket: Ticket,
        /// What changed.
        change: TicketChange,
    },
    /// A participant started or stopped typing (never stored).
    Typing {
        /// The ticket.
        ticket_id: TicketId,
        /// Who.
        user_id: UserId,
        /// Started (`true`) or stopped.
        active: bool,
    },
    /// A participant's delivered/read position moved forward.
    Receipt {
        /// The ticket.
        ticket_id: TicketId,
        /// Whose receipt.
        user_id: UserId,
        /// Highest delivered seq.
        delivered_seq: i64,
        /// Highest read seq.
        read_seq: i64,
    },
    /// An agent's availability changed.
    AvailabilityChanged {
        /// The agent.
        user_id: UserId,
        /// New availability.
        availability: Availability,
    },
    /// A ticket breached an SLA (published once per breach to the inbox).
    Escalated {
        /// The ticket after the escalation was recorded.
        ticket: Ticket,
        /// Which SLA.
        reason: EscalationReason,
    },
    /// Sessions were revoked: live connections of these sessions must close.
    SessionsRevoked {
        /// Whose.
        user_id: UserId,
        /// One session, or `None` for all of the user's sessions.
        session_id: Option<SessionId>,
    },
}
