//! The gateway connection: connect, frames in and out, reconnect with
//! backoff.

use super::*;

/// Opens the gateway connection (`ws(s)://<this host>/ws`).
pub(crate) fn connect() {
    let loc = dom::window().location();
    let scheme = if loc.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}/ws", loc.host().unwrap_or_default());
    let Ok(ws) = WebSocket::new(&url) else {
        schedule_reconnect();
        return;
    };
    let generation = with(|a| {
        a.ws_gen += 1;
        a.conn = Conn::Connecting;
        a.ws = Some(ws.clone());
        a.ws_gen
    });
    views::render_conn();
    let current = move || with_ref(|a| a.ws_gen == generation);
    {
        let ws2 = ws.clone();
        dom::on(&ws, "open", move |_| {
            if !current() {
                return;
            }
            let token = with_ref(|a| a.session.as_ref().map(|s| s.tokens.access_token.clone()));
            if let Some(token) = token {
                let _ = ws2.send_with_str(&wire::client_frame(&ClientFrame::Auth { token }));
            }
        });
    }
    dom::on(&ws, "message", move |e| {
        if !current() {
            return;
        }
        let Some(text) = e
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        else {
            return;
        };
        if let Some(frame) = wire::parse_server_frame(&text) {
            on_frame(frame);
        }
    });
    dom::on(&ws, "close", move |e| {
        if !current() {
            return;
        }
        let code = e.dyn_ref::<CloseEvent>().map_or(0, CloseEvent::code);
        on_close(code);
    });
}

pub(super) fn on_close(code: u16) {
    use neurochat_protocol::v1::close_codes as cc;
    with(|a| {
        a.ws = None;
        a.conn = Conn::Offline;
    });
    live(Live::disconnected);
    views::render_conn();
    if with_ref(|a| a.session.is_none()) {
        return;
    }
    match code {
        cc::SESSION_REVOKED => {
            session_ended(Some(
                "Your session was ended (logged out elsewhere, or the account was disabled).",
            ));
        }
        cc::AUTH_FAILED | cc::TOKEN_EXPIRED => {
            // A fresh token, then try again.
            wasm_bindgen_futures::spawn_local(async {
                // Refused: the session ended (back to the login form);
                // unreachable: the server is down, try again later.
                let _ = net::refresh().await;
                if with_ref(|a| a.session.is_some()) {
                    schedule_reconnect();
                }
            });
        }
        _ => schedule_reconnect(),
    }
}

/// The browser says the network is gone (`offline`): the socket is as good
/// as dead, but its `close` can wait for a closing handshake that will not
/// come. Show it now, and retry on the backoff (or at `online`).
pub(super) fn network_lost() {
    let ws = with_ref(|a| a.ws.clone());
    if let Some(ws) = ws {
        let _ = ws.close();
        with(|a| a.ws_gen += 1);
        on_close(0);
    }
}

/// The network is back (`online`): reconnect now rather than at the end of
/// a backoff delay that may have grown long while offline.
pub(super) fn network_back() {
    let retry = with(|a| {
        let waiting = a.session.is_some() && a.ws.is_none();
        if waiting && let Some(t) = a.reconnect_timer.take() {
            dom::cancel(t);
        }
        waiting
    });
    if retry {
        connect();
    }
}

pub(super) fn schedule_reconnect() {
    let delay = with(|a| a.backoff.next_delay_ms(js_sys::Math::random()));
    with(|a| {
        // At most one pending retry: `offline` and a late `close` can both
        // end up here.
        if let Some(t) = a.reconnect_timer.take() {
            dom::cancel(t);
        }
        a.conn = Conn::Connecting;
        a.banner = Some(format!(
            "Connection lost; reconnecting in {} s…",
            delay.div_ceil(1000)
        ));
    });
    views::render_conn();
    let t = after(delay as f64, || {
        with(|a| a.reconnect_timer = None);
        if with_ref(|a| a.session.is_some()) {
            connect();
        }
    });
    with(|a| a.reconnect_timer = Some(t));
}

/// Every this often an application `ping`; no `pong` within
/// [`PONG_WAIT_MS`] means the connection is dead (a silently dropped
/// network can take the browser minutes to notice): close and reconnect.
pub(super) const PING_EVERY_MS: f64 = 25_000.0;
pub(super) const PONG_WAIT_MS: f64 = 10_000.0;

pub(super) fn keepalive(generation: u32) {
    after(PING_EVERY_MS, move || {
        let (current, online) = with_ref(|a| (a.ws_gen == generation, a.conn == Conn::Online));
        if !current {
            return;
        }
        if online {
            let nonce = (now_ms() as u64) & 0xffff_ffff;
            with(|a| a.ping_wait = Some(nonce));
            send(&ClientFrame::Ping { nonce: Some(nonce) });
            after(PONG_WAIT_MS, move || {
                let dead = with_ref(|a| a.ws_gen == generation && a.ping_wait == Some(nonce));
                if dead {
                    let ws = with_ref(|a| a.ws.clone());
                    if let Some(ws) = ws {
                        // `close` fires later, maybe much later on a dead
                        // network: stop listening to it and reconnect now.
                        let _ = ws.close();
                        with(|a| a.ws_gen += 1);
                        on_close(0);
                    }
                }
            });
        }
        keepalive(generation);
    });
}

pub(super) fn on_frame(frame: ServerFrame) {
    match frame {
        ServerFrame::Hello { .. } => {
            let generation = with(|a| {
                a.conn = Conn::Online;
                a.banner = None;
                a.backoff.reset();
                a.ping_wait = None;
                a.ws_gen
            });
            views::render_conn();
            keepalive(generation);
        }
        ServerFrame::Pong { nonce, .. } => {
            with(|a| {
                if a.ping_wait == nonce {
                    a.ping_wait = None;
                }
            });
            return;
        }
        _ => {}
    }
    let shown = visible();
    live(|l| l.frame(frame, now_ms(), shown));
}

/// Sets availability over the socket (REST when offline).
pub(crate) fn set_availability(v: Availability) {
    if let Some(fx) = with(|a| a.live.set_availability(v)) {
        run(fx);
        return;
    }
    let me = with_ref(|a| a.me().map(|m| m.id));
    let Some(me) = me else { return };
    wasm_bindgen_futures::spawn_local(async move {
        let body = wire::body(&neurochat_protocol::v1::AgentSettingsRequest {
            availability: Some(v),
            capacity: None,
        });
        if let Err(e) = net::call("PATCH", &format!("/api/v1/users/{me}/agent"), Some(body)).await {
            views::toast(&format!("Availability not saved: {}", e.message));
        }
    });
}

/// Logs out (`POST /api/v1/auth/logout` revokes the refresh token).
pub(crate) fn logout() {
    let token = with_ref(|a| a.session.as_ref().map(|s| s.tokens.refresh_token.clone()));
    wasm_bindgen_futures::spawn_local(async move {
        let body = wire::body(&neurochat_protocol::v1::LogoutRequest {
            refresh_token: token,
        });
        let _ = net::call("POST", "/api/v1/auth/logout", Some(body)).await;
        session_ended(None);
    });
}
