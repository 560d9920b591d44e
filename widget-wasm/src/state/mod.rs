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
//!
//! # Layout
//! - `model` — the data the widget holds and persists ([`Session`],
//!   [`TicketRef`], [`Msg`], [`Pending`], [`Status`]…).
//! - `io` — what goes in ([`Input`]) and what comes out ([`Effect`]).
//! - `session` — boot, the panel, sessions, identity, the connection.
//! - `conversation` — the current ticket: outbox, subscription, frames,
//!   receipts.

mod conversation;
mod io;
mod model;
mod session;

use uuid::Uuid;

use crate::out::{ClientFrame, VisitorSessionRequest};
use crate::wire;

pub use crate::wire::FetchKind;
pub use io::{Effect, Fetch, Input, JsEvent, Timer};
pub use model::{Author, Conn, Key, Msg, Pending, Session, Status, Tick, TicketRef};

use conversation::{
    flush, leave_ticket, mark_seen, on_frame, persist_ticket, receipts, submit, subscribe,
};
use session::{
    boot, connect_now, ensure_session, fetch_tickets, forget_everything, identify, on_closed,
    on_fetched, set_open, start_session,
};

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

#[cfg(test)]
mod tests;
