//! Chat messages.

use super::ids::{MessageId, TicketId, UserId};
use time::OffsetDateTime;

/// Who or what wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Written by the ticket's customer.
    Customer,
    /// Written by an agent or admin, visible to the customer.
    Agent,
    /// Written by NeuroChat (status changes and the like).
    System,
    /// Staff-only note; never shown to the customer.
    InternalNote,
}

impl MessageKind {
    /// Stable storage/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Customer => "customer",
            MessageKind::Agent => "agent",
            MessageKind::System => "system",
            MessageKind::InternalNote => "internal_note",
        }
    }

    /// Parses a stable name produced by [`MessageKind::as_str`].
    pub fn parse(s: &str) -> Option<MessageKind> {
        match s {
            "customer" => Some(MessageKind::Customer),
            "agent" => Some(MessageKind::Agent),
            "system" => Some(MessageKind::System),
            "internal_note" => Some(MessageKind::InternalNote),
            _ => None,
        }
    }
}

/// A stored message. `seq` is per ticket, gapless from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Identity.
    pub id: MessageId,
    /// The ticket it belongs to.
    pub ticket_id: TicketId,
    /// Position in the ticket: 1, 2, 3… assigned by the store atomically with the insert.
    pub seq: i64,
    /// Author (`None` for system messages).
    pub author_id: Option<UserId>,
    /// Customer, agent, system or internal note.
    pub kind: MessageKind,
    /// Validated text.
    pub body: String,
    /// The client's idempotency key: the same author sending it twice gets the
    /// original message back.
    pub client_msg_id: Option<String>,
    /// Stored at.
    pub created_at: OffsetDateTime,
}

/// A message to insert; the store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Identity.
    pub id: MessageId,
    /// Target ticket.
    pub ticket_id: TicketId,
    /// Author.
    pub author_id: Option<UserId>,
    /// Kind.
    pub kind: MessageKind,
    /// Validated text.
    pub body: String,
    /// Idempotency key.
    pub client_msg_id: Option<String>,
    /// Stored at.
    pub created_at: OffsetDateTime,
}

impl NewMessage {
    /// The stored form once the store has chosen `seq`.
    pub fn with_seq(&self, seq: i64) -> Message {
        Message {
            id: self.id,
            ticket_id: self.ticket_id,
            seq,
            author_id: self.author_id,
            kind: self.kind,
            body: self.body.clone(),
            client_msg_id: self.client_msg_id.clone(),
            created_at: self.created_at,
        }
    }
}

/// Result of an idempotent message insert.
#[derive(Debug, Clone, PartialEq, Eq)]
// Short-lived return value, matched at once; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum InsertMessage {
    /// Stored now, with its new `seq`; `ticket` is the ticket after the
    /// insert's effects (see [`MessageStore::insert_message`](crate::ports::MessageStore::insert_message)).
    Inserted {
        /// The stored message.
        message: Message,
        /// The ticket as it is now.
        ticket: super::ticket::Ticket,
        /// The ticket's status before the insert: a customer message reopens
        /// a resolved ticket, and callers announce that without a read.
        previous_status: super::ticket::TicketStatus,
    },
    /// The same author already sent this `client_msg_id`: the original message.
    Duplicate(Message),
}

impl InsertMessage {
    /// The message, new or original.
    pub fn message(&self) -> &Message {
        match self {
            InsertMessage::Inserted { message, .. } | InsertMessage::Duplicate(message) => message,
        }
    }
}

/// How far one participant has received and read a ticket's messages.
/// Both positions only move forward; `read_seq <= delivered_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The participant.
    pub user_id: UserId,
    /// Highest `seq` delivered to one of their devices.
    pub delivered_seq: i64,
    /// Highest `seq` they have seen.
    pub read_seq: i64,
    /// Last move.
    pub updated_at: OffsetDateTime,
}
