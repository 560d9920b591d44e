//! What the visitor and the page do: the widget's delegated listener and
//! the page-level network and visibility events.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlTextAreaElement};

use crate::out::cat;
use crate::state::Input;
use crate::text;
use crate::web::{dispatch, select_ticket, window};

/// Everything the visitor does inside the widget, by event type and the
/// control it happened on.
pub(super) fn on_event(
    e: &web_sys::Event,
    composer: &Element,
    input: &HtmlTextAreaElement,
    prechat: &Element,
) {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    let within = |sel: &str| target.closest(sel).ok().flatten();
    match e.type_().as_str() {
        "click" => {
            if let Some(b) = within("button") {
                let class = b.get_attribute("class").unwrap_or_default();
                match text::before(&class, b' ') {
                    "nc-launcher" => dispatch(Input::Toggle),
                    "nc-close" => dispatch(Input::Close),
                    "nc-new-conversation" => dispatch(Input::NewConversation),
                    "nc-conversation" => {
                        if let Some(id) = b.get_attribute("data-ticket-id") {
                            select_ticket(&id);
                        }
                    }
                    _ => {}
                }
            }
        }
        "submit" => {
            e.prevent_default();
            if target == *prechat {
                let value = |n: &str| {
                    prechat
                        .query_selector(&cat(&["input[name=", n, "]"]))
                        .ok()
                        .flatten()
                        .and_then(|i| i.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .map(|i| i.value())
                };
                dispatch(Input::Prechat {
                    name: value("name"),
                    email: value("email"),
                });
            } else if target == *composer {
                send(input);
            }
        }
        "keydown" => {
            let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                return;
            };
            match k.key().as_str() {
                "Escape" => dispatch(Input::Close),
                "Enter" if !k.shift_key() && !k.is_composing() && target == ***input => {
                    // Not `form.requestSubmit()`: its submit event would
                    // re-enter this very listener, which wasm-bindgen refuses.
                    e.prevent_default();
                    send(input);
                }
                _ => {}
            }
        }
        "input" if target == ***input => dispatch(Input::Typed),
        _ => {}
    }
}

/// Sends the composer's text (Enter or the send button).
fn send(input: &HtmlTextAreaElement) {
    let v = input.value();
    if !v.trim().is_empty() {
        input.set_value("");
        // A new attempt: the refusal notice goes (see `restore_draft`).
        let _ = input.remove_attribute("aria-invalid");
        dispatch(Input::Submit(v));
        let _ = input.focus();
    }
}

/// Page-level events: network and visibility (one closure for all three).
pub(crate) fn listen_globals() {
    let Some(w) = window() else { return };
    let Some(doc) = w.document() else { return };
    let d = doc.clone();
    let f = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        dispatch(match e.type_().as_str() {
            "online" => Input::Network(true),
            "offline" => Input::Network(false),
            _ => Input::Visible(crate::web::visible(&d)),
        })
    });
    let cb = f.as_ref().unchecked_ref();
    let _ = w.add_event_listener_with_callback("online", cb);
    let _ = w.add_event_listener_with_callback("offline", cb);
    let _ = doc.add_event_listener_with_callback("visibilitychange", cb);
    f.forget();
}
