//! WebSocket protocol v1: JSON text frames tagged by `type`.
//!
//! # Flow
//! 1. The client connects and sends [`ClientFrame::Auth`] as its first frame
//!    (an access token or a widget visitor token). Without it the server closes
//!    with [`close_codes::AUTH_TIMEOUT`]; with a bad token, with
//!    [`close_codes::AUTH_FAILED`].
//! 2. The server answers [`ServerFrame::Hello`] with the protocol version, the
//!    session id and the limits the client must respect.
//! 3. Frames that carry a `req` number are answered by an [`ServerFrame::Ack`]
//!    or an [`ServerFrame::Error`] with the same `req`, so the client can match
//!    replies to requests. Everything else is pushed as it happens.
//! 4. Before the token expires the server sends [`ServerFrame::Reauth`]; the
//!    client sends a fresh [`ClientFrame::Auth`]. If it does not in time the
//!    server closes with [`close_codes::TOKEN_EXPIRED`].
//!
//! Client frames reject unknown fields (like REST request bodies); server
//! frames may gain fields, which older clients ignore.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::Availability;
use super::error::ErrorBody;
use super::messages::{MessageView, ReceiptView};
use super::redact::Redacted;
use super::tickets::TicketView;

/// A frame from the client to the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticate the connection (first frame), or re-authenticate after
    /// [`ServerFrame::Reauth`].
    Auth {
        /// An access token or a widget visitor token (secret).
        token: String,
    },
    /// Follow a ticket's conversation. The server first replays the messages
    /// after `last_seq`, then pushes new ones live.
    Subscribe {
        /// Request number, echoed in the reply.
        req: u64,
        /// The ticket to follow.
        ticket_id: Uuid,
        /// The highest `seq` the client already has (0 for none).
        last_seq: u64,
    },
    /// Staff: follow ticket events of the whole inbox.
    SubscribeInbox {
        /// Request number, echoed in the reply.
        req: u64,
    },
    /// Stop following a ticket's conversation.
    Unsubscribe {
        /// Request number, echoed in the reply.
        req: u64,
        /// The ticket to stop following.
        ticket_id: Uuid,
    },
    /// Post a message to a ticket.
    Send {
        /// Request number, echoed in the reply.
        req: u64,
        /// The ticket to post to.
        ticket_id: Uuid,
        /// Client-chosen id; retries with the same id are deduplicated.
        client_msg_id: String,
        /// The text.
        body: String,
        /// Staff only: post an internal note. Defaults to `false`.
        #[serde(default)]
        internal: bool,
    },
    /// Open a ticket with its first message.
    CreateTicket {
        /// Request number, echoed in the reply.
        req: u64,
        /// One-line summary.
        subject: String,
        /// The first message.
        body: String,
        /// Client-chosen id of the first message; retries are deduplicated.
        client_msg_id: String,
        /// The category, if the customer picked one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category_id: Option<Uuid>,
    },
    /// The user started typing in a ticket.
    TypingStart {
        /// The ticket being typed in.
        ticket_id: Uuid,
    },
    /// The user stopped typing in a ticket.
    TypingStop {
        /// The ticket no longer typed in.
        ticket_id: Uuid,
    },
    /// Messages up to `seq` reached the client.
    MarkDelivered {
        /// The ticket.
        ticket_id: Uuid,
        /// Highest `seq` received.
        seq: u64,
    },
    /// The user has seen messages up to `seq`.
    MarkRead {
        /// The ticket.
        ticket_id: Uuid,
        /// Highest `seq` seen.
        seq: u64,
    },
    /// Staff: change the agent's presence.
    SetAvailability {
        /// Request number, echoed in the reply.
        req: u64,
        /// The new presence.
        availability: Availability,
    },
    /// Staff: claim an unassigned ticket. Of several agents claiming at once
    /// exactly one gets the `ack`; the others get `already_claimed`.
    Claim {
        /// Request number, echoed in the reply.
        req: u64,
        /// The ticket to claim.
        ticket_id: Uuid,
    },
    /// Keep-alive; answered by [`ServerFrame::Pong`] with the same nonce.
    Ping {
        /// Opaque number echoed in the pong.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
}

impl ClientFrame {
    /// The request number of frames that expect an `ack` or `error` reply.
    pub fn req(&self) -> Option<u64> {
        match self {
            ClientFrame::Subscribe { req, .. }
            | ClientFrame::SubscribeInbox { req }
            | ClientFrame::Unsubscribe { req, .. }
            | ClientFrame::Send { req, .. }
            | ClientFrame::CreateTicket { req, .. }
            | ClientFrame::SetAvailability { req, .. }
            | ClientFrame::Claim { req, .. } => Some(*req),
            ClientFrame::Auth { .. }
            | ClientFrame::TypingStart { .. }
            | ClientFrame::TypingStop { .. }
            | ClientFrame::MarkDelivered { .. }
            | ClientFrame::MarkRead { .. }
            | ClientFrame::Ping { .. } => None,
        }
    }
}

impl fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientFrame::Auth { token: _ } => {
                f.debug_struct("Auth").field("token", &Redacted).finish()
            }
            ClientFrame::Subscribe {
                req,
                ticket_id,
                last_seq,
            } => f
                .debug_struct("Subscribe")
                .field("req", req)
                .field("ticket_id", ticket_id)
                .field("last_seq", last_seq)
                .finish(),
            ClientFrame::SubscribeInbox { req } => {
                f.debug_struct("SubscribeInbox").field("req", req).finish()
            }
            ClientFrame::Unsubscribe { req, ticket_id } => f
                .debug_struct("Unsubscribe")
                .field("req", req)
                .field("ticket_id", ticket_id)
                .finish(),
            ClientFrame::Send {
                req,
                ticket_id,
                client_msg_id,
                body,
                internal,
            } => f
                .debug_struct("Send")
                .field("req", req)
                .field("ticket_id", ticket_id)
                .field("client_msg_id", client_msg_id)
                .field("body", body)
                .field("internal", internal)
                .finish(),
            ClientFrame::CreateTicket {
                req,
                subject,
                body,
                client_msg_id,
                category_id,
            } => f
                .debug_struct("CreateTicket")
                .field("req", req)
                .field("subject", subject)
                .field("body", body)
                .field("client_msg_id", client_msg_id)
                .field("category_id", category_id)
                .finish(),
            ClientFrame::TypingStart { ticket_id } => f
                .debug_struct("TypingStart")
                .field("ticket_id", ticket_id)
                .finish(),
            ClientFrame::TypingStop { ticket_id } => f
                .debug_struct("TypingStop")
                .field("ticket_id", ticket_id)
                .finish(),
            ClientFrame::MarkDelivered { ticket_id, seq } => f
                .debug_struct("MarkDelivered")
                .field("ticket_id", ticket_id)
                .field("seq", seq)
                .finish(),
            ClientFrame::MarkRead { ticket_id, seq } => f
                .debug_struct("MarkRead")
                .field("ticket_id", ticket_id)
                .field("seq", seq)
                .finish(),
            ClientFrame::SetAvailability { req, availability } => f
                .debug_struct("SetAvailability")
                .field("req", req)
                .field("availability", availability)
                .finish(),
            ClientFrame::Claim { req, ticket_id } => f
                .debug_struct("Claim")
                .field("req", req)
                .field("ticket_id", ticket_id)
                .finish(),
            ClientFrame::Ping { nonce } => f.debug_struct("Ping").field("nonce", nonce).finish(),
        }
    }
}

/// Limits the server enforces on a connection, announced in
/// [`ServerFrame::Hello`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest accepted text frame, in bytes; larger ones close the connection
    /// with [`close_codes::FRAME_TOO_LARGE`].
    pub max_frame_bytes: u32,
    /// Longest accepted message body, in characters.
    pub max_body_chars: u32,
    /// How many messages the connection may send per minute.
    pub messages_per_minute: u32,
}

/// What changed in a [`ServerFrame::TicketEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketChange {
    /// The ticket was opened.
    Created,
    /// An agent claimed it for themselves.
    Claimed,
    /// It was assigned to an agent by someone else.
    Assigned,
    /// Its assignee was removed.
    Unassigned,
    /// Its status changed.
    Status,
    /// Its priority changed.
    Priority,
    /// Its category changed.
    Category,
    /// A message was posted on it while it is unassigned (the snapshot
    /// carries the new `last_seq`): sent to the inbox only, so the queue's
    /// unread counts move live for every agent.
    Activity,
    /// Its current state, re-read from storage after this connection fell
    /// behind on the inbox and missed events (what changed is not known).
    Resync,
}

impl TicketChange {
    /// Every change, in declaration order.
    pub const ALL: &'static [TicketChange] = &[
        TicketChange::Created,
        TicketChange::Claimed,
        TicketChange::Assigned,
        TicketChange::Unassigned,
        TicketChange::Status,
        TicketChange::Priority,
        TicketChange::Category,
        TicketChange::Activity,
        TicketChange::Resync,
    ];

    /// The stable snake_case string of this change (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketChange::Created => "created",
            TicketChange::Claimed => "claimed",
            TicketChange::Assigned => "assigned",
            TicketChange::Unassigned => "unassigned",
            TicketChange::Status => "status",
            TicketChange::Priority => "priority",
            TicketChange::Category => "category",
            TicketChange::Activity => "activity",
            TicketChange::Resync => "resync",
        }
    }
}

/// A frame from the server to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First server frame after a successful [`ClientFrame::Auth`].
    Hello {
        /// The protocol version the server speaks ([`crate::PROTOCOL_VERSION`]).
        protocol: u32,
        /// The authenticated session.
        session_id: Uuid,
        /// The server's clock, for the client to estimate skew.
        #[serde(with = "time::serde::rfc3339")]
        server_time: OffsetDateTime,
        /// Limits the client must respect.
        limits: Limits,
    },
    /// The token expires soon: send a fresh [`ClientFrame::Auth`].
    Reauth {
        /// When the current token expires.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// A request frame succeeded.
    Ack {
        /// The request number of the frame acknowledged.
        req: u64,
        /// The stored message, for `send` and `create_ticket`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Uuid>,
        /// The stored message's `seq`, for `send` and `create_ticket`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        /// The ticket, for `create_ticket`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket_id: Option<Uuid>,
    },
    /// A new message in a subscribed ticket (also replayed after `subscribe`).
    Message {
        /// The message.
        message: MessageView,
    },
    /// A participant's delivered/read marks moved.
    Receipt {
        /// The new marks.
        receipt: ReceiptView,
    },
    /// Someone started or stopped typing in a subscribed ticket.
    Typing {
        /// The ticket.
        ticket_id: Uuid,
        /// Who is typing.
        user_id: Uuid,
        /// `true` when typing started, `false` when it stopped.
        active: bool,
    },
    /// A ticket was created or changed.
    TicketEvent {
        /// The ticket after the change.
        ticket: TicketView,
        /// What changed.
        change: TicketChange,
    },
    /// An agent's presence changed.
    Availability {
        /// The agent.
        user_id: Uuid,
        /// The new presence.
        availability: Availability,
    },
    /// A ticket needs staff attention (e.g. waited too long for a reply).
    Escalation {
        /// The ticket.
        ticket_id: Uuid,
        /// Human-readable reason.
        reason: String,
    },
    /// A request frame failed, or a connection-level error occurred.
    Error {
        /// The request number of the failed frame, if the error answers one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req: Option<u64>,
        /// What went wrong.
        error: ErrorBody,
    },
    /// Answer to [`ClientFrame::Ping`].
    Pong {
        /// The ping's nonce.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
        /// The server's clock.
        #[serde(with = "time::serde::rfc3339")]
        server_time: OffsetDateTime,
    },
}

impl ServerFrame {
    /// An `error` frame answering request `req` (or none).
    pub fn error(req: Option<u64>, error: ErrorBody) -> Self {
        ServerFrame::Error { req, error }
    }
}

/// WebSocket close codes the server uses (private-use range 4000–4999).
pub mod close_codes {
    /// The server is shutting down or restarting (standard code); reconnect
    /// and resume.
    pub const GOING_AWAY: u16 = 1001;
    /// The client kept sending malformed or forbidden frames.
    pub const PROTOCOL_VIOLATION: u16 = 4000;
    /// No [`ClientFrame::Auth`](super::ClientFrame::Auth) arrived in time
    /// after connecting.
    pub const AUTH_TIMEOUT: u16 = 4001;
    /// The token in the `auth` frame was rejected.
    pub const AUTH_FAILED: u16 = 4002;
    /// The token expired and the re-authentication grace period is over.
    pub const TOKEN_EXPIRED: u16 = 4003;
    /// The client reads too slowly: its outbound queue is full.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The client sent too many frames.
    pub const RATE_LIMITED: u16 = 4009;
    /// A frame exceeded [`Limits::max_frame_bytes`](super::Limits::max_frame_bytes).
    pub const FRAME_TOO_LARGE: u16 = 4010;
    /// The session was logged out, revoked, or the account disabled.
    pub const SESSION_REVOKED: u16 = 4011;
    /// The user (or the server) has too many open connections.
    pub const TOO_MANY_CONNECTIONS: u16 = 4012;

    /// Every close code above, in ascending order.
    pub const ALL: &[u16] = &[
        GOING_AWAY,
        PROTOCOL_VIOLATION,
        AUTH_TIMEOUT,
        AUTH_FAILED,
        TOKEN_EXPIRED,
        SLOW_CONSUMER,
        RATE_LIMITED,
        FRAME_TOO_LARGE,
        SESSION_REVOKED,
        TOO_MANY_CONNECTIONS,
    ];

    /// A short snake_case name of a close code, for close reasons and logs.
    pub fn name(code: u16) -> Option<&'static str> {
        match code {
            AUTH_TIMEOUT => Some("auth_timeout"),
            AUTH_FAILED => Some("auth_failed"),
            TOKEN_EXPIRED => Some("token_expired"),
            SLOW_CONSUMER => Some("slow_consumer"),
            RATE_LIMITED => Some("rate_limited"),
            FRAME_TOO_LARGE => Some("frame_too_large"),
            SESSION_REVOKED => Some("session_revoked"),
            TOO_MANY_CONNECTIONS => Some("too_many_connections"),
            GOING_AWAY => Some("going_away"),
            PROTOCOL_VIOLATION => Some("protocol_violation"),
            _ => None,
        }
    }
}
