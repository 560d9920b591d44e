//! What the console draws. Every user-supplied text goes in with
//! `textContent` or as a text node, never as markup.

use neurochat_protocol::v1::{
    AgentMetricsView, AuditAction, AuditEntryView, Availability, CategoryView,
    CreateCategoryRequest, MessageKind, Page, Priority, Role, SetDisabledRequest, SetRoleRequest,
    TeamMetricsView, TicketSort, TicketStatus, TicketView, UpdateCategoryRequest,
    UpdateTicketRequest, UserView,
};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};

use super::dom::{
    after, append, attr, button, by_id, clear, document, el, el_class, el_text, focus, input,
    labelled, now_ms, select, testid, value_of,
};
use super::{Conn, Route, net, with, with_ref};
use crate::conversation::Item;
use crate::keys::{self, Shortcut};
use crate::query::Assignee;
use crate::wire;

mod account;
mod pages;
mod ticket;

pub(crate) use account::*;
pub(crate) use ticket::*;

fn app_root() -> Element {
    by_id("app").unwrap_or_else(|| {
        let a = el("div");
        attr(&a, "id", "app");
        let _ = document().body().map(|b| b.append_child(&a));
        a
    })
}

fn opts<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (label(*v).to_owned(), label(*v).replace('_', " ")))
        .collect()
}

/// A time in the browser's time zone and locale (short date and time).
fn time_text(t: time::OffsetDateTime) -> String {
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as f64;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"short".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string("default", &options)
        .as_string()
        .unwrap_or_default()
}

// ----- the shell -----

/// The top bar, banner, main area and toasts (after login).
pub(crate) fn render_shell() {
    let root = app_root();
    clear(&root);
    let _ = root.remove_attribute("aria-busy");
    let (me, admin, sound) = with_ref(|a| (a.me().cloned(), a.is_admin(), a.sound));
    let Some(me) = me else { return };
    let bar = el_class("header", "topbar");
    let brand = el_text("span", "brand", "NeuroChat");
    let nav = el("nav");
    attr(&nav, "aria-label", "Sections");
    attr(&nav, "id", "nav");
    let mut links = vec![
        ("Inbox", "#/inbox", "nav-inbox"),
        ("Metrics", "#/metrics", "nav-metrics"),
    ];
    if admin {
        links.push(("Users", "#/admin/users", "nav-users"));
        links.push(("Categories", "#/admin/categories", "nav-categories"));
        links.push(("Audit log", "#/admin/audit", "nav-audit"));
    }
    for (label, href, id) in links {
        let a = el_text("a", "", label);
        attr(&a, "href", href);
        testid(&a, id);
        append(&nav, &[&a]);
    }
    let spacer = el_class("span", "spacer");
    let avail = select(
        "availability",
        &opts(Availability::ALL, Availability::as_str),
        "offline",
    );
    attr(&avail, "id", "availability");
    {
        let s = avail.clone();
        super::dom::on(&avail, "change", move |_| {
            if let Ok(v) =
                serde_json::from_value::<Availability>(serde_json::Value::String(s.value()))
            {
                super::set_availability(v);
            }
        });
    }
    let conn = el_text("span", "conn", "offline");
    attr(&conn, "id", "conn");
    attr(&conn, "role", "status");
    testid(&conn, "connection-state");
    let sound_btn = button(
        if sound { "Sound on" } else { "Sound off" },
        "sound-toggle",
        "",
        |_| {
            let on = with(|a| {
                a.sound = !a.sound;
                a.sound
            });
            if let Some(s) = super::dom::local_storage() {
                let _ = s.set_item("neurochat.console.sound", if on { "on" } else { "off" });
            }
            if let Some(b) = by_id("sound-toggle") {
                b.set_text_content(Some(if on { "Sound on" } else { "Sound off" }));
                attr(&b, "aria-pressed", if on { "true" } else { "false" });
            }
        },
    );
    attr(&sound_btn, "id", "sound-toggle");
    attr(
        &sound_btn,
        "aria-pressed",
        if sound { "true" } else { "false" },
    );
    let user = el_text(
        "span",
        "muted",
        &format!("{} ({})", me.display_name, me.role),
    );
    testid(&user, "current-user");
    // The agent's own load from the staff directory (filled once loaded).
    let load = el_class("span", "pill");
    attr(&load, "id", "my-load");
    attr(&load, "hidden", "");
    testid(&load, "my-load");
    let logout = button("Log out", "logout", "", |_| super::logout());
    append(
        &bar,
        &[
            &brand,
            &nav,
            &spacer,
            &labelled("Availability ", &avail),
            &conn,
            &sound_btn,
        ],
    );
    if web_sys::Notification::permission() == web_sys::NotificationPermission::Default {
        let n = button("Desktop alerts", "notify-permission", "", |_| {
            if let Ok(p) = web_sys::Notification::request_permission() {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                    if let Some(b) = by_id("notify-permission") {
                        b.remove();
                    }
                });
            }
        });
        attr(&n, "id", "notify-permission");
        append(&bar, &[&n]);
    }
    append(&bar, &[&user, &load, &account::account_menu(), &logout]);
    let banner = el_class("div", "banner");
    attr(&banner, "id", "banner");
    attr(&banner, "role", "status");
    attr(&banner, "hidden", "");
    testid(&banner, "banner");
    let main = el("main");
    attr(&main, "id", "main");
    let toasts = el_class("div", "toasts");
    attr(&toasts, "id", "toasts");
    attr(&toasts, "aria-live", "polite");
    testid(&toasts, "toasts");
    append(&root, &[&bar, &banner, &main, &toasts]);
    render_conn();
    render_availability();
    render_my_load();
}

/// The top bar's load chip: the signed-in agent's open tickets and
/// capacity, from the staff directory.
pub(crate) fn render_my_load() {
    let Some(chip) = by_id("my-load") else {
        return;
    };
    let row = with_ref(|a| {
        a.me()
            .and_then(|m| crate::staff::mine(&a.staff, m.id))
            .cloned()
    });
    let Some(row) = row else {
        attr(&chip, "hidden", "");
        return;
    };
    let _ = chip.remove_attribute("hidden");
    chip.set_text_content(Some(&format!("Load {}", crate::staff::load_text(&row))));
    attr(&chip, "data-open-tickets", &row.open_tickets.to_string());
    attr(&chip, "data-capacity", &row.capacity.to_string());
    attr(
        &chip,
        "data-full",
        if crate::staff::is_full(&row) {
            "true"
        } else {
            "false"
        },
    );
    attr(
        &chip,
        "title",
        "Open tickets assigned to you / your capacity",
    );
}

/// Whether the assignee `<select>` has the focus (the agent is choosing:
/// redrawing the header would close the list under them).
pub(crate) fn assign_select_focused() -> bool {
    document()
        .active_element()
        .is_some_and(|e| e.get_attribute("data-testid").as_deref() == Some("assign-select"))
}

/// The connection state chip and the banner.
pub(crate) fn render_conn() {
    let (conn, banner) = with_ref(|a| (a.conn, a.banner.clone()));
    if let Some(c) = by_id("conn") {
        attr(&c, "data-state", conn.as_str());
        c.set_text_content(Some(match conn {
            Conn::Online => "Live",
            Conn::Connecting => "Connecting…",
            Conn::Offline => "Offline",
        }));
    }
    if let Some(b) = by_id("banner") {
        match banner.filter(|_| conn != Conn::Online) {
            Some(text) => {
                b.set_text_content(Some(&text));
                let _ = b.remove_attribute("hidden");
            }
            None => attr(&b, "hidden", ""),
        }
    }
}

/// The availability switch.
pub(crate) fn render_availability() {
    let v = with_ref(|a| a.live.availability);
    if let (Some(v), Some(s)) = (v, by_id("availability"))
        && let Some(s) = s.dyn_ref::<web_sys::HtmlSelectElement>()
    {
        s.set_value(v.as_str());
    }
}

/// The page of the current route.
pub(crate) fn render_main() {
    let Some(main) = by_id("main") else { return };
    // Admin pages for admins only: an agent who types their address lands
    // in the inbox (the server would refuse the data anyway).
    // The forgotten-password pages are for the signed out: a signed-in
    // agent who opens one lands in the inbox too.
    let denied = with_ref(|a| (a.route.admin_only() && !a.is_admin()) || a.route.signed_out_only());
    if denied {
        with(|a| a.route = Route::Inbox);
        let _ = super::dom::window()
            .location()
            .set_hash(&Route::Inbox.hash());
    }
    let route = with_ref(|a| a.route.clone());
    if let Some(nav) = by_id("nav") {
        let current = match route {
            Route::Inbox | Route::Ticket(_) => "#/inbox".to_owned(),
            ref r => r.hash(),
        };
        let links = nav.children();
        for i in 0..links.length() {
            if let Some(a) = links.item(i) {
                if a.get_attribute("href").as_deref() == Some(current.as_str()) {
                    attr(&a, "aria-current", "page");
                } else {
                    let _ = a.remove_attribute("aria-current");
                }
            }
        }
    }
    match route {
        Route::Inbox | Route::Ticket(_) => {
            if by_id("ticket-list").is_none() {
                clear(&main);
                render_workspace(&main);
            }
            render_ticket_pane();
            render_inbox_list();
        }
        Route::Metrics => {
            clear(&main);
            pages::render_metrics(&main);
        }
        Route::Users => {
            clear(&main);
            pages::render_users(&main);
        }
        Route::Categories => {
            clear(&main);
            pages::render_categories(&main);
        }
        Route::Audit => {
            clear(&main);
            pages::render_audit(&main);
        }
        Route::ChangePassword => {
            clear(&main);
            account::render_change_password(&main);
        }
        Route::Forgot | Route::Reset => {}
    }
}

// ----- inbox -----

fn render_workspace(main: &Element) {
    let ws = el_class("div", "workspace");
    let inbox = el_class("section", "inbox");
    attr(&inbox, "aria-label", "Inbox");
    let filters = el_class("div", "filters");
    attr(&filters, "role", "search");
    let f = with_ref(|a| a.live.inbox.filter.clone());
    let status_value = match f.statuses.as_slice() {
        [] => "all".to_owned(),
        [s] => s.as_str().to_owned(),
        _ => "open".to_owned(),
    };
    let mut status_opts = vec![("open".to_owned(), "open (new + in progress)".to_owned())];
    status_opts.extend(opts(TicketStatus::ALL, TicketStatus::as_str));
    status_opts.push(("all".into(), "all".into()));
    let status = select("filter-status", &status_opts, &status_value);
    attr(&status, "id", "filter-status");
    let assignee = select(
        "filter-assignee",
        &Assignee::ALL
            .iter()
            .map(|a| (a.as_str().to_owned(), a.as_str().to_owned()))
            .collect::<Vec<_>>(),
        f.assignee.as_str(),
    );
    attr(&assignee, "id", "filter-assignee");
    let mut pr = vec![("".to_owned(), "any".to_owned())];
    pr.extend(opts(Priority::ALL, Priority::as_str));
    let priority = select(
        "filter-priority",
        &pr,
        f.priority.map_or("", Priority::as_str),
    );
    attr(&priority, "id", "filter-priority");
    let category = select("filter-category", &[("".into(), "any".into())], "");
    attr(&category, "id", "filter-category");
    let sort = select(
        "filter-sort",
        &opts(TicketSort::ALL, TicketSort::as_str),
        f.sort.as_str(),
    );
    attr(&sort, "id", "filter-sort");
    let search = input("search", "filter-q", "Search tickets…");
    attr(&search, "id", "filter-q");
    search.set_value(&f.q);
    let search_label = labelled("Search", &search);
    search_label.set_class_name("wide");
    append(
        &filters,
        &[
            &labelled("Status", &status),
            &labelled("Assignee", &assignee),
            &labelled("Priority", &priority),
            &labelled("Category", &category),
            &labelled("Sort", &sort),
            &search_label,
        ],
    );
    for s in [&status, &assignee, &priority, &category, &sort] {
        super::dom::on(s, "change", |_| apply_filters());
    }
    super::dom::on(&search, "input", |_| {
        let q = value_of("filter-q");
        after(300.0, move || {
            if value_of("filter-q") == q {
                apply_filters();
            }
        });
    });
    let list = el_class("ul", "ticket-list");
    attr(&list, "id", "ticket-list");
    attr(&list, "aria-label", "Tickets");
    testid(&list, "inbox-list");
    let more = button("More tickets", "inbox-more", "more", |_| super::load_more());
    attr(&more, "id", "inbox-more");
    attr(&more, "hidden", "");
    append(&inbox, &[&filters, &list, &more]);
    let pane = el_class("section", "ticket-pane");
    attr(&pane, "id", "ticket-pane");
    attr(&pane, "aria-label", "Ticket");
    append(&ws, &[&inbox, &pane]);
    append(main, &[&ws]);
    render_filters_categories();
}

fn apply_filters() {
    let status = value_of("filter-status");
    let statuses = match status.as_str() {
        "open" => vec![TicketStatus::New, TicketStatus::InProgress],
        "all" => vec![],
        s => serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map(|s| vec![s])
            .unwrap_or_default(),
    };
    let choice = |id: &str| serde_json::Value::String(value_of(id));
    with(|a| {
        let f = &mut a.live.inbox.filter;
        f.statuses = statuses;
        f.assignee = Assignee::parse(&value_of("filter-assignee")).unwrap_or_default();
        f.priority = serde_json::from_value(choice("filter-priority")).ok();
        f.category_id = Uuid::try_parse(&value_of("filter-category")).ok();
        f.sort = serde_json::from_value(choice("filter-sort")).unwrap_or_default();
        f.q = value_of("filter-q");
    });
    super::load_inbox();
}

/// The category filter's options (once categories are loaded).
pub(crate) fn render_filters_categories() {
    let Some(s) = by_id("filter-category") else {
        return;
    };
    let (cats, current) = with_ref(|a| (a.categories.clone(), a.live.inbox.filter.category_id));
    clear(&s);
    let mut options = vec![("".to_owned(), "any".to_owned())];
    options.extend(
        cats.iter()
            .filter(|c| !c.archived)
            .map(|c| (c.id.to_string(), c.name.clone())),
    );
    for (v, l) in options {
        let o = el_text("option", "", &l);
        attr(&o, "value", &v);
        append(&s, &[&o]);
    }
    if let Some(s) = s.dyn_ref::<web_sys::HtmlSelectElement>() {
        s.set_value(&current.map(|c| c.to_string()).unwrap_or_default());
    }
}

/// The inbox rows (and the tab title's count of new tickets).
pub(crate) fn render_inbox_list() {
    let new_count = with_ref(|a| a.live.inbox.new_count());
    document().set_title(&if new_count > 0 {
        format!("({new_count}) NeuroChat console")
    } else {
        "NeuroChat console".to_owned()
    });
    let Some(list) = by_id("ticket-list") else {
        return;
    };
    let rows: Vec<(TicketView, u64, bool)> = with_ref(|a| {
        a.live
            .inbox
            .rows()
            .into_iter()
            .map(|t| {
                (
                    t.clone(),
                    a.live.inbox.unread(t.id),
                    a.live.inbox.is_new(t.id),
                )
            })
            .collect()
    });
    let open = with_ref(|a| a.live.conv.as_ref().map(|c| c.ticket_id));
    let me = with_ref(|a| a.me().map(|m| m.id));
    clear(&list);
    if rows.is_empty() {
        let empty = el_text(
            "li",
            "empty",
            if with_ref(|a| a.live.inbox.loaded()) {
                "No tickets match."
            } else {
                "Loading…"
            },
        );
        append(&list, &[&empty]);
    }
    for (t, unread, is_new) in rows {
        let li = el_class("li", "inbox-row");
        testid(&li, "inbox-row");
        attr(&li, "data-ticket-id", &t.id.to_string());
        attr(&li, "data-status", t.status.as_str());
        attr(&li, "data-unread", &unread.to_string());
        attr(&li, "tabindex", "0");
        attr(&li, "role", "link");
        if open == Some(t.id) {
            attr(&li, "aria-current", "true");
            attr(&li, "data-open", "true");
        }
        let subject = el_text("span", "subject", &format!("#{} {}", t.number, t.subject));
        let badges = el("span");
        if is_new {
            let b = el_text("span", "badge new", "new");
            testid(&b, "new-badge");
            append(&badges, &[&b]);
        }
        if unread > 0 {
            let b = el_text("span", "badge", &unread.to_string());
            testid(&b, "unread-count");
            attr(&b, "aria-label", &format!("{unread} unread"));
            append(&badges, &[&b]);
        }
        let meta = el_class("span", "meta");
        let assignee = match t.assignee_id {
            None => "unassigned".to_owned(),
            Some(id) if Some(id) == me => "you".to_owned(),
            Some(id) => with(|a| a.name_of(id)).unwrap_or_else(|| "assigned".into()),
        };
        let st = el_text("span", "pill", &t.status.as_str().replace('_', " "));
        let pr = el_text(
            "span",
            &format!("pill {}", t.priority.as_str()),
            t.priority.as_str(),
        );
        let who = el_text("span", "", &assignee);
        testid(&who, "row-assignee");
        append(
            &meta,
            &[
                &st,
                &pr,
                &who,
                &el_text("span", "", &time_text(t.updated_at)),
            ],
        );
        append(&li, &[&subject, &badges, &meta]);
        let id = t.id;
        if t.assignee_id.is_none() {
            // One click from the queue: open it and claim it.
            let claim = button("Claim", "row-claim", "row-claim", move |e: Event| {
                e.stop_propagation();
                super::navigate(Route::Ticket(id));
                super::claim(id);
            });
            attr(
                &claim,
                "aria-label",
                &format!("Claim #{} {}", t.number, t.subject),
            );
            append(&meta, &[&claim]);
        }
        super::dom::on(&li, "click", move |_| super::navigate(Route::Ticket(id)));
        super::dom::on(&li, "keydown", move |e| {
            if e.dyn_ref::<KeyboardEvent>()
                .is_some_and(|k| k.key() == "Enter")
            {
                super::navigate(Route::Ticket(id));
            }
        });
        append(&list, &[&li]);
    }
    if let Some(more) = by_id("inbox-more") {
        if with_ref(|a| a.live.inbox.next_cursor().is_some()) {
            let _ = more.remove_attribute("hidden");
        } else {
            attr(&more, "hidden", "");
        }
    }
}

// ----- notifications -----

/// Toasts shown at once, at most.
const MAX_TOASTS: u32 = 4;
/// The shortest time between two beeps.
const BEEP_GAP_MS: f64 = 2_000.0;

thread_local! {
    static LAST_BEEP: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// A short message in the corner (5 s).
pub(crate) fn toast(text: &str) {
    let Some(t) = by_id("toasts") else { return };
    // A burst (sixty new tickets at once) must not bury the page: the
    // newest few stay.
    while t.child_element_count() >= MAX_TOASTS {
        match t.first_element_child() {
            Some(old) => old.remove(),
            None => break,
        }
    }
    let div = el_text("div", "toast", text);
    testid(&div, "toast");
    append(&t, &[&div]);
    after(5_000.0, move || div.remove());
}

/// A toast, the sound (unless muted) and a desktop notification (when
/// permitted and the tab is hidden).
pub(crate) fn notify(title: &str, body: &str) {
    toast(&format!("{title}: {body}"));
    if with_ref(|a| a.sound) && now_ms() - LAST_BEEP.with(|b| b.get()) > BEEP_GAP_MS {
        LAST_BEEP.with(|b| b.set(now_ms()));
        beep();
    }
    let hidden = document().visibility_state() != web_sys::VisibilityState::Visible;
    if hidden && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
        let o = web_sys::NotificationOptions::new();
        o.set_body(body);
        // One notification replaces the last: a burst is one popup.
        o.set_tag("neurochat-console");
        let _ = web_sys::Notification::new_with_options(title, &o);
    }
}

fn beep() {
    let Ok(ctx) = web_sys::AudioContext::new() else {
        return;
    };
    let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
        return;
    };
    osc.frequency().set_value(880.0);
    gain.gain().set_value(0.05);
    let _ = osc.connect_with_audio_node(&gain);
    let _ = gain.connect_with_audio_node(&ctx.destination());
    let _ = osc.start();
    let _ = osc.stop_with_when(ctx.current_time() + 0.15);
    after(500.0, move || {
        let _ = ctx.close();
    });
}

// ----- keyboard -----

/// Document-wide shortcuts (see [`crate::keys`]).
pub(crate) fn on_key(e: Event) {
    let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    if with_ref(|a| a.session.is_none()) {
        return;
    }
    let in_field = e
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    let Some(s) = keys::shortcut(
        &k.key(),
        in_field,
        k.ctrl_key() || k.alt_key() || k.meta_key(),
    ) else {
        return;
    };
    match s {
        Shortcut::Next | Shortcut::Previous => {
            let target = with_ref(|a| {
                let rows = a.live.inbox.rows();
                let open = a.live.conv.as_ref().map(|c| c.ticket_id);
                let cur = rows.iter().position(|t| Some(t.id) == open);
                keys::step(cur, rows.len(), s == Shortcut::Next).map(|i| rows[i].id)
            });
            if let Some(id) = target {
                super::navigate(Route::Ticket(id));
            }
        }
        Shortcut::Claim => {
            if let Some(id) = with_ref(|a| {
                a.live
                    .open
                    .as_ref()
                    .filter(|t| t.assignee_id.is_none())
                    .map(|t| t.id)
            }) {
                super::claim(id);
            }
        }
        Shortcut::Reply => {
            if let Some(c) = by_id("composer") {
                e.prevent_default();
                focus(&c);
            }
        }
        Shortcut::Help => show_help(),
        Shortcut::Close => {
            if let Some(h) = by_id("help") {
                h.remove();
            }
        }
    }
}

fn show_help() {
    if by_id("help").is_some() {
        return;
    }
    let back = el_class("div", "dialog-back");
    attr(&back, "id", "help");
    testid(&back, "shortcuts-help");
    let d = el_class("div", "dialog");
    attr(&d, "role", "dialog");
    attr(&d, "aria-modal", "true");
    attr(&d, "aria-labelledby", "help-title");
    let h = el_text("h2", "", "Keyboard shortcuts");
    attr(&h, "id", "help-title");
    let dl = el("dl");
    for (key, what) in keys::LIST {
        let dt = el("dt");
        append(&dt, &[&el_text("kbd", "", key)]);
        append(&dl, &[&dt, &el_text("dd", "", what)]);
    }
    let close = button("Close", "help-close", "", |_| {
        if let Some(h) = by_id("help") {
            h.remove();
        }
    });
    append(&d, &[&h, &dl, &close]);
    append(&back, &[&d]);
    let _ = document().body().map(|b| b.append_child(&back));
    focus(&close);
}
