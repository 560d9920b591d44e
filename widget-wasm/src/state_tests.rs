//! Reducer scenarios: first message, resume, duplicates, gaps, lost acks,
//! reload, receipts, typing, status, unread, identity, failures.

use super::*;
use serde_json::{Value, json};

const TICKET: &str = "44444444-4444-4444-8444-444444444444";
const OTHER_TICKET: &str = "99999999-9999-4999-8999-999999999999";
const ME: &str = "11111111-1111-4111-8111-111111111111";
const AGENT: &str = "22222222-2222-4222-8222-222222222222";

fn tid() -> Uuid {
    Uuid::parse_str(TICKET).expect("uuid")
}

/// A reducer with a fake browser around it: it remembers what was
/// persisted, the frames sent and the effects of the last step.
struct H {
    s: State,
    fx: Vec<Effect>,
    storage: [Option<String>; 3],
}

impl H {
    fn new() -> H {
        H {
            s: State::new(42),
            fx: Vec::new(),
            storage: [None, None, None],
        }
    }

    fn step(&mut self, input: Input) -> &Vec<Effect> {
        self.fx = update(&mut self.s, input);
        for e in &self.fx {
            if let Effect::Persist(k, v) = e {
                self.storage[*k as usize] = v.clone();
            }
        }
        &self.fx
    }

    fn boot(&mut self) {
        let [session, ticket, outbox] = self.storage.clone();
        let read = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Value>(&s).ok());
        self.step(Input::Boot {
            session: read(session).and_then(|v| Session::from_json(&v)),
            ticket: read(ticket).and_then(|v| TicketRef::from_json(&v)),
            outbox: read(outbox)
                .map(|v| Pending::list_from_json(&v))
                .unwrap_or_default(),
            prechat: false,
            online: true,
            visible: true,
        });
    }

    fn frame(&mut self, v: Value) -> &Vec<Effect> {
        let f = wire::Frame::from_json(&v).expect("a frame");
        self.step(Input::Frame(Box::new(f)))
    }

    /// An HTTP reply, read the way the web layer reads it.
    fn fetched(&mut self, kind: FetchKind, status: u16, body: &str) -> &Vec<Effect> {
        let v = serde_json::from_str::<Value>(body).ok();
        let generation = self.s.session_gen;
        self.step(Input::Fetched {
            kind,
            generation,
            reply: wire::reply(kind, status, v.as_ref()),
            expires_ms: 0,
        })
    }

    /// Frames sent by the last step, parsed.
    fn sent(&self) -> Vec<Value> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                Effect::Send(t) => Some(serde_json::from_str(t).expect("sent frame is JSON")),
                _ => None,
            })
            .collect()
    }

    fn sent_types(&self) -> Vec<String> {
        self.sent()
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn has(&self, e: &Effect) -> bool {
        self.fx.contains(e)
    }

    fn session_response(&mut self) {
        let body = json!({
            "visitor_token": "ncv_tok",
            "expires_at": "2030-01-01T00:00:00Z",
            "user": {"id": ME, "role": "customer", "display_name": "Visitor"}
        });
        let generation = self.s.session_gen;
        self.step(Input::Fetched {
            kind: FetchKind::Session,
            generation,
            reply: wire::reply(FetchKind::Session, 201, Some(&body)),
            expires_ms: 10_000_000_000_000,
        });
    }

    /// Socket opens and the server says hello.
    fn connect(&mut self) {
        self.step(Input::Opened);
        assert_eq!(
            self.sent(),
            vec![json!({"type": "auth", "token": "ncv_tok"})]
        );
        self.hello();
    }

    fn hello(&mut self) {
        self.frame(json!({
            "type": "hello", "protocol": 1,
            "session_id": "77777777-7777-4777-8777-777777777777",
            "server_time": "2026-01-01T00:20:00Z",
            "limits": {"max_frame_bytes": 65536, "max_body_chars": 100, "messages_per_minute": 60}
        }));
    }

    /// An anonymous visitor with an open panel and a live connection.
    fn online() -> H {
        let mut h = H::new();
        h.boot();
        h.step(Input::Open);
        assert!(h.has(&Effect::Fetch(Fetch::Status)));
        assert!(
            h.fx.iter()
                .any(|e| matches!(e, Effect::Fetch(Fetch::Session { .. })))
        );
        h.session_response();
        assert!(h.has(&Effect::Connect));
        h.connect();
        assert_eq!(h.s.conn, Conn::Online);
        h
    }

    /// Online with a ticket whose replay is done (seq 1 = our first message).
    fn with_ticket() -> H {
        let mut h = H::online();
        h.step(Input::Submit("Hello".into()));
        let req = h.sent()[0]["req"].as_u64().expect("req");
        let id = h.sent()[0]["client_msg_id"]
            .as_str()
            .expect("id")
            .to_owned();
        h.frame(
            json!({"type": "ack", "req": req, "seq": 1, "ticket_id": TICKET,
            "message_id": "55555555-5555-4555-8555-555555555555"}),
        );
        let sub = h.sent()[0]["req"].as_u64().expect("subscribe req");
        h.frame(msg(1, "customer", "Hello", Some(&id)));
        h.frame(json!({"type": "ack", "req": sub}));
        h.fx.clear();
        h
    }

    fn seqs(&self) -> Vec<u64> {
        self.s.messages.iter().map(|m| m.seq).collect()
    }

    /// Subscribes sent by the last step: `(req, last_seq)`.
    fn subscribes(&self) -> Vec<(u64, u64)> {
        self.sent()
            .iter()
            .filter(|f| f["type"] == "subscribe")
            .map(|f| {
                (
                    f["req"].as_u64().unwrap_or(0),
                    f["last_seq"].as_u64().unwrap_or(99),
                )
            })
            .collect()
    }
}

fn msg(seq: u64, kind: &str, body: &str, cmid: Option<&str>) -> Value {
    msg_in(TICKET, seq, kind, body, cmid)
}

fn msg_in(ticket: &str, seq: u64, kind: &str, body: &str, cmid: Option<&str>) -> Value {
    let mut m = json!({
        "id": format!("55555555-5555-4555-8555-{seq:012}"),
        "ticket_id": ticket, "seq": seq, "kind": kind, "body": body,
        "created_at": "2026-01-01T00:44:00Z"
    });
    if let Some(c) = cmid {
        m["client_msg_id"] = json!(c);
    }
    json!({"type": "message", "message": m})
}

#[test]
fn first_message_opens_a_ticket_then_subscribes() {
    let mut h = H::online();
    assert!(h.sent().is_empty(), "no ticket: nothing to subscribe");
    h.step(Input::Submit(
        "  Cannot log in\r\nThe page says no.  ".into(),
    ));
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    let f = &sent[0];
    assert_eq!(f["type"], "create_ticket");
    assert_eq!(f["subject"], "Cannot log in");
    assert_eq!(f["body"], "Cannot log in\nThe page says no.");
    let id = f["client_msg_id"].as_str().expect("id").to_owned();
    assert!(id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()));
    // Optimistic bubble, persisted.
    assert_eq!(h.s.pending_shown().count(), 1);
    assert_eq!(h.s.tick(None), Tick::Pending);
    assert!(
        h.storage[Key::Outbox as usize]
            .as_deref()
            .is_some_and(|o| o.contains(&id))
    );

    let req = f["req"].as_u64().expect("req");
    h.frame(json!({"type": "ack", "req": req, "seq": 1, "ticket_id": TICKET}));
    assert_eq!(h.s.ticket.map(|t| t.id), Some(tid()));
    assert_eq!(h.subscribes().len(), 1);
    assert_eq!(h.subscribes()[0].1, 0);
    assert!(
        h.storage[Key::Ticket as usize]
            .as_deref()
            .is_some_and(|t| t.contains(TICKET))
    );
    assert_eq!(
        h.storage[Key::Outbox as usize],
        None,
        "acked: nothing to resend"
    );
    // Acked: a "sent" bubble with its seq until the echo replaces it.
    let p: Vec<_> = h.s.pending_shown().collect();
    assert_eq!(p.len(), 1);
    assert_eq!(h.s.tick(p[0].seq), Tick::Sent);

    h.frame(msg(
        1,
        "customer",
        "Cannot log in\nThe page says no.",
        Some(&id),
    ));
    assert_eq!(h.seqs(), vec![1]);
    assert_eq!(
        h.s.pending_shown().count(),
        0,
        "the echo replaced the bubble"
    );
    assert_eq!(h.s.messages[0].author, Author::Own);
}

#[test]
fn later_messages_are_sends_once_live() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("second".into()));
    let f = &h.sent()[0];
    assert_eq!(f["type"], "send");
    assert_eq!(f["ticket_id"], TICKET);
    assert_eq!(f["internal"], false);
    assert_eq!(f["body"], "second");
}

#[test]
fn messages_written_while_the_ticket_opens_follow_it() {
    let mut h = H::online();
    h.step(Input::Submit("one".into()));
    let create = h.sent()[0].clone();
    h.step(Input::Submit("two".into()));
    assert!(h.sent().is_empty(), "waits for the ticket");
    assert_eq!(h.s.pending_shown().count(), 2);
    h.frame(json!({"type": "ack", "req": create["req"], "seq": 1, "ticket_id": TICKET}));
    let (sub, _) = h.subscribes()[0];
    assert!(
        !h.sent_types().contains(&"send".to_owned()),
        "not before the replay"
    );
    h.frame(json!({"type": "ack", "req": sub}));
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["type"], "send");
    assert_eq!(sent[0]["body"], "two");
}

#[test]
fn duplicates_are_shown_once() {
    let mut h = H::with_ticket();
    h.frame(msg(2, "agent", "hi", None));
    h.frame(msg(2, "agent", "hi", None));
    h.frame(msg(1, "customer", "Hello", None));
    assert_eq!(h.seqs(), vec![1, 2]);
    assert!(h.sent().iter().all(|f| f["type"] != "subscribe"));
}

#[test]
fn a_live_gap_resubscribes_from_the_last_seq_held() {
    let mut h = H::with_ticket();
    h.frame(msg(2, "agent", "two", None));
    h.frame(msg(4, "agent", "four", None));
    assert_eq!(h.seqs(), vec![1, 2], "not shown out of order");
    let subs = h.subscribes();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1, 2);
    // Replay: 3 and 4, then 4 again live (dropped), then the ack.
    h.frame(msg(3, "agent", "three", None));
    h.frame(msg(4, "agent", "four", None));
    h.frame(msg(4, "agent", "four", None));
    h.frame(json!({"type": "ack", "req": subs[0].0}));
    assert_eq!(h.seqs(), vec![1, 2, 3, 4]);
    h.frame(msg(5, "agent", "five", None));
    assert_eq!(h.seqs(), vec![1, 2, 3, 4, 5]);
}

#[test]
fn replays_skip_internal_notes_without_looping() {
    let mut h = H::with_ticket();
    // Seq 2 is an internal note the customer never gets.
    h.frame(msg(3, "agent", "three", None));
    let (req, last) = h.subscribes()[0];
    assert_eq!(last, 1);
    h.frame(msg(3, "agent", "three", None));
    assert_eq!(h.seqs(), vec![1, 3], "a replay may skip seqs");
    h.frame(json!({"type": "ack", "req": req}));
    h.frame(msg(4, "agent", "four", None));
    assert!(h.subscribes().is_empty());
    assert_eq!(h.seqs(), vec![1, 3, 4]);
    // Internal notes themselves are never shown.
    h.frame(msg(5, "internal_note", "secret", None));
    assert_eq!(h.seqs(), vec![1, 3, 4]);
}

#[test]
fn resume_after_a_disconnect_with_messages_in_the_gap() {
    let mut h = H::with_ticket();
    h.frame(msg(2, "agent", "two", None));
    h.step(Input::Closed(1006));
    assert_eq!(h.s.conn, Conn::Connecting);
    let delay = h.fx.iter().find_map(|e| match e {
        Effect::Schedule(Timer::Reconnect, ms) => Some(*ms),
        _ => None,
    });
    assert!(delay.is_some_and(|d| (250..500).contains(&d)), "{delay:?}");
    h.step(Input::Timer(Timer::Reconnect));
    assert!(h.has(&Effect::Connect));
    h.connect();
    assert_eq!(h.subscribes()[0].1, 2, "resume from the last seq held");
    let req = h.subscribes()[0].0;
    h.frame(msg(3, "agent", "while away", None));
    h.frame(msg(4, "system", "assigned", None));
    h.frame(json!({"type": "ack", "req": req}));
    assert_eq!(h.seqs(), vec![1, 2, 3, 4]);
    assert_eq!(h.s.messages[3].author, Author::System);
    // Receipts move forward after the replay.
    assert!(
        h.sent()
            .contains(&json!({"type": "mark_delivered", "ticket_id": TICKET, "seq": 4}))
    );
    assert!(
        h.sent()
            .contains(&json!({"type": "mark_read", "ticket_id": TICKET, "seq": 4}))
    );
}

#[test]
fn a_lost_ack_is_resent_with_the_same_id_and_shown_once() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("are you there?".into()));
    let first = h.sent()[0].clone();
    h.step(Input::Closed(1006));
    h.step(Input::Timer(Timer::Reconnect));
    h.connect();
    let (req, _) = h.subscribes()[0];
    assert!(!h.sent_types().contains(&"send".to_owned()));
    h.frame(json!({"type": "ack", "req": req}));
    let resend = h
        .sent()
        .into_iter()
        .find(|f| f["type"] == "send")
        .expect("resent");
    assert_eq!(resend["client_msg_id"], first["client_msg_id"]);
    assert_eq!(resend["body"], first["body"]);
    // The server answers with the original seq; the echo comes once.
    h.frame(json!({"type": "ack", "req": resend["req"], "seq": 2, "ticket_id": TICKET}));
    h.frame(msg(
        2,
        "customer",
        "are you there?",
        first["client_msg_id"].as_str(),
    ));
    h.frame(msg(
        2,
        "customer",
        "are you there?",
        first["client_msg_id"].as_str(),
    ));
    assert_eq!(h.seqs(), vec![1, 2]);
    assert_eq!(h.s.pending_shown().count(), 0);
    assert_eq!(h.storage[Key::Outbox as usize], None);
}

#[test]
fn an_echo_in_the_replay_means_no_resend() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("stored before the drop".into()));
    let id = h.sent()[0]["client_msg_id"]
        .as_str()
        .expect("id")
        .to_owned();
    h.step(Input::Closed(1006));
    h.step(Input::Timer(Timer::Reconnect));
    h.connect();
    let (req, _) = h.subscribes()[0];
    h.frame(msg(2, "customer", "stored before the drop", Some(&id)));
    h.frame(json!({"type": "ack", "req": req}));
    assert!(!h.sent_types().contains(&"send".to_owned()));
    assert_eq!(h.seqs(), vec![1, 2]);
    assert_eq!(h.s.pending_shown().count(), 0);
}

#[test]
fn an_ack_after_the_echo_changes_nothing() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("x".into()));
    let f = h.sent()[0].clone();
    h.frame(msg(2, "customer", "x", f["client_msg_id"].as_str()));
    h.frame(json!({"type": "ack", "req": f["req"], "seq": 2, "ticket_id": TICKET}));
    assert_eq!(h.seqs(), vec![1, 2]);
    assert_eq!(h.s.pending_shown().count(), 0);
}

#[test]
fn a_reload_restores_session_ticket_and_outbox() {
    let mut h = H::with_ticket();
    h.frame(msg(2, "agent", "two", None));
    h.step(Input::Close);
    h.frame(msg(3, "agent", "unseen", None));
    h.step(Input::Network(false));
    h.step(Input::Submit("written offline".into()));
    let outbox = h.storage[Key::Outbox as usize]
        .clone()
        .expect("outbox saved");
    assert!(outbox.contains("written offline"));

    // Reload: a fresh state from storage alone.
    let mut r = H::new();
    r.storage = h.storage.clone();
    r.boot();
    assert!(r.has(&Effect::Connect));
    assert!(
        r.fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Tickets { .. })))
    );
    assert_eq!(r.s.ticket.map(|t| t.id), Some(tid()));
    assert_eq!(r.s.pending_shown().count(), 1);
    r.connect();
    let (req, last) = r.subscribes()[0];
    assert_eq!(last, 0, "nothing held after a reload: replay everything");
    for (seq, kind, body) in [
        (1, "customer", "Hello"),
        (2, "agent", "two"),
        (3, "agent", "unseen"),
    ] {
        r.frame(msg(seq, kind, body, None));
    }
    assert_eq!(r.s.unread(), 1, "only what arrived while closed is unread");
    r.frame(json!({"type": "ack", "req": req}));
    let send = r
        .sent()
        .into_iter()
        .find(|f| f["type"] == "send")
        .expect("outbox resent");
    assert_eq!(send["body"], "written offline");
    assert_eq!(r.seqs(), vec![1, 2, 3]);
}

#[test]
fn an_expired_session_is_dropped_at_boot() {
    let mut h = H::new();
    h.s.now_ms = 2.0e12;
    h.storage[0] = Some(
        json!({"token": "ncv_old", "expires_ms": 1_000_000_000_000u64, "user_id": ME}).to_string(),
    );
    h.storage[1] = Some(json!({"id": TICKET, "last_seq": 3}).to_string());
    h.boot();
    assert!(h.s.session.is_none());
    assert!(h.s.ticket.is_none());
    assert_eq!(h.storage, [None, None, None]);
    assert!(!h.has(&Effect::Connect));
}

#[test]
fn unreadable_storage_is_ignored() {
    let mut h = H::new();
    h.storage = [Some("{".into()), Some("[1]".into()), Some("\"x\"".into())];
    h.boot();
    assert!(h.s.session.is_none() && h.s.ticket.is_none() && h.s.outbox.is_empty());
}

#[test]
fn ticks_follow_support_receipts_only() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("two".into()));
    let f = h.sent()[0].clone();
    h.frame(json!({"type": "ack", "req": f["req"], "seq": 2, "ticket_id": TICKET}));
    assert_eq!(h.s.tick(Some(2)), Tick::Sent);
    let receipt = |user: &str, d: u64, r: u64| {
        json!({"type": "receipt", "receipt": {"ticket_id": TICKET, "user_id": user,
            "delivered_seq": d, "read_seq": r}})
    };
    h.frame(receipt(ME, 9, 9));
    assert_eq!(
        h.s.tick(Some(2)),
        Tick::Sent,
        "our own receipt is not support's"
    );
    h.frame(receipt(AGENT, 2, 1));
    assert_eq!(h.s.tick(Some(2)), Tick::Delivered);
    assert_eq!(h.s.tick(Some(1)), Tick::Read);
    h.frame(receipt(AGENT, 2, 2));
    assert_eq!(h.s.tick(Some(2)), Tick::Read);
    h.frame(receipt(AGENT, 1, 1));
    assert_eq!(h.s.tick(Some(2)), Tick::Read, "marks never move back");
}

#[test]
fn agent_typing_times_out_and_stops_with_a_message() {
    let mut h = H::with_ticket();
    h.frame(json!({"type": "typing", "ticket_id": TICKET, "user_id": AGENT, "active": true}));
    assert!(h.s.agent_typing);
    assert!(h.has(&Effect::Schedule(Timer::Typing, TYPING_TIMEOUT_MS)));
    h.step(Input::Timer(Timer::Typing));
    assert!(!h.s.agent_typing);
    h.frame(json!({"type": "typing", "ticket_id": TICKET, "user_id": AGENT, "active": true}));
    h.frame(msg(2, "agent", "done typing", None));
    assert!(!h.s.agent_typing);
    h.frame(json!({"type": "typing", "ticket_id": OTHER_TICKET, "user_id": AGENT, "active": true}));
    assert!(!h.s.agent_typing, "another ticket");
}

#[test]
fn own_typing_is_throttled() {
    let mut h = H::with_ticket();
    h.s.now_ms = 10_000.0;
    h.step(Input::Typed);
    assert_eq!(h.sent_types(), vec!["typing_start"]);
    h.s.now_ms = 11_000.0;
    h.step(Input::Typed);
    assert!(h.sent().is_empty());
    h.s.now_ms = 13_500.0;
    h.step(Input::Typed);
    assert_eq!(h.sent_types(), vec!["typing_start"]);
}

#[test]
fn resolved_then_a_new_conversation() {
    let mut h = H::with_ticket();
    h.frame(
        json!({"type": "ticket_event", "change": "status", "ticket": {
        "id": TICKET, "number": 1, "subject": "Hello", "customer_id": ME,
        "priority": "normal", "status": "resolved", "created_at": "2026-01-01T00:10:00Z",
        "updated_at": "2026-01-01T00:45:00Z", "last_seq": 1}}),
    );
    assert_eq!(h.s.status, Status::Resolved);
    assert!(h.s.can_write(), "a resolved ticket reopens on reply");
    h.step(Input::NewConversation);
    assert!(h.s.ticket.is_none());
    assert!(h.s.messages.is_empty());
    assert_eq!(h.storage[Key::Ticket as usize], None);
    assert_eq!(h.sent_types(), vec!["unsubscribe"]);
    h.step(Input::Submit("new problem".into()));
    assert_eq!(h.sent_types(), vec!["create_ticket"]);
}

#[test]
fn closed_tickets_are_read_only() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("late".into()));
    let f = h.sent()[0].clone();
    h.frame(json!({"type": "error", "req": f["req"],
        "error": {"code": "ticket_closed", "message": "The ticket is closed."}}));
    assert_eq!(h.s.status, Status::Closed);
    assert!(h.has(&Effect::RestoreDraft("late".into())));
    assert!(h.has(&Effect::Emit(JsEvent::Error("ticket_closed".into()))));
    assert_eq!(h.s.pending_shown().count(), 0);
    assert!(!h.s.can_write());
    h.step(Input::Submit("ignored".into()));
    assert!(h.sent().is_empty());
}

#[test]
fn transient_refusals_are_retried() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("slow down".into()));
    let f = h.sent()[0].clone();
    h.frame(json!({"type": "error", "req": f["req"],
        "error": {"code": "rate_limited", "message": "Too many."}}));
    assert!(h.has(&Effect::Schedule(Timer::Retry, RETRY_MS)));
    assert_eq!(h.s.pending_shown().count(), 1);
    h.step(Input::Timer(Timer::Retry));
    let again = h.sent()[0].clone();
    assert_eq!(again["client_msg_id"], f["client_msg_id"]);
}

#[test]
fn unread_counts_support_messages_while_closed_or_hidden() {
    let mut h = H::with_ticket();
    h.step(Input::Close);
    assert!(h.has(&Effect::Emit(JsEvent::Close)));
    assert!(h.has(&Effect::Focus(false)));
    h.frame(msg(2, "agent", "ping", None));
    assert!(h.has(&Effect::Emit(JsEvent::Unread(1))));
    assert!(h.has(&Effect::Emit(JsEvent::Message {
        ticket_id: tid(),
        seq: 2,
        kind: "agent",
        body: "ping".into()
    })));
    assert!(
        h.sent()
            .contains(&json!({"type": "mark_delivered", "ticket_id": TICKET, "seq": 2}))
    );
    assert!(!h.sent_types().contains(&"mark_read".to_owned()));
    h.frame(msg(3, "customer", "from another tab", None));
    assert_eq!(h.s.unread(), 1, "own messages are never unread");
    h.step(Input::Open);
    assert!(h.has(&Effect::Emit(JsEvent::Unread(0))));
    assert!(h.has(&Effect::Focus(true)));
    assert!(
        h.sent()
            .contains(&json!({"type": "mark_read", "ticket_id": TICKET, "seq": 3}))
    );
    // Open but the tab is hidden: unread again until it is visible.
    h.step(Input::Visible(false));
    h.frame(msg(4, "agent", "hidden", None));
    assert_eq!(h.s.unread(), 1);
    h.step(Input::Visible(true));
    assert_eq!(h.s.unread(), 0);
    assert!(
        h.sent()
            .contains(&json!({"type": "mark_read", "ticket_id": TICKET, "seq": 4}))
    );
}

#[test]
fn bodies_stay_plain_strings() {
    let mut h = H::with_ticket();
    let evil = "<img src=x onerror=alert(1)>\"'&amp;<script>alert(1)</script>";
    h.frame(msg(2, "agent", evil, None));
    assert_eq!(h.s.messages[1].body, evil);
    h.step(Input::Submit(evil.into()));
    assert_eq!(h.sent()[0]["body"], evil);
}

#[test]
fn bodies_over_the_limit_or_empty_are_not_sent() {
    let mut h = H::with_ticket();
    assert_eq!(h.s.max_body, 100, "from hello");
    h.step(Input::Submit("x".repeat(101)));
    assert!(h.sent().is_empty());
    h.step(Input::Submit(" \n\t ".into()));
    assert!(h.sent().is_empty());
    h.step(Input::Submit("ü".repeat(100)));
    assert_eq!(h.sent_types(), vec!["send"]);
}

#[test]
fn backoff_grows_and_resets_after_hello() {
    let mut h = H::with_ticket();
    let mut delays = Vec::new();
    for _ in 0..8 {
        h.step(Input::Closed(1006));
        delays.extend(h.fx.iter().filter_map(|e| match e {
            Effect::Schedule(Timer::Reconnect, ms) => Some(*ms),
            _ => None,
        }));
        h.step(Input::Timer(Timer::Reconnect));
        assert!(h.has(&Effect::Connect));
    }
    assert_eq!(delays.len(), 8);
    assert!(
        delays[7] >= 15_000 && delays[7] <= backoff::CAP_MS,
        "{delays:?}"
    );
    assert!(delays[0] < 500);
    h.connect();
    h.step(Input::Closed(1001));
    let d = h.fx.iter().find_map(|e| match e {
        Effect::Schedule(Timer::Reconnect, ms) => Some(*ms),
        _ => None,
    });
    assert!(d.is_some_and(|d| d < 500), "{d:?}");
}

#[test]
fn offline_waits_for_the_network() {
    let mut h = H::with_ticket();
    h.step(Input::Network(false));
    assert_eq!(h.s.conn, Conn::Offline);
    h.step(Input::Closed(1006));
    assert_eq!(h.s.conn, Conn::Offline);
    assert!(
        !h.fx
            .iter()
            .any(|e| matches!(e, Effect::Schedule(Timer::Reconnect, _)))
    );
    h.step(Input::Network(true));
    assert!(h.has(&Effect::Connect));
    assert_eq!(h.s.conn, Conn::Connecting);
}

#[test]
fn a_visible_tab_reconnects_without_waiting() {
    let mut h = H::with_ticket();
    h.step(Input::Closed(1006));
    h.step(Input::Visible(false));
    assert!(!h.has(&Effect::Connect));
    h.step(Input::Visible(true));
    assert!(h.has(&Effect::Connect));
}

#[test]
fn a_rejected_token_starts_over_keeping_unsent_text() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("keep me".into()));
    h.step(Input::Closed(1006));
    h.step(Input::Timer(Timer::Reconnect));
    h.step(Input::Opened);
    h.frame(json!({"type": "error", "error": {"code": "token_invalid", "message": "no"}}));
    h.step(Input::Closed(4002));
    assert!(h.s.session.is_none());
    assert!(h.s.ticket.is_none());
    assert!(h.s.messages.is_empty());
    assert_eq!(h.storage[Key::Session as usize], None);
    assert!(h.has(&Effect::Emit(JsEvent::Error("token_invalid".into()))));
    assert!(
        h.fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Session { .. })))
    );
    assert_eq!(h.s.outbox.len(), 1);
    assert_eq!(
        h.s.outbox[0].ticket, None,
        "it opens a ticket for the new visitor"
    );
}

#[test]
fn a_transient_auth_failure_keeps_the_session() {
    let mut h = H::with_ticket();
    h.step(Input::Closed(1006));
    h.step(Input::Timer(Timer::Reconnect));
    h.step(Input::Opened);
    h.frame(json!({"type": "error", "error": {"code": "unavailable", "message": "db"}}));
    h.step(Input::Closed(4002));
    assert!(h.s.session.is_some());
    assert!(
        h.fx.iter()
            .any(|e| matches!(e, Effect::Schedule(Timer::Reconnect, _)))
    );
}

#[test]
fn reauth_resends_the_token() {
    let mut h = H::with_ticket();
    h.frame(json!({"type": "reauth", "expires_at": "2026-01-01T00:35:00Z"}));
    assert_eq!(h.sent(), vec![json!({"type": "auth", "token": "ncv_tok"})]);
}

#[test]
fn messages_of_other_tickets_are_not_shown() {
    let mut h = H::with_ticket();
    h.frame(msg_in(OTHER_TICKET, 2, "agent", "elsewhere", None));
    assert_eq!(h.seqs(), vec![1]);
    assert_eq!(h.s.unread(), 0);
}

#[test]
fn identify_binds_the_customer_and_loads_their_tickets() {
    let mut h = H::online();
    h.step(Input::Submit("anonymous question".into()));
    h.step(Input::Identify(HostIdentity::Hmac {
        user_id: "host-7".into(),
        email: Some("a@b.c".into()),
        name: None,
        signature: "ab12".into(),
    }));
    assert!(h.has(&Effect::Disconnect));
    assert!(h.s.session.is_none() && h.s.outbox.is_empty());
    let body =
        h.fx.iter()
            .find_map(|e| match e {
                Effect::Fetch(Fetch::Session { body, .. }) => Some(body.clone()),
                _ => None,
            })
            .expect("session request");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        v,
        json!({"identity": {"method": "hmac", "user_id": "host-7", "email": "a@b.c", "signature": "ab12"}})
    );
    h.session_response();
    assert!(h.has(&Effect::Identified(Ok(()))));
    assert!(
        h.fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Tickets { .. })))
    );
    assert_eq!(
        h.s.session.as_ref().and_then(|s| s.host_user.as_deref()),
        Some("host-7")
    );
    h.connect();
    let ticket = |id: &str, status: &str, last: u64| {
        json!({"id": id, "number": 1, "subject": "s", "customer_id": ME, "priority": "normal",
            "status": status, "created_at": "2026-01-01T00:10:00Z",
            "updated_at": "2026-01-01T00:10:00Z", "last_seq": last})
    };
    h.fetched(
        FetchKind::Tickets,
        200,
        &json!({"items": [ticket(OTHER_TICKET, "closed", 3), ticket(TICKET, "in_progress", 5)]})
            .to_string(),
    );
    // The latest open conversation continues; the closed one is history.
    assert_eq!(h.s.ticket.map(|t| (t.id, t.read_seq)), Some((tid(), 5)));
    assert_eq!(h.s.history.len(), 1);
    assert_eq!(h.subscribes(), vec![(h.subscribes()[0].0, 0)]);
    // Identifying as the same customer again is a no-op.
    h.step(Input::Identify(HostIdentity::Hmac {
        user_id: "host-7".into(),
        email: None,
        name: None,
        signature: "ab12".into(),
    }));
    assert!(h.has(&Effect::Identified(Ok(()))));
    assert!(h.s.ticket.is_some());
}

#[test]
fn a_refused_identity_shows_nobody_s_data() {
    let mut h = H::with_ticket();
    h.step(Input::Identify(HostIdentity::Jwt {
        token: "bad".into(),
    }));
    h.fetched(
        FetchKind::Session,
        401,
        &json!({"type": "urn:neurochat:problem:identity_invalid", "title": "Unauthorized",
            "status": 401, "detail": "no", "code": "identity_invalid", "message": "no"})
        .to_string(),
    );
    assert!(h.has(&Effect::Identified(Err("identity_invalid".into()))));
    assert!(h.s.session.is_none());
    assert!(h.s.ticket.is_none());
    assert!(h.s.messages.is_empty() && h.s.history.is_empty() && h.s.outbox.is_empty());
    assert_eq!(h.storage, [None, None, None]);
}

#[test]
fn logout_forgets_everything() {
    let mut h = H::with_ticket();
    h.step(Input::Logout);
    assert!(h.has(&Effect::Disconnect));
    assert_eq!(h.storage, [None, None, None]);
    assert!(h.s.session.is_none() && h.s.messages.is_empty());
    assert_eq!(h.s.conn, Conn::Idle);
    assert!(h.s.open, "the panel stays as it was");
}

#[test]
fn prechat_comes_before_the_session() {
    let mut h = H::new();
    h.step(Input::Boot {
        session: None,
        ticket: None,
        outbox: Vec::new(),
        prechat: true,
        online: true,
        visible: true,
    });
    h.step(Input::Open);
    assert!(
        !h.fx
            .iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Session { .. })))
    );
    assert!(!h.s.can_write());
    h.step(Input::Prechat {
        name: Some(" Ana ".into()),
        email: Some("".into()),
    });
    let body = h.fx.iter().find_map(|e| match e {
        Effect::Fetch(Fetch::Session { body, .. }) => Some(body.clone()),
        _ => None,
    });
    assert_eq!(body.as_deref(), Some(r#"{"display_name":"Ana"}"#));
    assert!(h.s.can_write());
}

#[test]
fn status_presence_tolerates_a_missing_endpoint() {
    let mut h = H::online();
    h.fetched(FetchKind::Status, 404, "");
    assert_eq!(h.s.presence, None);
    h.fetched(
        FetchKind::Status,
        200,
        r#"{"agents_online":2,"reply_within_seconds":null}"#,
    );
    assert_eq!(h.s.presence.map(|p| p.agents_online), Some(2));
}

#[test]
fn a_failed_session_start_is_retried_for_pending_text() {
    let mut h = H::new();
    h.boot();
    h.step(Input::Open);
    h.fetched(FetchKind::Session, 0, "");
    assert!(h.has(&Effect::Emit(JsEvent::Error("network".into()))));
    assert!(h.has(&Effect::Schedule(Timer::Retry, RETRY_MS)));
    h.step(Input::Submit("queued".into()));
    assert!(
        h.fx.iter()
            .any(|e| matches!(e, Effect::Fetch(Fetch::Session { .. })))
    );
}

#[test]
fn a_subscribe_to_a_foreign_ticket_forgets_it() {
    let mut h = H::new();
    h.storage[0] = Some(json!({"token": "ncv_tok", "user_id": ME}).to_string());
    h.storage[1] = Some(json!({"id": TICKET, "last_seq": 3}).to_string());
    h.boot();
    h.connect();
    let (req, _) = h.subscribes()[0];
    h.frame(json!({"type": "error", "req": req, "error": {"code": "not_found", "message": "no"}}));
    assert!(h.s.ticket.is_none());
    assert_eq!(h.storage[1], None);
}

#[test]
fn garbage_never_panics() {
    let mut h = H::with_ticket();
    let inputs = [
        "",
        "{",
        "null",
        "[]",
        "{\"type\":5}",
        "{\"type\":\"message\"}",
        "{\"type\":\"message\",\"message\":{\"seq\":-1}}",
        "{\"type\":\"ack\",\"req\":18446744073709551615,\"seq\":18446744073709551615}",
        "{\"type\":\"hello\",\"limits\":{\"max_body_chars\":0}}",
        "{\"type\":\"error\"}",
        "{\"type\":\"error\",\"req\":1,\"error\":{}}",
        "{\"type\":\"typing\",\"active\":true}",
        "{\"type\":\"receipt\",\"receipt\":null}",
    ];
    for i in inputs {
        // What the web layer does: JSON.parse, then read the frame.
        if let Some(f) = wire::parse_frame(i) {
            h.step(Input::Frame(Box::new(f)));
        }
    }
    // A message with an absurd seq only makes the widget resubscribe.
    h.frame(msg(u64::MAX, "agent", "x", None));
    for t in [Timer::Reconnect, Timer::Typing, Timer::Retry] {
        h.step(Input::Timer(t));
    }
    h.fetched(FetchKind::Tickets, 200, &String::from("{\"items\":7}"));
    h.step(Input::Closed(0));
    h.step(Input::SelectTicket(Uuid::nil()));
    assert_eq!(h.s.max_body, 1);
}

#[test]
fn earlier_conversations_can_be_reopened() {
    let mut h = H::with_ticket();
    h.s.history.push(wire::Ticket {
        id: Uuid::parse_str(OTHER_TICKET).expect("uuid"),
        number: 2,
        subject: "old".into(),
        status: "closed".into(),
        last_seq: 4,
    });
    h.step(Input::SelectTicket(
        Uuid::parse_str(OTHER_TICKET).expect("uuid"),
    ));
    assert_eq!(h.sent_types(), vec!["unsubscribe", "subscribe"]);
    assert_eq!(h.s.status, Status::Closed);
    h.frame(msg_in(OTHER_TICKET, 1, "customer", "old question", None));
    h.frame(msg_in(OTHER_TICKET, 4, "agent", "old answer", None));
    assert_eq!(h.seqs(), vec![1, 4]);
    assert_eq!(h.s.unread(), 0, "old answers are not news");
}

#[test]
fn a_late_anonymous_session_is_not_taken_for_the_identity() {
    let mut h = H::new();
    h.boot();
    h.step(Input::Open);
    let anon_gen = h.s.session_gen;
    h.step(Input::Identify(HostIdentity::Hmac {
        user_id: "victim".into(),
        email: None,
        name: None,
        signature: "forged".into(),
    }));
    // The anonymous start answers first, then the identity is refused.
    let anon = json!({"visitor_token": "ncv_anon", "expires_at": "2030-01-01T00:00:00Z",
        "user": {"id": ME}});
    h.step(Input::Fetched {
        kind: FetchKind::Session,
        generation: anon_gen,
        reply: wire::reply(FetchKind::Session, 201, Some(&anon)),
        expires_ms: 0,
    });
    assert!(
        h.s.session.is_none(),
        "the stale anonymous answer is dropped"
    );
    assert!(!h.fx.iter().any(|e| matches!(e, Effect::Identified(_))));
    h.fetched(
        FetchKind::Session,
        401,
        r#"{"code":"identity_invalid","message":"no"}"#,
    );
    assert!(h.has(&Effect::Identified(Err("identity_invalid".into()))));
    assert!(h.s.session.is_none());
    assert_eq!(h.storage, [None, None, None]);
}

#[test]
fn a_ticket_list_of_a_previous_session_is_dropped() {
    let mut h = H::online();
    let old = h.s.session_gen;
    h.step(Input::Logout);
    h.step(Input::Submit("new visitor".into()));
    h.session_response();
    let list = json!({"items": [{"id": TICKET, "status": "in_progress", "last_seq": 2}]});
    h.step(Input::Fetched {
        kind: FetchKind::Tickets,
        generation: old,
        reply: wire::reply(FetchKind::Tickets, 200, Some(&list)),
        expires_ms: 0,
    });
    assert!(h.s.history.is_empty() && h.s.ticket.is_none());
}

#[test]
fn a_network_flap_with_the_socket_still_open_resends_in_flight_messages() {
    let mut h = H::with_ticket();
    h.step(Input::Submit("in flight".into()));
    let first = h.sent()[0].clone();
    h.step(Input::Network(false));
    // The browser never closed the socket; the network comes back.
    h.step(Input::Network(true));
    assert!(h.has(&Effect::Connect));
    h.connect();
    let (req, last) = h.subscribes()[0];
    assert_eq!(last, 1);
    h.frame(json!({"type": "ack", "req": req}));
    let resend = h
        .sent()
        .into_iter()
        .find(|f| f["type"] == "send")
        .expect("resent");
    assert_eq!(resend["client_msg_id"], first["client_msg_id"]);
    // A late ack of the old connection's request changes nothing.
    h.frame(json!({"type": "ack", "req": first["req"], "seq": 2, "ticket_id": TICKET}));
    assert_eq!(h.s.pending_shown().count(), 1);
}

#[test]
fn status_uses_the_server_vocabulary_and_a_reply_reopens() {
    let mut h = H::with_ticket();
    assert_eq!(h.s.status.as_str(), "new");
    let event = |status: &str| {
        json!({"type": "ticket_event", "change": "status", "ticket": {
            "id": TICKET, "number": 1, "subject": "Hello", "customer_id": ME,
            "priority": "normal", "status": status, "created_at": "2026-01-01T00:10:00Z",
            "updated_at": "2026-01-01T00:45:00Z", "last_seq": 1}})
    };
    h.frame(event("in_progress"));
    assert_eq!(
        (h.s.status.as_str(), h.s.status.is_open()),
        ("in_progress", true)
    );
    h.frame(event("resolved"));
    assert_eq!(
        (h.s.status.as_str(), h.s.status.is_open()),
        ("resolved", false)
    );
    h.step(Input::Submit("one more thing".into()));
    let id = h.sent()[0]["client_msg_id"]
        .as_str()
        .expect("id")
        .to_owned();
    h.frame(msg(2, "customer", "one more thing", Some(&id)));
    assert!(h.s.status.is_open(), "the visitor's message reopened it");
    h.frame(event("some_future_status"));
    assert!(h.s.status.is_open());
}

#[test]
fn presence_is_refreshed_on_open_after_a_minute() {
    let mut h = H::online();
    let asked = |h: &H| h.has(&Effect::Fetch(Fetch::Status));
    h.step(Input::Close);
    h.s.now_ms += 30_000.0;
    h.step(Input::Open);
    assert!(!asked(&h));
    h.step(Input::Close);
    h.s.now_ms += 31_000.0;
    h.step(Input::Open);
    assert!(asked(&h));
}
