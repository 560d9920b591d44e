//! Small DOM helpers. Text always goes in as text (`textContent`, text
//! nodes, attribute values), never as markup.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, HtmlInputElement, HtmlSelectElement};

/// The window (the console only runs in a page).
pub(crate) fn window() -> web_sys::Window {
    web_sys::window().expect_throw("no window")
}

/// The document.
pub(crate) fn document() -> Document {
    window().document().expect_throw("no document")
}

/// A new element.
pub(crate) fn el(tag: &str) -> Element {
    document().create_element(tag).expect_throw("createElement")
}

/// A new element with a class (space-separated classes allowed).
pub(crate) fn el_class(tag: &str, class: &str) -> Element {
    let e = el(tag);
    e.set_class_name(class);
    e
}

/// A new element holding `text` as text.
pub(crate) fn el_text(tag: &str, class: &str, text: &str) -> Element {
    let e = el_class(tag, class);
    e.set_text_content(Some(text));
    e
}

/// Sets an attribute (values are never markup).
pub(crate) fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

/// Sets `data-testid`.
pub(crate) fn testid(e: &Element, id: &str) {
    attr(e, "data-testid", id);
}

/// Appends children.
pub(crate) fn append(parent: &Element, children: &[&Element]) {
    for c in children {
        let _ = parent.append_child(c);
    }
}

/// Removes every child.
pub(crate) fn clear(e: &Element) {
    while let Some(c) = e.first_child() {
        let _ = e.remove_child(&c);
    }
}

/// The element with this id.
pub(crate) fn by_id(id: &str) -> Option<Element> {
    document().get_element_by_id(id)
}

/// Listens for `event` on `target` for the page's lifetime.
pub(crate) fn on(target: &web_sys::EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
    let cb = Closure::<dyn FnMut(Event)>::new(f);
    let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    cb.forget();
}

/// A button with a label, a test hook and a click handler.
pub(crate) fn button(
    label: &str,
    test: &str,
    class: &str,
    f: impl FnMut(Event) + 'static,
) -> Element {
    let b = el_text("button", class, label);
    attr(&b, "type", "button");
    if !test.is_empty() {
        testid(&b, test);
    }
    on(&b, "click", f);
    b
}

/// A labelled control: `<label>text control</label>`.
pub(crate) fn labelled(text: &str, control: &Element) -> Element {
    let l = el("label");
    let _ = l.append_child(&document().create_text_node(text));
    let _ = l.append_child(control);
    l
}

/// A `<select>` of `(value, label)` options with `selected` chosen.
pub(crate) fn select(
    test: &str,
    options: &[(String, String)],
    selected: &str,
) -> HtmlSelectElement {
    let s: HtmlSelectElement = el("select").unchecked_into();
    if !test.is_empty() {
        testid(&s, test);
    }
    for (value, label) in options {
        let o = el_text("option", "", label);
        attr(&o, "value", value);
        if value == selected {
            attr(&o, "selected", "");
        }
        let _ = s.append_child(&o);
    }
    s.set_value(selected);
    s
}

/// An `<input>` of a type with a test hook.
pub(crate) fn input(kind: &str, test: &str, placeholder: &str) -> HtmlInputElement {
    let i: HtmlInputElement = el("input").unchecked_into();
    i.set_type(kind);
    if !test.is_empty() {
        testid(&i, test);
    }
    if !placeholder.is_empty() {
        i.set_placeholder(placeholder);
    }
    i
}

/// Focuses an element, if it is one that can be.
pub(crate) fn focus(e: &Element) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let _ = h.focus();
    }
}

/// The value of a form control (input, select, textarea) by id.
pub(crate) fn value_of(id: &str) -> String {
    let Some(e) = by_id(id) else {
        return String::new();
    };
    if let Some(i) = e.dyn_ref::<HtmlInputElement>() {
        i.value()
    } else if let Some(s) = e.dyn_ref::<HtmlSelectElement>() {
        s.value()
    } else if let Some(t) = e.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        t.value()
    } else {
        String::new()
    }
}

/// Milliseconds since the epoch (`Date.now()`).
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Runs `f` once after `ms` milliseconds; returns the timer id.
pub(crate) fn after(ms: f64, f: impl FnOnce() + 'static) -> i32 {
    let cb = Closure::once_into_js(f);
    window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            cb.unchecked_ref(),
            ms.clamp(0.0, 2_147_483_647.0) as i32,
        )
        .unwrap_or(0)
}

/// Cancels a timer of [`after`].
pub(crate) fn cancel(id: i32) {
    window().clear_timeout_with_handle(id);
}

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: f64) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            ms.clamp(0.0, 2_147_483_647.0) as i32,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// `sessionStorage`.
pub(crate) fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// `localStorage`.
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}
