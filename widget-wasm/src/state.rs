//! The widget's state machine: `update(&mut State, Input) -> Vec<Effect>`.
//!
//! Everything the widget decides lives here, free of `web-sys`, so it runs
//! and is tested natively: which frames to send, what to store, when to
//! reconnect, what the DOM should show. The `web` module feeds it inputs
//! (clicks, frames, fetch results, timers) and performs the effects.
//!
//! # Delivery
//! Messages are kept by `seq`; `last_seq` is the highest held. A replay
//! (between `subscribe` and its `ack`) is authoritative: any seq above
//! `last_seq` is taken, because customers legitimately see gaps where
//! internal notes are. A *live* message that skips ahead is not shown yet:
//! the widget re-subscribes from `last_seq` and the replay brings it (and
//! anything missed) in order. Duplicates (seq ≤ `last_seq`) are dropped, so
//! each message is shown once.
//!
//! # Outbox
//! A sent message is an optimistic bubble in the outbox with a
//! `client_msg_id`, persisted until the server acknowledges it and resent
//! after every reconnect (the server de-duplicates by that id). The `ack`
//! gives it its seq ("sent"); the echoed `message` with the same id replaces
//! the bubble with the stored message, so it is never shown twice.

use uuid::Uuid;

use crate::backoff;
use crate::out::{ClientFrame, HostIdentity, Obj, VisitorSessionRequest};
use crate::text;
use crate::wire::{self, Json, Reply};

pub use crate::wire::FetchKind;

/// Body limit before the server's `hello` says otherwise (the core's limit).
pub const DEFAULT_MAX_BODY: usize = 4000;
/// How long an agent's typing indicator stays without a fresh event.
pub const TYPING_TIMEOUT_MS: u32 = 8_000;
/// Minimum gap between our own `typing_start` frames.
pub const TYPING_THROTTLE_MS: f64 = 3_000.0;
/// How old the presence line may get before an open asks again.
pub const STATUS_REFRESH_MS: f64 = 60_000.0;
/// Retry delay of a send refused for a transient reason (`rate_limited`…).
pub const RETRY_MS: u32 = 5_000;

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
    fn of(kind: &str) -> Option<Author> {
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
    fn of(s: &str) -> Status {
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

/// What kind of request a `req` number was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Subscribe(Uuid),
    Send(String),
    Create(String),
}

/// Subscription to the current ticket on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    None,
    /// Sent; the replay is running until its ack.
    Replaying(u64),
    Live,
}

/// The whole widget state.
#[derive(Debug, Clone)]
pub struct State {
    /// Milliseconds since the epoch; the web layer sets it before each
    /// update (the reducer never reads a clock).
    pub now_ms: f64,
    rng: u64,
    /// Panel open.
    pub open: bool,
    /// Page visible.
    pub visible: bool,
    /// Browser online.
    pub network: bool,
    /// Connection state.
    pub conn: Conn,
    attempt: u32,
    socket: bool,
    authed: bool,
    /// The visitor session.
    pub session: Option<Session>,
    session_pending: bool,
    /// Generation of the latest session start (see [`Fetch`]).
    session_gen: u32,
    pending_host_user: Option<String>,
    identify_pending: bool,
    /// A pre-chat form must be filled before a session starts.
    pub prechat_needed: bool,
    /// The current ticket.
    pub ticket: Option<TicketRef>,
    /// The current ticket's status.
    pub status: Status,
    /// Stored messages of the current ticket, ascending by seq.
    pub messages: Vec<Msg>,
    /// Own messages not yet echoed, in send order.
    pub outbox: Vec<Pending>,
    sub: Sub,
    reqs: Vec<(u64, Req)>,
    next_req: u64,
    creating: Option<String>,
    /// Support's delivered mark on the current ticket.
    pub peer_delivered: u64,
    /// Support's read mark on the current ticket.
    pub peer_read: u64,
    delivered_sent: u64,
    read_sent: u64,
    /// Support is typing.
    pub agent_typing: bool,
    typing_sent_at: f64,
    /// Longest accepted body, from `hello`.
    pub max_body: usize,
    /// Earlier conversations (not the current one), newest first.
    pub history: Vec<wire::Ticket>,
    /// Presence from `/widget/status`: `None` = unknown (generic text).
    pub presence: Option<wire::Status>,
    /// When the presence was last asked for (`now_ms`), if ever.
    status_fetched_at: Option<f64>,
    unread_emitted: u32,
    last_auth_error: Option<String>,
}

impl State {
    /// A fresh state; `seed` feeds the jitter and message ids.
    pub fn new(seed: u64) -> State {
        State {
            now_ms: 0.0,
            rng: seed | 1,
            open: false,
            visible: true,
            network: true,
            conn: Conn::Idle,
            attempt: 0,
            socket: false,
            authed: false,
            session: None,
            session_pending: false,
            session_gen: 0,
            pending_host_user: None,
            identify_pending: false,
            prechat_needed: false,
            ticket: None,
            status: Status::New,
            messages: Vec::new(),
            outbox: Vec::new(),
            sub: Sub::None,
            reqs: Vec::new(),
            next_req: 1,
            creating: None,
            peer_delivered: 0,
            peer_read: 0,
            delivered_sent: 0,
            read_sent: 0,
            agent_typing: false,
            typing_sent_at: f64::NEG_INFINITY,
            max_body: DEFAULT_MAX_BODY,
            history: Vec::new(),
            presence: None,
            status_fetched_at: None,
            unread_emitted: 0,
            last_auth_error: None,
        }
    }

    /// Highest seq held of the current ticket.
    pub fn last_seq(&self) -> u64 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// Messages from support the visitor has not seen.
    pub fn unread(&self) -> u32 {
        let read = self.ticket.map_or(0, |t| t.read_seq);
        let n = self
            .messages
            .iter()
            .filter(|m| m.author != Author::Own && m.seq > read)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The tick of an own message with this seq (`None` = not acked).
    pub fn tick(&self, seq: Option<u64>) -> Tick {
        match seq {
            None => Tick::Pending,
            Some(s) if s <= self.peer_read => Tick::Read,
            Some(s) if s <= self.peer_delivered => Tick::Delivered,
            Some(_) => Tick::Sent,
        }
    }

    /// Outbox entries shown in the current conversation (after the stored
    /// messages).
    pub fn pending_shown(&self) -> impl Iterator<Item = &Pending> {
        let current = self.ticket.map(|t| t.id);
        self.outbox
            .iter()
            .filter(move |p| p.ticket == current || (p.ticket.is_none() && current.is_none()))
    }

    /// The composer is usable (closed tickets are read-only; the pre-chat
    /// form comes first when configured).
    pub fn can_write(&self) -> bool {
        self.status != Status::Closed && !self.prechat_needed
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: plenty for jitter and idempotency keys, and seeded
        // by the web layer from `crypto.getRandomValues`.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn new_msg_id(&mut self) -> String {
        // `w-` and 16 hex digits: visible ASCII, well inside the server's
        // 64-character limit.
        let mut id = String::from("w-");
        let r = self.random();
        for i in (0..16).rev() {
            id.push(char::from(
                b"0123456789abcdef"[((r >> (i * 4)) & 15) as usize],
            ));
        }
        id
    }

    fn req(&mut self, kind: Req) -> u64 {
        let r = self.next_req;
        self.next_req += 1;
        self.reqs.push((r, kind));
        r
    }

    fn take_req(&mut self, req: u64) -> Option<Req> {
        let i = self.reqs.iter().position(|(r, _)| *r == req)?;
        Some(self.reqs.remove(i).1)
    }
}

fn frame(f: &ClientFrame) -> Effect {
    Effect::Send(f.to_json())
}

/// Applies one input; returns what the web layer must do, in order.
pub fn update(s: &mut State, input: Input) -> Vec<Effect> {
    let mut fx = Vec::new();
    match input {
        Input::Boot {
            session,
            ticket,
            outbox,
            prechat,
            online,
            visible,
        } => boot(
            s, &mut fx, session, ticket, outbox, prechat, online, visible,
        ),
        Input::Open => set_open(s, &mut fx, true),
        Input::Close => set_open(s, &mut fx, false),
        Input::Toggle => {
            let open = !s.open;
            set_open(s, &mut fx, open);
        }
        Input::Visible(v) => {
            s.visible = v;
            mark_seen(s, &mut fx);
            if v && s.conn == Conn::Connecting && !s.socket && s.session.is_some() {
                // Back to the tab: do not wait out a long backoff.
                connect_now(s, &mut fx);
            }
        }
        Input::Network(up) => {
            s.network = up;
            if up {
                if s.conn == Conn::Offline || (s.conn == Conn::Connecting && !s.socket) {
                    s.attempt = 0;
                    if s.session.is_some() {
                        connect_now(s, &mut fx);
                    } else {
                        s.conn = Conn::Idle;
                        ensure_session(s, &mut fx);
                    }
                }
            } else {
                s.conn = Conn::Offline;
                fx.push(Effect::Cancel(Timer::Reconnect));
            }
        }
        Input::Submit(raw) => submit(s, &mut fx, &raw),
        Input::Typed => {
            if let (Some(t), Conn::Online) = (s.ticket, s.conn)
                && s.now_ms - s.typing_sent_at >= TYPING_THROTTLE_MS
            {
                s.typing_sent_at = s.now_ms;
                fx.push(frame(&ClientFrame::TypingStart { ticket_id: t.id }));
            }
        }
        Input::Prechat { name, email } => {
            s.prechat_needed = false;
            let body = VisitorSessionRequest {
                identity: None,
                display_name: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
                email: email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()),
            };
            start_session(s, &mut fx, &body, None);
        }
        Input::Identify(identity) => identify(s, &mut fx, identity),
        Input::Logout => {
            forget_everything(s, &mut fx);
            s.conn = Conn::Idle;
        }
        Input::NewConversation => {
            leave_ticket(s, &mut fx);
            persist_ticket(s, &mut fx);
            fetch_tickets(s, &mut fx);
        }
        Input::SelectTicket(id) => {
            if s.ticket.map(|t| t.id) != Some(id) {
                leave_ticket(s, &mut fx);
                let read = s
                    .history
                    .iter()
                    .find(|t| t.id == id)
                    .map_or(0, |t| t.last_seq);
                if let Some(i) = s.history.iter().position(|t| t.id == id) {
                    s.status = Status::of(&s.history[i].status);
                }
                s.ticket = Some(TicketRef {
                    id,
                    last_seq: 0,
                    read_seq: read,
                });
                persist_ticket(s, &mut fx);
                subscribe(s, &mut fx);
                fetch_tickets(s, &mut fx);
            }
        }
        Input::Opened => {
            s.socket = true;
            if let Some(sess) = &s.session {
                fx.push(frame(&ClientFrame::Auth {
                    token: sess.token.clone(),
                }));
            }
        }
        Input::Frame(f) => on_frame(s, &mut fx, *f),
        Input::Closed(code) => on_closed(s, &mut fx, code),
        Input::Fetched {
            kind,
            generation,
            reply,
            expires_ms,
        } => {
            // Only the answer to the latest session start, and ticket lists
            // of the current session, count.
            let current = match kind {
                FetchKind::Session => s.session_pending && generation == s.session_gen,
                FetchKind::Tickets => generation == s.session_gen && s.session.is_some(),
                FetchKind::Status => true,
            };
            if current {
                on_fetched(s, &mut fx, kind, reply, expires_ms);
            }
        }
        Input::Timer(t) => match t {
            Timer::Reconnect => {
                if s.session.is_some() && s.network && !s.socket {
                    fx.push(Effect::Connect);
                }
            }
            Timer::Typing => s.agent_typing = false,
            Timer::Retry => {
                ensure_session(s, &mut fx);
                flush(s, &mut fx);
            }
        },
    }
    receipts(s, &mut fx);
    let unread = s.unread();
    if unread != s.unread_emitted {
        s.unread_emitted = unread;
        fx.push(Effect::Emit(JsEvent::Unread(unread)));
    }
    fx.push(Effect::Render);
    fx
}

#[allow(clippy::too_many_arguments)]
fn boot(
    s: &mut State,
    fx: &mut Vec<Effect>,
    session: Option<Session>,
    ticket: Option<TicketRef>,
    outbox: Vec<Pending>,
    prechat: bool,
    online: bool,
    visible: bool,
) {
    s.network = online;
    s.visible = visible;
    let had_session = session.is_some();
    s.session = session.filter(|x| x.expires_ms == 0 || x.expires_ms as f64 > s.now_ms);
    if s.session.is_none() && had_session {
        // Expired: it belonged to a visitor we can no longer be, so its
        // ticket and outbox go too.
        fx.push(Effect::Persist(Key::Session, None));
        fx.push(Effect::Persist(Key::Ticket, None));
        fx.push(Effect::Persist(Key::Outbox, None));
    } else {
        s.ticket = ticket;
        s.outbox = outbox;
        s.outbox.retain(|p| !p.body.is_empty());
    }
    if let Some(t) = &mut s.ticket {
        // Messages are not stored locally: the replay brings them again
        // (from 0), and `read_seq` keeps the badge honest meanwhile.
        t.last_seq = 0;
    }
    s.prechat_needed = prechat && s.session.is_none();
    if s.session.is_some() {
        connect_now(s, fx);
        fetch_tickets(s, fx);
    }
}

fn set_open(s: &mut State, fx: &mut Vec<Effect>, open: bool) {
    if s.open == open {
        return;
    }
    s.open = open;
    fx.push(Effect::Emit(if open {
        JsEvent::Open
    } else {
        JsEvent::Close
    }));
    fx.push(Effect::Focus(open));
    if open {
        // Presence changes through the day: asked again on an open after a
        // minute, never on every open.
        if s.status_fetched_at
            .is_none_or(|at| s.now_ms - at >= STATUS_REFRESH_MS)
        {
            s.status_fetched_at = Some(s.now_ms);
            fx.push(Effect::Fetch(Fetch::Status));
        }
        ensure_session(s, fx);
        if s.session.is_some() && s.conn == Conn::Connecting && !s.socket {
            connect_now(s, fx);
        }
        mark_seen(s, fx);
    }
}

/// Starts an anonymous session when one is needed and allowed.
fn ensure_session(s: &mut State, fx: &mut Vec<Effect>) {
    let wanted = s.open || !s.outbox.is_empty();
    if wanted && s.session.is_none() && !s.session_pending && !s.prechat_needed && s.network {
        let body = VisitorSessionRequest {
            identity: None,
            display_name: None,
            email: None,
        };
        start_session(s, fx, &body, None);
    }
}

fn start_session(
    s: &mut State,
    fx: &mut Vec<Effect>,
    body: &VisitorSessionRequest,
    host_user: Option<String>,
) {
    let body = body.to_json();
    s.session_pending = true;
    s.session_gen = s.session_gen.wrapping_add(1);
    s.pending_host_user = host_user;
    s.conn = Conn::Connecting;
    fx.push(Effect::Fetch(Fetch::Session {
        body,
        generation: s.session_gen,
    }));
}

fn identify(s: &mut State, fx: &mut Vec<Effect>, identity: HostIdentity) {
    let host_user = match &identity {
        HostIdentity::Hmac { user_id, .. } => Some(user_id.clone()),
        HostIdentity::Jwt { .. } => None,
    };
    if host_user.is_some()
        && !s.identify_pending
        && s.session.as_ref().and_then(|x| x.host_user.as_ref()) == host_user.as_ref()
    {
        // Same customer as the stored session, which was verified when it
        // was issued: nothing to redo (hosts call identify on every page).
        fx.push(Effect::Identified(Ok(())));
        return;
    }
    // Whatever was shown belonged to someone else (or to an anonymous
    // visitor the server is about to replace): drop it before asking, so a
    // refusal leaves nothing of anyone behind.
    forget_everything(s, fx);
    s.identify_pending = true;
    s.prechat_needed = false;
    let body = VisitorSessionRequest {
        identity: Some(identity),
        display_name: None,
        email: None,
    };
    start_session(s, fx, &body, host_user);
}

fn forget_everything(s: &mut State, fx: &mut Vec<Effect>) {
    if s.socket {
        fx.push(Effect::Disconnect);
    }
    fx.push(Effect::Cancel(Timer::Reconnect));
    fx.push(Effect::Cancel(Timer::Retry));
    for k in [Key::Session, Key::Ticket, Key::Outbox] {
        fx.push(Effect::Persist(k, None));
    }
    if s.identify_pending {
        s.identify_pending = false;
        fx.push(Effect::Identified(Err("superseded".to_owned())));
    }
    let keep = State {
        now_ms: s.now_ms,
        rng: s.rng,
        open: s.open,
        visible: s.visible,
        network: s.network,
        max_body: s.max_body,
        presence: s.presence,
        status_fetched_at: s.status_fetched_at,
        unread_emitted: s.unread_emitted,
        next_req: s.next_req,
        session_gen: s.session_gen,
        ..State::new(0)
    };
    *s = keep;
}

fn leave_ticket(s: &mut State, fx: &mut Vec<Effect>) {
    if let (Some(t), Conn::Online) = (s.ticket, s.conn) {
        let req = s.req(Req::Subscribe(t.id));
        // Unsubscribing is answered with an ack the reducer ignores.
        s.take_req(req);
        fx.push(frame(&ClientFrame::Unsubscribe {
            req,
            ticket_id: t.id,
        }));
    }
    s.ticket = None;
    s.status = Status::New;
    s.messages.clear();
    s.sub = Sub::None;
    s.peer_delivered = 0;
    s.peer_read = 0;
    s.delivered_sent = 0;
    s.read_sent = 0;
    s.agent_typing = false;
    fx.push(Effect::Cancel(Timer::Typing));
}

fn connect_now(s: &mut State, fx: &mut Vec<Effect>) {
    if !s.network {
        s.conn = Conn::Offline;
        return;
    }
    s.conn = Conn::Connecting;
    // `Connect` replaces any socket still open (its late events are
    // ignored), so nothing of it may linger here either.
    reset_connection(s);
    fx.push(Effect::Cancel(Timer::Reconnect));
    fx.push(Effect::Connect);
}

fn fetch_tickets(s: &State, fx: &mut Vec<Effect>) {
    if s.session.is_some() {
        fx.push(Effect::Fetch(Fetch::Tickets {
            generation: s.session_gen,
        }));
    }
}

fn persist_ticket(s: &State, fx: &mut Vec<Effect>) {
    let v = s.ticket.map(|t| TicketRef {
        last_seq: s.last_seq().max(t.last_seq),
        ..t
    });
    fx.push(Effect::Persist(Key::Ticket, v.map(|t| t.to_json())));
}

fn persist_outbox(s: &State, fx: &mut Vec<Effect>) {
    let mut v = String::from("[");
    for p in s.outbox.iter().filter(|p| p.seq.is_none()) {
        if v.len() > 1 {
            v.push(',');
        }
        let o = Obj::new().s("id", &p.id).s("body", &p.body);
        v.push_str(
            &match p.ticket {
                Some(t) => o.id("ticket", t),
                None => o,
            }
            .end(),
        );
    }
    v.push(']');
    let v = (v.len() > 2).then_some(v);
    fx.push(Effect::Persist(Key::Outbox, v));
}

fn submit(s: &mut State, fx: &mut Vec<Effect>, raw: &str) {
    let body = text::clean_body(raw);
    if body.is_empty() || text::char_len(&body) > s.max_body || !s.can_write() {
        return;
    }
    let id = s.new_msg_id();
    s.outbox.push(Pending {
        id,
        ticket: s.ticket.map(|t| t.id),
        body,
        seq: None,
        req: None,
    });
    persist_outbox(s, fx);
    if let (Some(t), Conn::Online, true) = (s.ticket, s.conn, s.typing_sent_at.is_finite()) {
        // Only after a typing_start: the message itself ends the typing.
        fx.push(frame(&ClientFrame::TypingStop { ticket_id: t.id }));
        s.typing_sent_at = f64::NEG_INFINITY;
    }
    ensure_session(s, fx);
    flush(s, fx);
}

/// Sends every outbox entry not yet in flight: a `create_ticket` for the
/// first ticket-less one (the rest wait for its ticket), `send` for the
/// others once the replay of their ticket is done (so an entry the replay
/// already shows is not sent again).
fn flush(s: &mut State, fx: &mut Vec<Effect>) {
    if s.conn != Conn::Online {
        return;
    }
    let current = s.ticket.map(|t| t.id);
    for i in 0..s.outbox.len() {
        let p = &s.outbox[i];
        if p.req.is_some() || p.seq.is_some() {
            continue;
        }
        let (id, body) = (p.id.clone(), p.body.clone());
        match p.ticket {
            None => {
                if s.creating.is_some() {
                    continue;
                }
                let req = s.req(Req::Create(id.clone()));
                s.creating = Some(id.clone());
                s.outbox[i].req = Some(req);
                fx.push(frame(&ClientFrame::CreateTicket {
                    req,
                    subject: text::subject_of(&body),
                    body,
                    client_msg_id: id,
                    category_id: None,
                }));
            }
            Some(t) => {
                if Some(t) == current && s.sub != Sub::Live {
                    continue;
                }
                let req = s.req(Req::Send(id.clone()));
                s.outbox[i].req = Some(req);
                fx.push(frame(&ClientFrame::Send {
                    req,
                    ticket_id: t,
                    client_msg_id: id,
                    body,
                    internal: false,
                }));
            }
        }
    }
}

fn subscribe(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(t) = s.ticket else { return };
    if s.conn != Conn::Online {
        return;
    }
    let req = s.req(Req::Subscribe(t.id));
    s.sub = Sub::Replaying(req);
    fx.push(frame(&ClientFrame::Subscribe {
        req,
        ticket_id: t.id,
        last_seq: s.last_seq(),
    }));
}

/// Moves our receipts forward: delivered as soon as support's messages are
/// held, read while the panel is open on a visible page.
fn receipts(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(t) = s.ticket else { return };
    if s.conn != Conn::Online || s.sub != Sub::Live {
        return;
    }
    let last = s.last_seq();
    if last > s.delivered_sent {
        s.delivered_sent = last;
        fx.push(frame(&ClientFrame::MarkDelivered {
            ticket_id: t.id,
            seq: last,
        }));
    }
    if s.open && s.visible && last > s.read_sent {
        s.read_sent = last;
        fx.push(frame(&ClientFrame::MarkRead {
            ticket_id: t.id,
            seq: last,
        }));
    }
}

/// The visitor sees the conversation: everything held counts as read.
fn mark_seen(s: &mut State, fx: &mut Vec<Effect>) {
    if !(s.open && s.visible) {
        return;
    }
    let last = s.last_seq();
    if let Some(t) = &mut s.ticket
        && last > t.read_seq
    {
        t.read_seq = last;
        persist_ticket(s, fx);
    }
}

fn on_frame(s: &mut State, fx: &mut Vec<Effect>, f: wire::Frame) {
    match f.kind.as_str() {
        "hello" => {
            s.conn = Conn::Online;
            s.authed = true;
            s.attempt = 0;
            s.last_auth_error = None;
            if let Some(n) = f.max_body_chars {
                // Clamped: the counter multiplies it (no overflow on wasm32), and
                // no real limit is anywhere near a million characters.
                s.max_body = usize::try_from(n.min(1_000_000))
                    .unwrap_or(DEFAULT_MAX_BODY)
                    .max(1);
            }
            subscribe(s, fx);
            flush(s, fx);
        }
        "reauth" => {
            // Visitor tokens are not refreshed: the same token re-proves the
            // session until it expires.
            if let Some(sess) = &s.session {
                fx.push(frame(&ClientFrame::Auth {
                    token: sess.token.clone(),
                }));
            }
        }
        "ack" => {
            if let Some(req) = f.req {
                on_ack(s, fx, req, f.seq, f.ticket_id);
            }
        }
        "error" => {
            let code = f.error.unwrap_or_else(|| "internal".to_owned());
            match f.req {
                Some(req) => on_request_error(s, fx, req, code),
                None => {
                    if !s.authed {
                        s.last_auth_error = Some(code.clone());
                    }
                    fx.push(Effect::Emit(JsEvent::Error(code)));
                }
            }
        }
        "message" => {
            if let Some(m) = f.message {
                on_message(s, fx, m);
            }
        }
        "receipt" => {
            if let Some(r) = f.receipt {
                let mine = s.session.as_ref().map(|x| x.user_id) == Some(r.user_id);
                if !mine && s.ticket.map(|t| t.id) == Some(r.ticket_id) {
                    s.peer_delivered = s.peer_delivered.max(r.delivered_seq).max(r.read_seq);
                    s.peer_read = s.peer_read.max(r.read_seq);
                }
            }
        }
        "typing" => {
            let mine = s.session.as_ref().map(|x| x.user_id) == f.user_id;
            if !mine && f.ticket_id.is_some() && s.ticket.map(|t| t.id) == f.ticket_id {
                s.agent_typing = f.active.unwrap_or(false);
                fx.push(if s.agent_typing {
                    Effect::Schedule(Timer::Typing, TYPING_TIMEOUT_MS)
                } else {
                    Effect::Cancel(Timer::Typing)
                });
            }
        }
        "ticket_event" => {
            if let Some(t) = f.ticket {
                on_ticket(s, t);
            }
        }
        _ => {}
    }
}

fn on_ticket(s: &mut State, t: wire::Ticket) {
    if s.ticket.map(|c| c.id) == Some(t.id) {
        s.status = Status::of(&t.status);
    } else if let Some(h) = s.history.iter_mut().find(|h| h.id == t.id) {
        *h = t;
    } else if s.ticket.is_none() && s.creating.is_none() {
        // A ticket of ours we did not know (opened in another tab).
        s.history.insert(0, t);
    }
}

fn on_ack(
    s: &mut State,
    fx: &mut Vec<Effect>,
    req: u64,
    seq: Option<u64>,
    ticket_id: Option<Uuid>,
) {
    match s.take_req(req) {
        Some(Req::Subscribe(t))
            if s.sub == Sub::Replaying(req) && s.ticket.map(|c| c.id) == Some(t) =>
        {
            s.sub = Sub::Live;
            persist_ticket(s, fx);
            flush(s, fx);
        }
        Some(Req::Send(id)) => {
            if let Some(p) = s.outbox.iter_mut().find(|p| p.id == id) {
                p.req = None;
                p.seq = seq.or(Some(0));
                persist_outbox(s, fx);
            }
        }
        Some(Req::Create(id)) => {
            s.creating = None;
            let Some(tid) = ticket_id else { return };
            if let Some(p) = s.outbox.iter_mut().find(|p| p.id == id) {
                p.req = None;
                p.seq = seq.or(Some(0));
                p.ticket = Some(tid);
            }
            if s.ticket.is_none() {
                s.ticket = Some(TicketRef {
                    id: tid,
                    last_seq: 0,
                    read_seq: 0,
                });
                s.status = Status::New;
                // Messages written while the ticket was being opened go to it.
                for p in s.outbox.iter_mut().filter(|p| p.ticket.is_none()) {
                    p.ticket = Some(tid);
                }
                persist_ticket(s, fx);
                subscribe(s, fx);
            }
            persist_outbox(s, fx);
            flush(s, fx);
        }
        Some(Req::Subscribe(_)) | None => {}
    }
}

fn on_request_error(s: &mut State, fx: &mut Vec<Effect>, req: u64, code: String) {
    let transient = matches!(code.as_str(), "rate_limited" | "unavailable" | "internal");
    match s.take_req(req) {
        Some(Req::Subscribe(t)) => {
            if s.ticket.map(|c| c.id) == Some(t) && s.sub == Sub::Replaying(req) {
                s.sub = Sub::None;
                if matches!(code.as_str(), "not_found" | "forbidden") {
                    // Not (or no longer) ours: forget it.
                    leave_ticket(s, fx);
                    persist_ticket(s, fx);
                } else {
                    fx.push(Effect::Schedule(Timer::Retry, RETRY_MS));
                }
            }
            fx.push(Effect::Emit(JsEvent::Error(code)));
        }
        Some(Req::Send(id)) | Some(Req::Create(id)) => {
            if s.creating.as_deref() == Some(id.as_str()) {
                s.creating = None;
            }
            if transient {
                if let Some(p) = s.outbox.iter_mut().find(|p| p.id == id) {
                    p.req = None;
                }
                fx.push(Effect::Schedule(Timer::Retry, RETRY_MS));
            } else {
                if code == "ticket_closed" {
                    s.status = Status::Closed;
                }
                if let Some(i) = s.outbox.iter().position(|p| p.id == id) {
                    let p = s.outbox.remove(i);
                    fx.push(Effect::RestoreDraft(p.body));
                }
                persist_outbox(s, fx);
                // Messages written after a refused first message have no
                // ticket to go to: the next one opens it.
                flush(s, fx);
            }
            fx.push(Effect::Emit(JsEvent::Error(code)));
        }
        None => {}
    }
}

fn on_message(s: &mut State, fx: &mut Vec<Effect>, m: wire::Message) {
    let Some(t) = s.ticket else { return };
    if m.ticket_id != t.id {
        // A notification about another of our tickets: it is an earlier
        // conversation now, refreshed when the list is fetched.
        return;
    }
    let Some(author) = Author::of(&m.kind) else {
        return;
    };
    let last = s.last_seq();
    if m.seq <= last {
        return; // duplicate (replay overlap, resend)
    }
    match s.sub {
        Sub::Replaying(_) => {}
        Sub::Live if m.seq == last + 1 => {}
        Sub::Live => {
            // Skipped ahead: fetch the gap (and this one) by replay, in order.
            subscribe(s, fx);
            return;
        }
        Sub::None => return,
    }
    if let Some(id) = &m.client_msg_id
        && let Some(i) = s.outbox.iter().position(|p| &p.id == id)
    {
        let p = s.outbox.remove(i);
        if p.seq.is_none() {
            persist_outbox(s, fx);
        }
    }
    if author != Author::Own {
        s.agent_typing = false;
        if m.seq > t.read_seq && !(s.open && s.visible) {
            fx.push(Effect::Emit(JsEvent::Message {
                ticket_id: t.id,
                seq: m.seq,
                kind: if author == Author::Agent {
                    "agent"
                } else {
                    "system"
                },
                body: m.body.clone(),
            }));
        }
    }
    s.messages.push(Msg {
        seq: m.seq,
        author,
        body: m.body,
        client_msg_id: m.client_msg_id,
        created_at: m.created_at,
    });
    if s.status == Status::Resolved && author == Author::Own {
        // Our message reopened it.
        s.status = Status::InProgress;
    }
    mark_seen(s, fx);
}

/// Forgets everything that belonged to the connection: its requests
/// (their outbox entries are resent on the next one), its subscription and
/// the receipts sent on it.
fn reset_connection(s: &mut State) {
    s.socket = false;
    s.authed = false;
    s.sub = Sub::None;
    s.reqs.clear();
    s.creating = None;
    s.agent_typing = false;
    s.delivered_sent = 0;
    s.read_sent = 0;
    for p in &mut s.outbox {
        p.req = None;
    }
}

fn on_closed(s: &mut State, fx: &mut Vec<Effect>, code: u16) {
    let was_authed = s.authed;
    reset_connection(s);
    if s.session.is_none() {
        s.conn = Conn::Idle;
        return;
    }
    let dead = match code {
        4011 | 4003 => true,
        4002 => matches!(
            s.last_auth_error.as_deref(),
            Some(
                "token_invalid"
                    | "token_expired"
                    | "session_revoked"
                    | "identity_required"
                    | "account_disabled"
                    | "unauthenticated"
            )
        ),
        _ => false,
    };
    if dead {
        // The session is gone for good: start over as a new visitor (the
        // old ticket belonged to the old one).
        let code = s
            .last_auth_error
            .clone()
            .unwrap_or_else(|| "session_revoked".to_owned());
        let outbox: Vec<Pending> = std::mem::take(&mut s.outbox);
        forget_everything(s, fx);
        fx.push(Effect::Emit(JsEvent::Error(code)));
        s.conn = Conn::Idle;
        // Unsent text is kept and opens a new ticket under the new session.
        s.outbox = outbox
            .into_iter()
            .map(|p| Pending {
                ticket: None,
                seq: None,
                req: None,
                ..p
            })
            .collect();
        persist_outbox(s, fx);
        ensure_session(s, fx);
        return;
    }
    if !was_authed && code == 4002 {
        s.last_auth_error = None;
    }
    if !s.network {
        s.conn = Conn::Offline;
        return;
    }
    s.conn = Conn::Connecting;
    let r = (s.random() >> 11) as f64 / (1u64 << 53) as f64;
    let delay = backoff::delay_ms(s.attempt, r);
    s.attempt = s.attempt.saturating_add(1);
    fx.push(Effect::Schedule(Timer::Reconnect, delay));
}

fn on_fetched(s: &mut State, fx: &mut Vec<Effect>, kind: FetchKind, reply: Reply, expires_ms: u64) {
    match (kind, reply) {
        (FetchKind::Session, Reply::Session(r)) => {
            s.session_pending = false;
            s.session = Some(Session {
                token: r.visitor_token,
                expires_at: r.expires_at,
                expires_ms,
                user_id: r.user_id,
                host_user: s.pending_host_user.take(),
            });
            fx.push(Effect::Persist(
                Key::Session,
                s.session.as_ref().map(Session::to_json),
            ));
            if s.identify_pending {
                s.identify_pending = false;
                fx.push(Effect::Identified(Ok(())));
            }
            connect_now(s, fx);
            fetch_tickets(s, fx);
        }
        (FetchKind::Session, other) => {
            s.session_pending = false;
            s.pending_host_user = None;
            let (code, retry) = match other {
                Reply::Network => ("network".to_owned(), true),
                Reply::Problem(c) => {
                    let retry = matches!(c.as_str(), "rate_limited" | "unavailable" | "internal");
                    (c, retry)
                }
                _ => ("internal".to_owned(), true),
            };
            s.conn = if s.network { Conn::Idle } else { Conn::Offline };
            if s.identify_pending {
                s.identify_pending = false;
                fx.push(Effect::Identified(Err(code.clone())));
            } else if retry {
                // Try again later for the visitor's pending text.
                fx.push(Effect::Schedule(Timer::Retry, RETRY_MS));
            }
            fx.push(Effect::Emit(JsEvent::Error(code)));
        }
        (FetchKind::Tickets, Reply::Tickets(items)) => {
            let current = s.ticket.map(|t| t.id);
            if let Some(c) = current
                && let Some(t) = items.iter().find(|t| t.id == c)
            {
                s.status = Status::of(&t.status);
            }
            s.history = items
                .into_iter()
                .filter(|t| Some(t.id) != current)
                .collect();
            if current.is_none() && s.outbox.is_empty() && s.creating.is_none() {
                // A returning customer (e.g. just identified) continues their
                // latest open conversation rather than starting blank.
                if let Some(i) = s
                    .history
                    .iter()
                    .position(|t| Status::of(&t.status).is_open())
                {
                    let t = s.history.remove(i);
                    s.ticket = Some(TicketRef {
                        id: t.id,
                        last_seq: 0,
                        read_seq: t.last_seq,
                    });
                    s.status = Status::of(&t.status);
                    persist_ticket(s, fx);
                    subscribe(s, fx);
                }
            }
        }
        (FetchKind::Status, Reply::Status(st)) => s.presence = Some(st),
        (FetchKind::Status, _) => s.presence = None,
        (FetchKind::Tickets, _) => {}
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
