//! Building the widget once: the host, its shadow root and stylesheet,
//! the launcher and the panel's elements, and the one delegated listener.

use js_sys::{Array, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement, HtmlTextAreaElement, ShadowRoot};

use super::events::on_event;
use super::{View, append, attr, el};
use crate::out::cat;
use crate::web::{Config, window};

/// The widget's stylesheet. `:host { all: initial !important }`: for
/// `!important` declarations the shadow tree's own rules beat the page's,
/// so a host page with `* { all: unset !important }` or
/// `div { display: none }` cannot hide or restyle the widget, while custom
/// properties (`--nc-primary`…, untouched by `all`) stay overridable on
/// `#neurochat-root`.
const CSS: &str = include_str!("../style.css");

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
}
