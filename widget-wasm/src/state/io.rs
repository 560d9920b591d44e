//! What goes into the reducer ([`Input`]) and what comes out of it
//! ([`Effect`]): requests, timers and events for the web layer.

use uuid::Uuid;

use crate::out::HostIdentity;
use crate::wire::{self, Reply};

use super::{FetchKind, Key, Pending, Session, TicketRef};

/// An HTTP request for the web layer to make.
///
/// Session starts and ticket lists carry the session generation they
/// belong to, echoed in [`Input::Fetched`]: an answer that arrives after
/// another session was started (an anonymous start overtaken by
/// `identify()`, a ticket list of the previous visitor) is dropped rather
/// than taken for the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// `POST /api/v1/widget/sessions` with this JSON body.
    Session {
        /// `VisitorSessionRequest` JSON.
        body: String,
        /// The session generation this start opens.
        generation: u32,
    },
    /// `GET /api/v1/tickets` with the visitor token.
    Tickets {
        /// The session generation whose token is used.
        generation: u32,
    },
    /// `GET /api/v1/widget/status` (no auth).
    Status,
}

impl Fetch {
    /// The kind of this request.
    pub fn kind(&self) -> FetchKind {
        match self {
            Fetch::Session { .. } => FetchKind::Session,
            Fetch::Tickets { .. } => FetchKind::Tickets,
            Fetch::Status => FetchKind::Status,
        }
    }

    /// The generation to echo back (0 for the status).
    pub fn generation(&self) -> u32 {
        match self {
            Fetch::Session { generation, .. } | Fetch::Tickets { generation } => *generation,
            Fetch::Status => 0,
        }
    }
}

/// Timers the reducer schedules; the web layer keeps at most one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Reconnect the WebSocket.
    Reconnect,
    /// The agent's typing indicator expires.
    Typing,
    /// Retry sends refused for a transient reason.
    Retry,
}

/// An event for `NeuroChat.on(…)` listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsEvent {
    /// A message from support.
    Message {
        /// Its ticket.
        ticket_id: Uuid,
        /// Its seq.
        seq: u64,
        /// `agent` or `system`.
        kind: &'static str,
        /// Its text.
        body: String,
    },
    /// The panel opened.
    Open,
    /// The panel closed.
    Close,
    /// The unread count changed.
    Unread(u32),
    /// Something failed; `code` is the server's stable code or a widget one
    /// (`network`, `send_failed`).
    Error(String),
}

/// What the web layer must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open a WebSocket (closing any previous one).
    Connect,
    /// Close the WebSocket.
    Disconnect,
    /// Send one JSON text frame.
    Send(String),
    /// Make an HTTP request; answer with [`Input::Fetched`].
    Fetch(Fetch),
    /// Write (`Some`) or remove (`None`) a storage slot.
    Persist(Key, Option<String>),
    /// Redraw from the state.
    Render,
    /// Start (or restart) a timer; answer with [`Input::Timer`].
    Schedule(Timer, u32),
    /// Stop a timer.
    Cancel(Timer),
    /// Call `NeuroChat.on` listeners.
    Emit(JsEvent),
    /// Settle the pending `identify()` Promise: `Err` carries the code.
    Identified(Result<(), String>),
    /// Put a refused message back into the composer.
    RestoreDraft(String),
    /// Move focus: `true` into the composer (open), `false` to the launcher.
    Focus(bool),
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Start-up with what `localStorage` held (unreadable slots are `None`).
    Boot {
        /// `…:session`.
        session: Option<Session>,
        /// `…:ticket`.
        ticket: Option<TicketRef>,
        /// `…:outbox`.
        outbox: Vec<Pending>,
        /// Whether a pre-chat form must be filled before the first session.
        prechat: bool,
        /// `navigator.onLine`.
        online: bool,
        /// `document.visibilityState == "visible"`.
        visible: bool,
    },
    /// `NeuroChat.open()` or the launcher.
    Open,
    /// `NeuroChat.close()`, the close button or Escape.
    Close,
    /// `NeuroChat.toggle()` or the launcher.
    Toggle,
    /// The page became visible or hidden.
    Visible(bool),
    /// The browser went online or offline.
    Network(bool),
    /// The visitor sent the composer's text.
    Submit(String),
    /// The visitor typed in the composer.
    Typed,
    /// The pre-chat form was submitted.
    Prechat {
        /// Name, if asked.
        name: Option<String>,
        /// Email, if asked.
        email: Option<String>,
    },
    /// `NeuroChat.identify(…)`.
    Identify(HostIdentity),
    /// `NeuroChat.logout()`.
    Logout,
    /// The "start a new conversation" button.
    NewConversation,
    /// An earlier conversation was picked.
    SelectTicket(Uuid),
    /// The WebSocket opened.
    Opened,
    /// A text frame arrived (parsed; frames that are not JSON objects with
    /// a `type` never get here).
    Frame(Box<wire::Frame>),
    /// The WebSocket closed (or failed to open) with this code.
    Closed(u16),
    /// An HTTP request finished.
    Fetched {
        /// Which request.
        kind: FetchKind,
        /// The request's [`Fetch::generation`].
        generation: u32,
        /// What came back.
        reply: Reply,
        /// For a session: its `expires_at` in ms since the epoch, parsed
        /// by the web layer (0 when unknown).
        expires_ms: u64,
    },
    /// A scheduled timer fired.
    Timer(Timer),
}
