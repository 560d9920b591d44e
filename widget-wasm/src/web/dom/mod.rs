//! Building and redrawing the widget's shadow DOM (classes and attributes
//! are the contract in `docs/WIDGET.md`). Text goes in through
//! `textContent` and text nodes only; nothing here writes HTML.
//!
//! - `build` — the shadow root, stylesheet and elements, built once.
//! - `render` — redrawing from the state, touching only what changed.
//! - `events` — the delegated listener and the page-level events.

mod build;
mod events;
mod render;

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlTextAreaElement};

use crate::i18n::Locale;
use crate::state::Tick;

pub(crate) use events::listen_globals;

/// One drawn message: its element and what it was drawn from.
struct Drawn {
    li: Element,
    body: String,
    created: String,
    seq: Option<u64>,
    tick: Option<Tick>,
}

/// The widget's elements, kept so a redraw touches only what changed.
pub(crate) struct View {
    doc: Document,
    launcher: Element,
    badge: Element,
    panel: Element,
    team: Element,
    presence: Element,
    close: Element,
    conn: Element,
    banner: Element,
    banner_text: Element,
    new_conv: Element,
    history: Element,
    history_list: Element,
    history_sig: String,
    prechat: Element,
    greeting: Element,
    list: Element,
    typing: Element,
    composer: Element,
    input: HtmlTextAreaElement,
    counter: Element,
    send: Element,
    notice: Element,
    drawn: Vec<(String, Drawn)>,
    order: Vec<String>,
    labels_for: Option<Locale>,
    tz_offset: i32,
}

fn el(doc: &Document, tag: &str, class: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    if !class.is_empty() {
        attr(&e, "class", class);
    }
    Some(e)
}

fn attr(e: &Element, k: &str, v: &str) {
    let _ = e.set_attribute(k, v);
}

fn hide(e: &Element, hidden: bool) {
    // The `hidden` attribute (not the property): one DOM call fewer to bind.
    if e.has_attribute("hidden") != hidden {
        let _ = if hidden {
            e.set_attribute("hidden", "")
        } else {
            e.remove_attribute("hidden")
        };
    }
}

fn set_text(e: &Element, t: &str) {
    if e.text_content().as_deref() != Some(t) {
        e.set_text_content(Some(t));
    }
}

fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

impl View {
    fn scroller(&self) -> Option<Element> {
        self.list.parent_element()
    }

    fn near_bottom(&self) -> bool {
        self.scroller()
            .is_none_or(|s| s.scroll_height() - s.scroll_top() - s.client_height() < 80)
    }

    fn scroll_to_end(&self) {
        if let Some(s) = self.scroller() {
            s.set_scroll_top(s.scroll_height());
        }
    }

    /// Focus into the panel on open (pre-chat form or composer), back to the
    /// launcher on close.
    pub(crate) fn focus(&self, into_panel: bool) {
        let target = if !into_panel {
            self.launcher.clone()
        } else if !self.prechat.has_attribute("hidden") {
            match self.prechat.query_selector("input").ok().flatten() {
                Some(i) => i,
                None => self.input.clone().into(),
            }
        } else {
            self.scroll_to_end();
            self.input.clone().into()
        };
        if let Some(h) = target.dyn_ref::<HtmlElement>() {
            let _ = h.focus();
        }
    }

    /// Puts a refused message back so the visitor does not lose it.
    pub(crate) fn restore_draft(&self, body: &str) {
        if self.input.value().trim().is_empty() {
            self.input.set_value(body);
        }
        attr(&self.input, "aria-invalid", "true");
    }
}
