//! WebSocket and fetch plumbing: every outcome becomes an `Input`.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{Config, dispatch, if_current, parse_json, window};
use crate::out::cat;
use crate::state::{Fetch, FetchKind, Input, Session};
use crate::wire::{self, Frame, Reply};

/// `https://host/x` → `wss://host/x/ws` (`http` → `ws`).
fn ws_url(server: &str) -> String {
    let rest = server
        .strip_prefix("https://")
        .map(|r| cat(&["wss://", r]))
        .or_else(|| server.strip_prefix("http://").map(|r| cat(&["ws://", r])))
        .unwrap_or_else(|| server.to_owned());
    cat(&[&rest, "/ws"])
}

pub(super) fn closed(g: u32, code: u16) {
    if_current(g, Input::Closed(code));
}

/// Opens the socket with handlers tagged by generation `g`, so a replaced
/// socket's late events are ignored.
pub(super) fn open_socket(server: &str, g: u32) -> Option<web_sys::WebSocket> {
    let ws = web_sys::WebSocket::new(&ws_url(server)).ok()?;
    let on_open = Closure::<dyn FnMut()>::new(move || if_current(g, Input::Opened));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let on_msg =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(f) = e
                .data()
                .as_string()
                .and_then(|t| parse_json(&t))
                .and_then(|j| Frame::from_json(&j))
            {
                if_current(g, Input::Frame(Box::new(f)));
            }
        });
    ws.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    let on_close = Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |e: web_sys::CloseEvent| {
        closed(g, e.code());
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    Some(ws)
}

/// Makes an HTTP request and dispatches `Input::Fetched` with its status
/// (0 on a network error) and text.
pub(super) fn fetch(cfg: &Config, session: Option<&Session>, f: Fetch) {
    let Some(w) = window() else { return };
    let (kind, generation) = (f.kind(), f.generation());
    let (path, body) = match f {
        Fetch::Session { body, .. } => ("/api/v1/widget/sessions", Some(body)),
        Fetch::Tickets { .. } => ("/api/v1/tickets?limit=20", None),
        Fetch::Status => ("/api/v1/widget/status", None),
    };
    let init = web_sys::RequestInit::new();
    let headers = Object::new();
    let set = |k: &str, v: &str| {
        let _ = Reflect::set(&headers, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set("accept", "application/json");
    if let Some(b) = &body {
        init.set_method("POST");
        set("content-type", "application/json");
        init.set_body(&JsValue::from_str(b));
    }
    if kind == FetchKind::Tickets
        && let Some(s) = session
    {
        set("authorization", &cat(&["Bearer ", &s.token]));
    }
    init.set_headers(&headers);
    let url = cat(&[&cfg.server, path]);
    let fail = move || {
        dispatch(Input::Fetched {
            kind,
            generation,
            reply: Reply::Network,
            expires_ms: 0,
        })
    };
    // Plain `dyn FnMut(JsValue)` closures, forgotten: one shared closure
    // type keeps the module small, and there are only a few requests per
    // page view. A settled promise never calls them again.
    let on_resp = cb(move |resp: JsValue| {
        let Some((status, text)) = resp
            .dyn_ref::<web_sys::Response>()
            .and_then(|r| Some((r.status().max(1), r.text().ok()?)))
        else {
            return fail();
        };
        let on_text = cb(move |t: JsValue| {
            let body = t.as_string().and_then(|t| parse_json(&t));
            let reply = wire::reply(kind, status, body.as_ref());
            let expires_ms = match &reply {
                Reply::Session(r) => {
                    let ms = js_sys::Date::parse(&r.expires_at);
                    if ms.is_finite() && ms > 0.0 {
                        ms as u64
                    } else {
                        0
                    }
                }
                _ => 0,
            };
            dispatch(Input::Fetched {
                kind,
                generation,
                reply,
                expires_ms,
            });
        });
        then(&text, &on_text, &cb(move |_: JsValue| fail()));
    });
    then(
        &w.fetch_with_str_and_init(&url, &init),
        &on_resp,
        &cb(move |_: JsValue| fail()),
    );
}

fn cb(f: impl FnMut(JsValue) + 'static) -> JsValue {
    Closure::<dyn FnMut(JsValue)>::new(f).into_js_value()
}

/// `promise.then(ok, err)` with self-freeing one-shot callbacks (js-sys's
/// typed `then` wants closures kept alive by hand).
fn then(promise: &JsValue, ok: &JsValue, err: &JsValue) {
    if let Ok(f) = Reflect::get(promise, &JsValue::from_str("then"))
        && let Some(f) = f.dyn_ref::<js_sys::Function>()
    {
        let _ = f.call2(promise, ok, err);
    }
}
