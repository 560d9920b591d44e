//! Session and connection lifecycle: boot, opening the panel, anonymous
//! and identified sessions, forgetting a visitor, (re)connecting, and the
//! answers to HTTP requests.

use crate::backoff;
use crate::out::{HostIdentity, VisitorSessionRequest};
use crate::wire::{FetchKind, Reply};

use super::conversation::{mark_seen, persist_outbox, persist_ticket, subscribe};
use super::{
    Conn, Effect, Fetch, JsEvent, Key, Pending, RETRY_MS, STATUS_REFRESH_MS, Session, State,
    Status, Sub, TicketRef, Timer,
};

#[allow(clippy::too_many_arguments)]
pub(super) fn boot(
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

pub(super) fn set_open(s: &mut State, fx: &mut Vec<Effect>, open: bool) {
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
pub(super) fn ensure_session(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn start_session(
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

pub(super) fn identify(s: &mut State, fx: &mut Vec<Effect>, identity: HostIdentity) {
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

pub(super) fn forget_everything(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn connect_now(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn fetch_tickets(s: &State, fx: &mut Vec<Effect>) {
    if s.session.is_some() {
        fx.push(Effect::Fetch(Fetch::Tickets {
            generation: s.session_gen,
        }));
    }
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

pub(super) fn on_closed(s: &mut State, fx: &mut Vec<Effect>, code: u16) {
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

pub(super) fn on_fetched(
    s: &mut State,
    fx: &mut Vec<Effect>,
    kind: FetchKind,
    reply: Reply,
    expires_ms: u64,
) {
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
