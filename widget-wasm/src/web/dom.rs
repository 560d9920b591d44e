//! Building and redrawing the widget's shadow DOM (classes and attributes
//! are the contract in `docs/WIDGET.md`). Text goes in through
//! `textContent` and text nodes only; nothing here writes HTML.

use js_sys::{Array, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement, HtmlTextAreaElement, ShadowRoot};

use super::{Config, dispatch, select_ticket, window};
use crate::i18n::{self, Locale};
use crate::out::{cat, num, uuid_str};
use crate::state::{Author, Conn, Input, State, Status, Tick};
use crate::text::{self, Segment};

/// The widget's stylesheet. `:host { all: initial !important }`: for
/// `!important` declarations the shadow tree's own rules beat the page's,
/// so a host page with `* { all: unset !important }` or
/// `div { display: none }` cannot hide or restyle the widget, while custom
/// properties (`--nc-primary`…, untouched by `all`) stay overridable on
/// `#neurochat-root`.
const CSS: &str = include_str!("style.css");

/// One drawn message: its element and what it was drawn from.
struct Drawn {
    li: Element,
    body: String,
    created: String,
    seq: Option<u64>,
    tick: Option<Tick>,
}

/// A message to show: (key, author, body, seq, client_msg_id, created_at).
type Want<'a> = (
    String,
    Author,
    &'a str,
    Option<u64>,
    Option<&'a str>,
    &'a str,
);

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

/// Everything the visitor does inside the widget, by event type and the
/// control it happened on.
fn on_event(
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

/// The launcher icon (a speech bubble), built node by node.
fn icon(doc: &Document) -> Option<Element> {
    const NS: Option<&str> = Some("http://www.w3.org/2000/svg");
    let svg = doc.create_element_ns(NS, "svg").ok()?;
    attr(&svg, "viewBox", "0 0 24 24");
    attr(&svg, "aria-hidden", "true");
    let p = doc.create_element_ns(NS, "path").ok()?;
    attr(
        &p,
        "d",
        "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    );
    append(&svg, &p);
    Some(svg)
}

fn stylesheet(shadow: &ShadowRoot, doc: &Document, cfg: &Config) {
    let css = cat(&[":host{--nc-primary:", &cfg.color, "}", CSS]);
    if let Ok(sheet) = web_sys::CssStyleSheet::new()
        && sheet.replace_sync(&css).is_ok()
    {
        let _ = Reflect::set(
            shadow,
            &JsValue::from_str("adoptedStyleSheets"),
            &Array::of1(&sheet),
        );
        return;
    }
    // Browsers without constructed stylesheets (they also predate strict
    // CSPs that would block this).
    if let Some(style) = el(doc, "style", "") {
        style.set_text_content(Some(&css));
        let _ = shadow.append_child(&style);
    }
}

impl View {
    /// Builds the widget in `#neurochat-root`, reusing the loader's host,
    /// shadow root and launcher when they exist.
    pub(crate) fn build(cfg: &Config) -> Option<View> {
        let doc = window()?.document()?;
        let host = match doc.get_element_by_id("neurochat-root") {
            Some(h) => h,
            None => {
                let h = el(&doc, "div", "")?;
                attr(&h, "id", "neurochat-root");
                append(&doc.body()?.into(), &h);
                h
            }
        };
        let shadow = match host.shadow_root() {
            Some(s) => s,
            None => host
                .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
                .ok()?,
        };
        stylesheet(&shadow, &doc, cfg);
        let launcher = match shadow.query_selector("button.nc-launcher").ok().flatten() {
            Some(l) => l,
            None => {
                let l = el(&doc, "button", "nc-launcher")?;
                append(&l, &icon(&doc)?);
                l
            }
        };
        attr(&launcher, "type", "button");
        if let Some(t) = &cfg.launcher_text
            && launcher
                .query_selector(".nc-launcher-text")
                .ok()
                .flatten()
                .is_none()
        {
            let span = el(&doc, "span", "nc-launcher-text")?;
            span.set_text_content(Some(t));
            append(&launcher, &span);
        }
        let badge = el(&doc, "span", "nc-badge")?;
        append(&launcher, &badge);
        // The loader's click handler forwarded to the queue; the delegated
        // handler below takes over.
        if let Some(h) = launcher.dyn_ref::<HtmlElement>() {
            h.set_onclick(None);
        }

        // The panel's skeleton as data: one loop instead of a call site per
        // element keeps the module small. (tag, class, parent index)
        const NODES: [(&str, &str, usize); 23] = [
            ("div", "nc-wrap", 0),
            ("section", "nc-panel", 0),
            ("header", "nc-header", 1),
            ("div", "nc-titles", 2),
            ("div", "nc-team", 3),
            ("div", "nc-presence", 3),
            ("button", "nc-close", 2),
            ("div", "nc-connection", 1),
            ("div", "nc-ticket-status", 1),
            ("span", "", 8),
            ("button", "nc-new-conversation", 8),
            ("form", "nc-prechat", 1),
            ("div", "nc-scroll", 1),
            ("nav", "nc-history", 12),
            ("div", "", 13),
            ("p", "nc-greeting", 12),
            ("ol", "nc-messages", 12),
            ("div", "nc-typing", 12),
            ("form", "nc-composer", 1),
            ("textarea", "nc-input", 18),
            ("span", "nc-counter", 18),
            ("button", "nc-send", 18),
            ("p", "nc-notice", 1),
        ];
        const ATTRS: [(usize, &str, &str); 12] = [
            (1, "role", "dialog"),
            (1, "id", "nc-panel"),
            (6, "type", "button"),
            (7, "role", "status"),
            (10, "type", "button"),
            (16, "aria-live", "polite"),
            (16, "aria-relevant", "additions"),
            (19, "rows", "1"),
            (20, "aria-live", "polite"),
            (21, "type", "submit"),
            (6, "aria-label", "Close"),
            (22, "role", "alert"),
        ];
        let mut n: Vec<Element> = Vec::with_capacity(NODES.len());
        for (i, (tag, class, parent)) in NODES.into_iter().enumerate() {
            let e = el(&doc, tag, class)?;
            if i > 0 {
                append(&n[parent], &e);
            }
            n.push(e);
        }
        for (i, k, v) in ATTRS {
            attr(&n[i], k, v);
        }
        let wrap = n[0].clone();
        if cfg.left {
            attr(&wrap, "class", "nc-wrap nc-left");
        }
        let (panel, team, presence, close) =
            (n[1].clone(), n[4].clone(), n[5].clone(), n[6].clone());
        let (conn, banner, banner_text, new_conv) =
            (n[7].clone(), n[8].clone(), n[9].clone(), n[10].clone());
        let (prechat, history, history_list, greeting) =
            (n[11].clone(), n[13].clone(), n[14].clone(), n[15].clone());
        let (list, typing, composer, counter, send) = (
            n[16].clone(),
            n[17].clone(),
            n[18].clone(),
            n[20].clone(),
            n[21].clone(),
        );
        let input: HtmlTextAreaElement = n[19].clone().dyn_into().ok()?;
        // A refused message's notice sits right above the composer.
        let notice = n[22].clone();
        let _ = panel.insert_before(&notice, Some(&composer));
        attr(&launcher, "aria-controls", "nc-panel");
        team.set_text_content(Some(&cfg.team));
        close.set_text_content(Some("×"));
        for (on_, name, ty) in [
            (cfg.prechat_name, "name", "text"),
            (cfg.prechat_email, "email", "email"),
        ] {
            if on_ {
                let label = el(&doc, "label", "")?;
                let span = el(&doc, "span", "")?;
                let input = el(&doc, "input", "")?;
                attr(&input, "name", name);
                attr(&input, "type", ty);
                attr(&input, "autocomplete", name);
                append(&label, &span);
                append(&label, &input);
                append(&prechat, &label);
            }
        }
        let start = el(&doc, "button", "nc-start")?;
        attr(&start, "type", "submit");
        append(&prechat, &start);
        // One delegated listener for the whole widget (clicks, submits,
        // keys, input): a closure per control would cost a closure type
        // each in the module.
        let (form, text, pre) = (composer.clone(), input.clone(), prechat.clone());
        let handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            on_event(&e, &form, &text, &pre);
        });
        for ev in ["click", "submit", "keydown", "input"] {
            let _ = shadow.add_event_listener_with_callback(ev, handler.as_ref().unchecked_ref());
        }
        handler.forget();

        append(&wrap, &launcher);
        // Replace whatever the loader drew with the full widget.
        while let Some(c) = shadow.first_child() {
            let _ = shadow.remove_child(&c);
        }
        let _ = shadow.append_child(&wrap);

        Some(View {
            tz_offset: -(js_sys::Date::new_0().get_timezone_offset() as i32),
            doc,
            launcher,
            badge,
            panel,
            team,
            presence,
            close,
            conn,
            banner,
            banner_text,
            new_conv,
            history,
            history_list,
            history_sig: String::new(),
            prechat,
            greeting,
            list,
            typing,
            composer,
            input,
            counter,
            send,
            notice,
            drawn: Vec::new(),
            order: Vec::new(),
            labels_for: None,
        })
    }

    fn labels(&mut self, cfg: &Config) {
        if self.labels_for == Some(cfg.locale) {
            return;
        }
        self.labels_for = Some(cfg.locale);
        let s = cfg.locale.strings();
        attr(&self.panel, "aria-label", s.chat);
        attr(&self.panel, "lang", cfg.locale.tag());
        attr(&self.close, "aria-label", s.close_chat);
        set_text(&self.new_conv, s.new_conversation);
        attr(&self.history, "aria-label", s.earlier);
        set_text(&self.typing, s.typing);
        attr(&self.input, "aria-label", s.input);
        attr(&self.input, "placeholder", s.input);
        set_text(&self.send, s.send);
        set_text(
            &self.greeting,
            cfg.greeting.as_deref().unwrap_or(s.greeting),
        );
        if let Ok(labels) = self.prechat.query_selector_all("label") {
            for i in 0..labels.length() {
                let Some(l) = labels.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                    continue;
                };
                let is_email = l
                    .query_selector("input[name=email]")
                    .ok()
                    .flatten()
                    .is_some();
                if let Ok(Some(span)) = l.query_selector("span") {
                    set_text(&span, if is_email { s.email } else { s.name });
                }
            }
        }
        if let Ok(Some(b)) = self.prechat.query_selector("button") {
            set_text(&b, s.start);
        }
        // Ticks and history are redrawn with the new words.
        for (_, d) in &mut self.drawn {
            d.tick = None;
        }
        self.history_sig.clear();
    }

    /// Redraws from the state.
    pub(crate) fn render(&mut self, st: &State, cfg: &Config) {
        self.labels(cfg);
        let s = cfg.locale.strings();
        attr(
            &self.launcher,
            "aria-expanded",
            if st.open { "true" } else { "false" },
        );
        let unread = st.unread();
        hide(&self.badge, unread == 0);
        let n = num(unread.into());
        set_text(&self.badge, &n);
        // The button's label is what screen readers announce (the badge
        // inside it is not read), so the count goes into the label.
        let label = if st.open { s.close_chat } else { s.open_chat };
        if unread == 0 {
            attr(&self.launcher, "aria-label", label);
        } else {
            attr(
                &self.launcher,
                "aria-label",
                &cat(&[label, " (", &n, " ", s.unread, ")"]),
            );
        }
        hide(&self.panel, !st.open);
        set_text(&self.team, &cfg.team);
        set_text(
            &self.presence,
            &i18n::presence(
                cfg.locale,
                st.presence.map(|p| p.agents_online),
                st.presence.and_then(|p| p.reply_within_seconds),
            ),
        );
        attr(&self.conn, "data-state", st.conn.as_str());
        set_text(
            &self.conn,
            match st.conn {
                Conn::Connecting => s.connecting,
                Conn::Offline => s.offline,
                _ => "",
            },
        );
        hide(&self.conn, matches!(st.conn, Conn::Online | Conn::Idle));

        attr(&self.banner, "data-status", st.status.as_str());
        hide(&self.banner, st.ticket.is_none() || st.status.is_open());
        set_text(
            &self.banner_text,
            match st.status {
                Status::Closed => s.closed,
                _ => s.resolved,
            },
        );
        hide(&self.new_conv, st.status.is_open());

        self.render_history(st, s.earlier);
        hide(&self.prechat, !st.prechat_needed);
        hide(
            &self.greeting,
            !st.messages.is_empty() || st.pending_shown().next().is_some(),
        );
        self.render_messages(st, cfg);
        hide(&self.typing, !st.agent_typing);

        hide(&self.composer, st.prechat_needed);
        hide(&self.notice, !self.input.has_attribute("aria-invalid"));
        set_text(&self.notice, s.send_failed);
        let closed = !st.can_write();
        self.input.set_disabled(closed);
        let used = text::char_len(&self.input.value());
        let near = used * 5 >= st.max_body * 4;
        hide(&self.counter, !near);
        if near {
            set_text(&self.counter, &i18n::counter(used, st.max_body));
            attr(
                &self.counter,
                "data-over",
                if used > st.max_body { "true" } else { "false" },
            );
        }
        attr(&self.input, "maxlength", &num(st.max_body as u64));
    }

    fn render_history(&mut self, st: &State, heading: &str) {
        let sig: String = st
            .history
            .iter()
            .map(|t| cat(&[&uuid_str(t.id), &t.status, &t.subject, "|"]))
            .collect();
        hide(&self.history, st.history.is_empty());
        if sig == self.history_sig {
            return;
        }
        self.history_sig = sig;
        self.history_list.set_text_content(None);
        let Some(h) = el(&self.doc, "h2", "") else {
            return;
        };
        h.set_text_content(Some(heading));
        append(&self.history_list, &h);
        for t in &st.history {
            let Some(b) = el(&self.doc, "button", "nc-conversation") else {
                continue;
            };
            attr(&b, "type", "button");
            attr(&b, "data-ticket-id", &uuid_str(t.id));
            attr(&b, "data-status", &t.status);
            let label = if t.number > 0 {
                cat(&["#", &num(t.number), " ", &t.subject])
            } else {
                t.subject.clone()
            };
            b.set_text_content(Some(&label));
            append(&self.history_list, &b);
        }
    }

    fn render_messages(&mut self, st: &State, cfg: &Config) {
        let s = cfg.locale.strings();
        // What should be shown, in order: stored messages, then the outbox.
        let mut want: Vec<Want> = Vec::new();
        for m in &st.messages {
            let key = match (&m.client_msg_id, m.author) {
                (Some(c), Author::Own) => cat(&["c", c]),
                _ => cat(&["s", &num(m.seq)]),
            };
            want.push((
                key,
                m.author,
                &m.body,
                Some(m.seq),
                m.client_msg_id.as_deref(),
                &m.created_at,
            ));
        }
        for p in st.pending_shown() {
            want.push((
                cat(&["c", &p.id]),
                Author::Own,
                &p.body,
                p.seq.filter(|s| *s > 0),
                Some(&p.id),
                "",
            ));
        }
        let stick = self.near_bottom();
        let keys: Vec<String> = want.iter().map(|w| w.0.clone()).collect();
        self.drawn.retain(|(k, d)| {
            let keep = keys.contains(k);
            if !keep {
                d.li.remove();
            }
            keep
        });
        let mut added = false;
        for (key, author, body, seq, cmid, created) in &want {
            let tick = (*author == Author::Own).then(|| st.tick(*seq));
            if !self.drawn.iter().any(|(k, _)| k == key) {
                let Some(li) = self.message(*author, cmid.as_deref()) else {
                    continue;
                };
                self.drawn.push((
                    key.clone(),
                    Drawn {
                        li,
                        body: String::new(),
                        created: String::new(),
                        seq: None,
                        tick: None,
                    },
                ));
                added = true;
            }
            let Some((_, d)) = self.drawn.iter_mut().find(|(k, _)| k == key) else {
                continue;
            };
            if d.body != *body {
                d.body = (*body).to_owned();
                if let Ok(Some(b)) = d.li.query_selector(".nc-body") {
                    fill_body(&self.doc, &b, body);
                }
            }
            if d.created != *created
                && let Ok(Some(t)) = d.li.query_selector(".nc-time")
            {
                // An optimistic bubble gets its time with the stored message.
                d.created = (*created).to_owned();
                attr(&t, "datetime", created);
                set_text(
                    &t,
                    &text::clock(created, self.tz_offset).unwrap_or_default(),
                );
            }
            if d.seq != *seq {
                d.seq = *seq;
                match seq {
                    Some(n) => attr(&d.li, "data-seq", &num(*n)),
                    None => {
                        let _ = d.li.remove_attribute("data-seq");
                    }
                }
            }
            if d.tick != tick
                && let Some(t) = tick
            {
                d.tick = tick;
                if let Ok(Some(e)) = d.li.query_selector(".nc-ticks") {
                    attr(&e, "data-state", t.as_str());
                    let label = match t {
                        Tick::Pending => s.tick_pending,
                        Tick::Sent => s.tick_sent,
                        Tick::Delivered => s.tick_delivered,
                        Tick::Read => s.tick_read,
                    };
                    attr(&e, "aria-label", label);
                    attr(&e, "title", label);
                    set_text(
                        &e,
                        if t >= Tick::Delivered {
                            "✓✓"
                        } else if t == Tick::Sent {
                            "✓"
                        } else {
                            "…"
                        },
                    );
                }
            }
        }
        // Put them in order, moving only what is out of place (moving a node
        // would make screen readers announce it again).
        if self.order != keys {
            let mut next = self.list.first_child();
            for k in &keys {
                let Some((_, d)) = self.drawn.iter().find(|(key, _)| key == k) else {
                    continue;
                };
                let node: &web_sys::Node = d.li.as_ref();
                if next.as_ref() == Some(node) {
                    next = node.next_sibling();
                } else {
                    let _ = self.list.insert_before(node, next.as_ref());
                }
            }
            self.order = keys;
        }
        if added && stick {
            self.scroll_to_end();
        }
    }

    fn message(&self, author: Author, cmid: Option<&str>) -> Option<Element> {
        let li = el(&self.doc, "li", &cat(&["nc-msg ", author.class()]))?;
        if let Some(c) = cmid {
            attr(&li, "data-client-msg-id", c);
        }
        let body = el(&self.doc, "div", "nc-body")?;
        append(&li, &body);
        let meta = el(&self.doc, "div", "nc-meta")?;
        let time = el(&self.doc, "time", "nc-time")?;
        append(&meta, &time);
        if author == Author::Own {
            let ticks = el(&self.doc, "span", "nc-ticks")?;
            append(&meta, &ticks);
        }
        append(&li, &meta);
        Some(li)
    }

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

/// Fills `.nc-body` with text nodes and http(s) links only.
fn fill_body(doc: &Document, body: &Element, text_: &str) {
    body.set_text_content(None);
    for seg in text::linkify(text_) {
        match seg {
            Segment::Text(t) => {
                let _ = body.append_child(&doc.create_text_node(t));
            }
            Segment::Link(url) => {
                if let Some(a) = el(doc, "a", "") {
                    attr(&a, "href", url);
                    attr(&a, "target", "_blank");
                    attr(&a, "rel", "noopener noreferrer");
                    a.set_text_content(Some(url));
                    append(body, &a);
                }
            }
        }
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
            _ => Input::Visible(super::visible(&d)),
        })
    });
    let cb = f.as_ref().unchecked_ref();
    let _ = w.add_event_listener_with_callback("online", cb);
    let _ = w.add_event_listener_with_callback("offline", cb);
    let _ = doc.add_event_listener_with_callback("visibilitychange", cb);
    f.forget();
}
