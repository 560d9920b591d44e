//! The current ticket: leaving it, persisting it and the outbox, sending
//! (`create_ticket`/`send`), subscribing, receipts, and the server frames
//! that change it.

use uuid::Uuid;

use crate::out::{ClientFrame, Obj};
use crate::text;
use crate::wire;

use super::session::ensure_session;
use super::{
    Author, Conn, DEFAULT_MAX_BODY, Effect, JsEvent, Key, Msg, Pending, RETRY_MS, Req, State,
    Status, Sub, TYPING_TIMEOUT_MS, TicketRef, Timer, frame,
};

pub(super) fn leave_ticket(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn persist_ticket(s: &State, fx: &mut Vec<Effect>) {
    let v = s.ticket.map(|t| TicketRef {
        last_seq: s.last_seq().max(t.last_seq),
        ..t
    });
    fx.push(Effect::Persist(Key::Ticket, v.map(|t| t.to_json())));
}

pub(super) fn persist_outbox(s: &State, fx: &mut Vec<Effect>) {
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

pub(super) fn submit(s: &mut State, fx: &mut Vec<Effect>, raw: &str) {
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
pub(super) fn flush(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn subscribe(s: &mut State, fx: &mut Vec<Effect>) {
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
pub(super) fn receipts(s: &mut State, fx: &mut Vec<Effect>) {
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
pub(super) fn mark_seen(s: &mut State, fx: &mut Vec<Effect>) {
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

pub(super) fn on_frame(s: &mut State, fx: &mut Vec<Effect>, f: wire::Frame) {
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
