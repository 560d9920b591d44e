//! The WebSocket: backoff, offline and visibility, rejected and transient
//! authentication, reauth, and garbage frames.

use super::*;

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
