//! The visitor's session: reload from storage, expiry, identify, logout,
//! the pre-chat form, failed and stale session starts, foreign tickets.

use super::*;

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
