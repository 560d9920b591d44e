//! Messages and the outbox: the first message opening a ticket, sends,
//! duplicates, gaps and replays, lost acks and echoes, refusals, bodies.

use super::*;

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
fn messages_of_other_tickets_are_not_shown() {
    let mut h = H::with_ticket();
    h.frame(msg_in(OTHER_TICKET, 2, "agent", "elsewhere", None));
    assert_eq!(h.seqs(), vec![1]);
    assert_eq!(h.s.unread(), 0);
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
