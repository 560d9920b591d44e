//! The data the widget holds and persists: connection and delivery states,
//! messages, the outbox, the stored session and ticket, storage slots.

use uuid::Uuid;

use crate::out::Obj;
use crate::wire::Json;

/// The WebSocket as the visitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// No session yet, nothing to connect (not an error state).
    Idle,
    /// Starting a session, connecting, authenticating, or waiting to retry.
    Connecting,
    /// `hello` received.
    Online,
    /// The browser is offline.
    Offline,
}

impl Conn {
    /// The `data-state` of `.nc-connection`.
    pub fn as_str(self) -> &'static str {
        match self {
            Conn::Idle | Conn::Online => "online",
            Conn::Connecting => "connecting",
            Conn::Offline => "offline",
        }
    }
}

/// Who wrote a message, from the visitor's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// The visitor (`nc-own`).
    Own,
    /// An agent (`nc-agent`).
    Agent,
    /// The system (`nc-system`).
    System,
}

impl Author {
    /// The message's class in the DOM.
    pub fn class(self) -> &'static str {
        match self {
            Author::Own => "nc-own",
            Author::Agent => "nc-agent",
            Author::System => "nc-system",
        }
    }
    pub(super) fn of(kind: &str) -> Option<Author> {
        match kind {
            "customer" => Some(Author::Own),
            "agent" => Some(Author::Agent),
            "system" => Some(Author::System),
            // Internal notes never reach customers; an unknown kind is shown
            // as a system line rather than dropped or mistaken for ours.
            "internal_note" => None,
            _ => Some(Author::System),
        }
    }
}

/// Delivery state of an own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tick {
    /// Not yet acknowledged by the server.
    Pending,
    /// Stored (has a seq).
    Sent,
    /// Support's client received it.
    Delivered,
    /// Support read it.
    Read,
}

impl Tick {
    /// The `data-state` of `.nc-ticks`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tick::Pending => "pending",
            Tick::Sent => "sent",
            Tick::Delivered => "delivered",
            Tick::Read => "read",
        }
    }
}

/// A stored message of the current ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Its position.
    pub seq: u64,
    /// Who wrote it.
    pub author: Author,
    /// The text, exactly as stored (the DOM layer sets it as text).
    pub body: String,
    /// The author's idempotency key.
    pub client_msg_id: Option<String>,
    /// When it was stored (RFC 3339).
    pub created_at: String,
}

/// An own message not yet echoed back by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The idempotency key, kept across reloads.
    pub id: String,
    /// The ticket it goes to; `None` = it opens a new ticket.
    pub ticket: Option<Uuid>,
    /// The cleaned text.
    pub body: String,
    /// Its seq once acknowledged (it then only waits for its echo).
    pub seq: Option<u64>,
    /// The request number while a `send`/`create_ticket` is in flight on
    /// this connection.
    pub req: Option<u64>,
}

/// The visitor's session, as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The visitor token (`ncv_…`).
    pub token: String,
    /// When it expires (RFC 3339, as the server sent it).
    pub expires_at: String,
    /// The same instant in ms since the epoch (parsed by the web layer), so
    /// the reducer can compare it with `now` without a date parser; 0 when
    /// unknown.
    pub expires_ms: u64,
    /// The visitor's user id.
    pub user_id: Uuid,
    /// The host's user id when the session came from `identify()`.
    pub host_user: Option<String>,
}

impl Session {
    /// The stored form.
    pub fn to_json(&self) -> String {
        Obj::new()
            .s("token", &self.token)
            .s("expires_at", &self.expires_at)
            .n("expires_ms", self.expires_ms)
            .id("user_id", self.user_id)
            .opt("host_user", self.host_user.as_deref())
            .end()
    }

    /// Reads a stored session.
    pub fn from_json<J: Json>(j: &J) -> Option<Session> {
        Some(Session {
            token: j.str_at("token")?,
            expires_at: j.str_at("expires_at").unwrap_or_default(),
            expires_ms: j.u64_at("expires_ms").unwrap_or(0),
            user_id: j.uuid_at("user_id")?,
            host_user: j.str_at("host_user"),
        })
    }
}

/// The current ticket, as persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef {
    /// The ticket.
    pub id: Uuid,
    /// Highest seq held when last saved.
    pub last_seq: u64,
    /// Highest seq the visitor has seen (the unread badge counts above it).
    pub read_seq: u64,
}

impl TicketRef {
    /// The stored form.
    pub fn to_json(&self) -> String {
        Obj::new()
            .id("id", self.id)
            .n("last_seq", self.last_seq)
            .n("read_seq", self.read_seq)
            .end()
    }

    /// Reads a stored ticket reference.
    pub fn from_json<J: Json>(j: &J) -> Option<TicketRef> {
        Some(TicketRef {
            id: j.uuid_at("id")?,
            last_seq: j.u64_at("last_seq").unwrap_or(0),
            read_seq: j.u64_at("read_seq").unwrap_or(0),
        })
    }
}

impl Pending {
    /// Reads a stored outbox (entries that cannot be read are dropped).
    pub fn list_from_json<J: Json>(j: &J) -> Vec<Pending> {
        j.items()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                Some(Pending {
                    id: p.str_at("id")?,
                    ticket: p.uuid_at("ticket"),
                    body: p.str_at("body").filter(|b| !b.is_empty())?,
                    seq: None,
                    req: None,
                })
            })
            .collect()
    }
}

/// Ticket status (the server's vocabulary, shown as `data-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Opened, nobody on it yet (also a ticket the widget just opened).
    #[default]
    New,
    /// An agent works on it (also any status a newer server invents:
    /// chatting keeps working).
    InProgress,
    /// Resolved: a new message reopens it; the banner offers a new one.
    Resolved,
    /// Closed: read-only.
    Closed,
}

impl Status {
    pub(super) fn of(s: &str) -> Status {
        match s {
            "new" => Status::New,
            "resolved" => Status::Resolved,
            "closed" => Status::Closed,
            _ => Status::InProgress,
        }
    }

    /// Chatting goes on as usual (no banner).
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::InProgress)
    }

    /// The `data-status` of `.nc-ticket-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
}

/// A persisted storage slot (`neurochat:<origin>:<key>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The visitor session.
    Session,
    /// The current ticket and its seq marks.
    Ticket,
    /// Unacknowledged messages.
    Outbox,
}

impl Key {
    /// The key's suffix.
    pub fn name(self) -> &'static str {
        match self {
            Key::Session => "session",
            Key::Ticket => "ticket",
            Key::Outbox => "outbox",
        }
    }
}
