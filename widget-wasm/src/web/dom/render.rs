//! Redrawing from the state: labels, the header and banners, earlier
//! conversations and the message list (only what changed is touched).

use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

use super::{Drawn, View, append, attr, el, hide, set_text};
use crate::i18n;
use crate::out::{cat, num, uuid_str};
use crate::state::{Author, Conn, State, Status, Tick};
use crate::text::{self, Segment};
use crate::web::Config;

/// A message to show: (key, author, body, seq, client_msg_id, created_at).
type Want<'a> = (
    String,
    Author,
    &'a str,
    Option<u64>,
    Option<&'a str>,
    &'a str,
);

impl View {
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
