//! What the visitor sees around the messages: ticks, typing, unread
//! counts, ticket status, presence and earlier conversations.

use super::*;

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
