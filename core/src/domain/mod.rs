//! Pure domain types and rules. No I/O, no serde: wire forms live in
//! `neurochat-protocol` and conversions at the edge.

pub mod audit;
pub mod ids;
pub mod message;
pub mod outbox;
pub mod session;
pub mod ticket;
pub mod user;
pub mod validate;

pub use audit::{AuditAction, AuditEntry, AuditFilter};
pub use ids::{AuditId, CategoryId, MessageId, OutboxId, SessionId, TicketId, TokenId, UserId};
pub use message::{InsertMessage, Message, MessageKind, NewMessage, Receipt};
pub use outbox::OutboxMessage;
pub use session::{RefreshToken, ResetToken, RotateOutcome, Session, SessionKind};
pub use ticket::{
    AgentLoad, AssigneeFilter, Category, Priority, Ticket, TicketCursor, TicketFilter, TicketSort,
    TicketStatus,
};
pub use user::{Availability, Role, User, UserFilter};
