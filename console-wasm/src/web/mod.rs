//! The browser side (wasm32 only): the DOM ([`dom`], [`views`]), REST
//! ([`net`]), the WebSocket and timers (here). The decisions are the pure
//! modules' ([`crate::inbox`], [`crate::conversation`], …); this layer
//! feeds them events and draws what they hold.

mod dom;
mod net;
mod views;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use neurochat_protocol::v1::{
    Availability, CategoryView, ClientFrame, ErrorCode, Role, ServerFrame, TicketChange,
    TicketView, UserView,
};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::backoff::Backoff;
use crate::conversation::Conversation;
use crate::inbox::{Change, Inbox};
use crate::query::InboxFilter;
use crate::session::{self, STORAGE_KEY, Stored};
use crate::wire;
use dom::{after, cancel, now_ms};

/// The connection to the gateway, as shown (`data-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Conn {
    /// Not connected (logged out, or waiting to reconnect).
    #[default]
    Offline,
    /// Opening or authenticating.
    Connecting,
    /// `hello` received.
    Online,
}

impl Conn {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Conn::Offline => "offline",
            Conn::Connecting => "connecting",
            Conn::Online => "online",
        }
    }
}

/// The page the console shows (`location.hash`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Route {
    /// `#/inbox`, or `#/ticket/<id>` with that ticket open.
    #[default]
    Inbox,
    /// `#/ticket/<id>`.
    Ticket(Uuid),
    /// `#/metrics`.
    Metrics,
    /// `#/admin/users`.
    Users,
    /// `#/admin/categories`.
    Categories,
    /// `#/admin/audit`.
    Audit,
}

impl Route {
    fn parse(hash: &str) -> Route {
        let h = hash.trim_start_matches('#').trim_start_matches('/');
        match h.split('/').collect::<Vec<_>>().as_slice() {
            ["ticket", id] => Uuid::try_parse(id).map_or(Route::Inbox, Route::Ticket),
            ["metrics"] => Route::Metrics,
            ["admin", "users"] => Route::Users,
            ["admin", "categories"] => Route::Categories,
            ["admin", "audit"] => Route::Audit,
            _ => Route::Inbox,
        }
    }

    pub(crate) fn hash(&self) -> String {
        match self {
            Route::Inbox => "#/inbox".into(),
            Route::Ticket(id) => format!("#/ticket/{id}"),
            Route::Metrics => "#/metrics".into(),
            Route::Users => "#/admin/users".into(),
            Route::Categories => "#/admin/categories".into(),
            Route::Audit => "#/admin/audit".into(),
        }
    }
}

/// Everything the page holds.
#[derive(Default)]
pub(crate) struct App {
    pub(crate) session: Option<Stored>,
    pub(crate) refreshing: bool,
    refresh_timer: Option<i32>,
    pub(crate) route: Route,
    pub(crate) inbox: Inbox,
    pub(crate) open: Option<TicketView>,
    pub(crate) conv: Option<Conversation>,
    /// Someone else won the claim of the open ticket: who.
    pub(crate) claimed_notice: Option<String>,
    pub(crate) users: HashMap<Uuid, UserView>,
    users_asked: HashSet<Uuid>,
    pub(crate) categories: Vec<CategoryView>,
    /// Staff (agents and admins) an admin may assign to.
    pub(crate) staff: Vec<UserView>,
    pub(crate) availability: Option<Availability>,
    ws: Option<WebSocket>,
    ws_gen: u32,
    pub(crate) conn: Conn,
    backoff: Backoff,
    reconnect_timer: Option<i32>,
    next_req: u64,
    inbox_req: Option<u64>,
    sub_req: Option<(u64, Uuid)>,
    claim_req: Option<(u64, Uuid)>,
    read_sent: HashMap<Uuid, u64>,
    typing_sent_ms: f64,
    typing_stop_timer: Option<i32>,
    pub(crate) sound: bool,
    /// The message of the top banner (session or connection trouble).
    pub(crate) banner: Option<String>,
}

impl App {
    pub(crate) fn me(&self) -> Option<&UserView> {
        self.session.as_ref().map(|s| &s.user)
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.me().is_some_and(|u| u.role == Role::Admin)
    }

    /// A user's display name, if known (asks for it otherwise).
    pub(crate) fn name_of(&mut self, id: Uuid) -> Option<String> {
        if let Some(u) = self.users.get(&id) {
            return Some(u.display_name.clone());
        }
        if self.users_asked.insert(id) {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(u) = net::get::<UserView>(&format!("/api/v1/users/{id}")).await {
                    with(|a| a.users.insert(u.id, u));
                    views::refresh_names();
                }
            });
        }
        None
    }

    fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }
}

thread_local! {
    static APP: RefCell<App> = RefCell::new(App::default());
}

/// Runs `f` on the state. Never call the DOM's event dispatch (or another
/// `with`) from inside `f`.
pub(crate) fn with<R>(f: impl FnOnce(&mut App) -> R) -> R {
    APP.with(|a| f(&mut a.borrow_mut()))
}

/// Reads the state.
pub(crate) fn with_ref<R>(f: impl FnOnce(&App) -> R) -> R {
    APP.with(|a| f(&a.borrow()))
}

/// Starts the console (called by the glue's `init()`).
#[wasm_bindgen(start)]
pub fn start() {
    let sound = dom::local_storage()
        .and_then(|s| s.get_item("neurochat.console.sound").ok().flatten())
        .is_none_or(|v| v != "off");
    with(|a| {
        a.sound = sound;
        a.route = Route::parse(&dom::window().location().hash().unwrap_or_default());
    });
    dom::on(&dom::window(), "hashchange", |_| {
        let route = Route::parse(&dom::window().location().hash().unwrap_or_default());
        navigate(route);
    });
    dom::on(&dom::document(), "keydown", views::on_key);
    let stored = dom::session_storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|text| wire::parse::<Stored>(&text).ok())
        .filter(|s| session::refreshable(s, now_ms()));
    match stored {
        Some(s) => {
            // The access token may have expired while the tab slept: rotate
            // first, then start.
            with(|a| a.session = Some(s));
            views::render_loading();
            wasm_bindgen_futures::spawn_local(async {
                match net::refresh().await {
                    Ok(()) => logged_in(),
                    Err(e) if e.code == ErrorCode::Unavailable => logged_in(),
                    Err(_) => {}
                }
            });
        }
        None => views::render_login(None),
    }
}

/// Stores a new session (login or refresh) and schedules the next refresh.
pub(crate) fn session_started(stored: Stored, fresh_login: bool) {
    if let Some(s) = dom::session_storage() {
        let _ = s.set_item(STORAGE_KEY, &wire::body(&stored));
    }
    let delay = session::refresh_delay_ms(
        now_ms(),
        session::expiry_ms(stored.tokens.access_expires_at),
    );
    with(|a| {
        if fresh_login {
            a.users.insert(stored.user.id, stored.user.clone());
        }
        a.session = Some(stored);
        if let Some(t) = a.refresh_timer.take() {
            cancel(t);
        }
        a.refresh_timer = Some(after(delay, || {
            with(|a| a.refresh_timer = None);
            wasm_bindgen_futures::spawn_local(async {
                if net::refresh().await.is_err() && with_ref(|a| a.session.is_some()) {
                    // Unreachable server: try again soon.
                    dom::after(10_000.0, || {
                        wasm_bindgen_futures::spawn_local(async {
                            let _ = net::refresh().await;
                        })
                    });
                }
            });
        }));
    });
}

/// The session is over (logout, refresh refused): back to the login form.
pub(crate) fn session_ended(why: Option<&str>) {
    if let Some(s) = dom::session_storage() {
        let _ = s.remove_item(STORAGE_KEY);
    }
    let ws = with(|a| {
        if let Some(t) = a.refresh_timer.take() {
            cancel(t);
        }
        if let Some(t) = a.reconnect_timer.take() {
            cancel(t);
        }
        a.session = None;
        a.conn = Conn::Offline;
        a.ws_gen += 1;
        a.open = None;
        a.conv = None;
        a.inbox = Inbox::default();
        a.ws.take()
    });
    if let Some(ws) = ws {
        let _ = ws.close();
    }
    dom::document().set_title("NeuroChat console");
    views::render_login(why);
}

/// After login (or a restored session): the shell, the data, the socket.
pub(crate) fn logged_in() {
    let Some(me) = with_ref(|a| a.me().cloned()) else {
        return;
    };
    if !me.role.is_staff() {
        session_ended(Some("The console is for agents and admins."));
        return;
    }
    let read = dom::local_storage()
        .and_then(|s| s.get_item(&read_key(me.id)).ok().flatten())
        .and_then(|t| wire::parse::<HashMap<Uuid, u64>>(&t).ok())
        .unwrap_or_default();
    with(|a| {
        a.users.insert(me.id, me.clone());
        a.inbox = Inbox::new(me.id, InboxFilter::default());
        a.inbox.set_read_positions(read);
    });
    views::render_shell();
    load_inbox();
    load_reference_data();
    connect();
    let route = with_ref(|a| a.route.clone());
    navigate(route);
}

fn read_key(me: Uuid) -> String {
    format!("neurochat.console.read.{me}")
}

/// Persists read positions (unread counts survive a reload).
pub(crate) fn save_read_positions() {
    let data = with_ref(|a| a.me().map(|m| (m.id, wire::body(a.inbox.read_positions()))));
    if let (Some((me, text)), Some(s)) = (data, dom::local_storage()) {
        let _ = s.set_item(&read_key(me), &text);
    }
}

/// Categories, the agent's availability, and (admins) the staff to assign.
fn load_reference_data() {
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(c) = net::get::<Vec<CategoryView>>("/api/v1/categories").await {
            with(|a| a.categories = c);
            views::render_filters_categories();
            views::render_ticket_head();
        }
        let me = with_ref(|a| a.me().map(|m| m.id));
        if let Some(me) = me
            && let Ok(agent) =
                net::get::<neurochat_protocol::v1::AgentView>(&format!("/api/v1/users/{me}/agent"))
                    .await
        {
            with(|a| a.availability = Some(agent.availability));
            views::render_availability();
        }
        if with_ref(App::is_admin) {
            let mut staff = Vec::new();
            for role in [Role::Agent, Role::Admin] {
                let q = crate::query::users_query("", Some(role), None, 200);
                if let Ok(p) =
                    net::get::<neurochat_protocol::v1::Page<UserView>>(&format!("/api/v1/users{q}"))
                        .await
                {
                    staff.extend(p.items.into_iter().filter(|u| !u.disabled));
                }
            }
            with(|a| {
                for u in &staff {
                    a.users.insert(u.id, u.clone());
                }
                a.staff = staff;
            });
            views::render_ticket_head();
        }
    });
}

/// (Re)loads the inbox's first page with the current filters.
pub(crate) fn load_inbox() {
    let q = with_ref(|a| a.inbox.filter.to_query(None, crate::query::PAGE));
    wasm_bindgen_futures::spawn_local(async move {
        match net::get(&format!("/api/v1/tickets{q}")).await {
            Ok(page) => {
                with(|a| a.inbox.replace(page));
                views::render_inbox_list();
            }
            Err(e) => views::toast(&format!("Could not load the inbox: {}", e.message)),
        }
    });
}

/// The next page of the inbox.
pub(crate) fn load_more() {
    let q = with_ref(|a| {
        a.inbox
            .next_cursor()
            .map(|c| a.inbox.filter.to_query(Some(c), crate::query::PAGE))
    });
    let Some(q) = q else { return };
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(page) = net::get(&format!("/api/v1/tickets{q}")).await {
            with(|a| a.inbox.append(page));
            views::render_inbox_list();
        }
    });
}

/// Shows a route (and writes it to the address bar).
pub(crate) fn navigate(route: Route) {
    let hash = route.hash();
    if dom::window().location().hash().unwrap_or_default() != hash {
        let _ = dom::window().location().set_hash(&hash);
    }
    let logged_in = with_ref(|a| a.session.is_some());
    with(|a| a.route = route.clone());
    if !logged_in || dom::by_id("main").is_none() {
        return;
    }
    match route {
        Route::Ticket(id) => open_ticket(id),
        Route::Inbox => {
            close_ticket();
            views::render_main();
        }
        _ => {
            close_ticket();
            views::render_main();
        }
    }
}

/// Opens a ticket: its state, the latest page of history, then the live
/// conversation (subscribe from the last `seq` held).
pub(crate) fn open_ticket(id: Uuid) {
    let already = with_ref(|a| a.conv.as_ref().map(|c| c.ticket_id) == Some(id));
    if !already {
        close_ticket();
        let me = with_ref(|a| a.me().map(|m| m.id)).unwrap_or_default();
        with(|a| {
            a.conv = Some(Conversation::new(id, me));
            a.open = a.inbox.get(id).cloned();
            a.claimed_notice = None;
        });
    }
    views::render_main();
    if already {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match net::get::<TicketView>(&format!("/api/v1/tickets/{id}")).await {
            Ok(t) => {
                with(|a| {
                    if a.conv.as_ref().is_some_and(|c| c.ticket_id == id) {
                        a.open = Some(t.clone());
                    }
                    a.inbox.upsert(t);
                });
                views::render_ticket_head();
                views::render_side();
                views::render_inbox_list();
            }
            Err(e) => {
                views::toast(&format!("Could not open the ticket: {}", e.message));
                return;
            }
        }
        let page = net::get::<neurochat_protocol::v1::Page<neurochat_protocol::v1::MessageView>>(
            &format!("/api/v1/tickets/{id}/messages?limit=50"),
        )
        .await;
        if let Ok(page) = page {
            let full = page.items.len() >= 50;
            with(|a| {
                if let Some(c) = a.conv.as_mut().filter(|c| c.ticket_id == id) {
                    c.insert_page(page.items);
                    c.more_before = full && c.first_seq().is_some_and(|s| s > 1);
                }
            });
        }
        // Ticks of messages read before this page load.
        if let Ok(receipts) = net::get::<Vec<neurochat_protocol::v1::ReceiptView>>(&format!(
            "/api/v1/tickets/{id}/receipts"
        ))
        .await
        {
            with(|a| {
                if let Some(c) = a.conv.as_mut().filter(|c| c.ticket_id == id) {
                    for r in receipts {
                        c.receipt(r);
                    }
                }
            });
        }
        views::render_messages();
        subscribe_open();
        mark_seen();
    });
}

/// Leaves the open ticket (unsubscribes).
fn close_ticket() {
    let frames = with(|a| {
        let Some(c) = a.conv.take() else {
            return Vec::new();
        };
        a.open = None;
        a.claimed_notice = None;
        let mut f = vec![ClientFrame::TypingStop {
            ticket_id: c.ticket_id,
        }];
        let req = a.req();
        f.push(ClientFrame::Unsubscribe {
            req,
            ticket_id: c.ticket_id,
        });
        a.sub_req = None;
        f
    });
    for f in frames {
        send(&f);
    }
}

/// Subscribes the open ticket from its last `seq` (when online).
fn subscribe_open() {
    let frame = with(|a| {
        if a.conn != Conn::Online {
            return None;
        }
        let (id, last) = a.conv.as_ref().map(|c| (c.ticket_id, c.last_seq()))?;
        let req = a.req();
        a.sub_req = Some((req, id));
        Some(ClientFrame::Subscribe {
            req,
            ticket_id: id,
            last_seq: last,
        })
    });
    if let Some(f) = frame {
        send(&f);
    }
}

/// Sends what the outbox holds (when subscribed).
pub(crate) fn flush_outbox() {
    let frames = with(|a| {
        if a.conn != Conn::Online || a.sub_req.is_some() {
            return Vec::new();
        }
        let mut next = a.next_req;
        let frames = a
            .conv
            .as_mut()
            .map(|c| c.take_sends(&mut next))
            .unwrap_or_default();
        a.next_req = next;
        frames
    });
    for f in &frames {
        send(f);
    }
    if !frames.is_empty() {
        views::render_messages();
    }
}

/// The agent sees the open conversation: receipts and unread counts move.
pub(crate) fn mark_seen() {
    let visible = dom::document().visibility_state() == web_sys::VisibilityState::Visible;
    let frame = with(|a| {
        let c = a.conv.as_ref()?;
        let (id, last, foreign) = (c.ticket_id, c.last_seq(), c.last_foreign_seq());
        if !visible {
            return None;
        }
        a.inbox.mark_read(id, last);
        let sent = a.read_sent.get(&id).copied().unwrap_or(0);
        if foreign > sent && a.conn == Conn::Online && a.sub_req.is_none() {
            a.read_sent.insert(id, foreign);
            return Some(ClientFrame::MarkRead {
                ticket_id: id,
                seq: foreign,
            });
        }
        None
    });
    if let Some(f) = frame {
        send(&f);
    }
    save_read_positions();
    views::render_inbox_list();
}

/// Sends one frame if the socket is open.
pub(crate) fn send(frame: &ClientFrame) {
    let ws = with_ref(|a| a.ws.clone());
    if let Some(ws) = ws
        && ws.ready_state() == WebSocket::OPEN
    {
        let _ = ws.send_with_str(&wire::client_frame(frame));
    }
}

/// Sends a request frame built with a fresh `req` number; `false` when
/// offline.
pub(crate) fn request(build: impl FnOnce(u64) -> ClientFrame) -> Option<u64> {
    let (online, req) = with(|a| (a.conn == Conn::Online, a.req()));
    if !online {
        return None;
    }
    send(&build(req));
    Some(req)
}

/// Claims a ticket (over the socket; REST when offline).
pub(crate) fn claim(id: Uuid) {
    with(|a| a.claimed_notice = None);
    if let Some(req) = request(|req| ClientFrame::Claim { req, ticket_id: id }) {
        with(|a| a.claim_req = Some((req, id)));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match net::json::<TicketView>("POST", &format!("/api/v1/tickets/{id}/claim"), None).await {
            Ok(t) => {
                with(|a| {
                    a.inbox.upsert(t.clone());
                    if a.open.as_ref().is_some_and(|o| o.id == t.id) {
                        a.open = Some(t);
                    }
                });
                views::render_ticket_head();
                views::render_inbox_list();
            }
            Err(e) if e.code == ErrorCode::AlreadyClaimed => claim_lost(id),
            Err(e) => views::toast(&format!("Claim failed: {}", e.message)),
        }
    });
}

/// Another agent won the claim: find out who and say so.
fn claim_lost(id: Uuid) {
    with(|a| a.claimed_notice = Some("Another agent already claimed this ticket.".into()));
    views::render_ticket_head();
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(t) = net::get::<TicketView>(&format!("/api/v1/tickets/{id}")).await else {
            return;
        };
        let name = match t.assignee_id {
            Some(who) => match net::get::<UserView>(&format!("/api/v1/users/{who}")).await {
                Ok(u) => {
                    let n = u.display_name.clone();
                    with(|a| a.users.insert(u.id, u));
                    n
                }
                Err(_) => "another agent".into(),
            },
            None => "another agent".into(),
        };
        with(|a| {
            a.claimed_notice = Some(format!("Already claimed by {name}."));
            a.inbox.upsert(t.clone());
            if a.open.as_ref().is_some_and(|o| o.id == t.id) {
                a.open = Some(t);
            }
        });
        views::render_ticket_head();
        views::render_inbox_list();
    });
}

/// Typing indicator of the composer (throttled to one start per 2 s; a
/// stop after 4 s without keys).
pub(crate) fn composer_typed() {
    let (frame, id) = with(|a| {
        let Some(id) = a.conv.as_ref().map(|c| c.ticket_id) else {
            return (None, None);
        };
        let now = now_ms();
        let f = (now - a.typing_sent_ms > 2_000.0).then(|| {
            a.typing_sent_ms = now;
            ClientFrame::TypingStart { ticket_id: id }
        });
        if let Some(t) = a.typing_stop_timer.take() {
            cancel(t);
        }
        (f, Some(id))
    });
    if let Some(f) = frame {
        send(&f);
    }
    if let Some(id) = id {
        let t = after(4_000.0, move || typing_stopped(id));
        with(|a| a.typing_stop_timer = Some(t));
    }
}

/// The composer went quiet (or sent).
pub(crate) fn typing_stopped(id: Uuid) {
    with(|a| {
        a.typing_sent_ms = 0.0;
        if let Some(t) = a.typing_stop_timer.take() {
            cancel(t);
        }
    });
    send(&ClientFrame::TypingStop { ticket_id: id });
}

/// A random `client_msg_id`.
pub(crate) fn client_msg_id() -> String {
    let mut bytes = [0u8; 16];
    let crypto = js_sys::Reflect::get(&dom::window(), &"crypto".into())
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok());
    let filled = crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    format!(
        "c-{}",
        uuid::Builder::from_random_bytes(bytes).into_uuid().simple()
    )
}

// ----- the WebSocket -----

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

fn on_close(code: u16) {
    use neurochat_protocol::v1::close_codes as cc;
    with(|a| {
        a.ws = None;
        a.conn = Conn::Offline;
        a.inbox_req = None;
        a.sub_req = None;
        a.claim_req = None;
        a.read_sent.clear();
        if let Some(c) = a.conv.as_mut() {
            c.disconnected();
        }
    });
    views::render_conn();
    views::render_typing();
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

fn schedule_reconnect() {
    let delay = with(|a| a.backoff.next_delay_ms(js_sys::Math::random()));
    with(|a| {
        a.conn = Conn::Connecting;
        a.banner = Some(format!(
            "Connection lost; reconnecting in {} s…",
            (delay / 1000).max(1)
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

fn on_frame(frame: ServerFrame) {
    match frame {
        ServerFrame::Hello { .. } => {
            let first = with(|a| {
                a.conn = Conn::Online;
                a.banner = None;
                let first = a.backoff.attempt() == 0 && a.inbox_req.is_none() && !a.inbox.loaded();
                a.backoff.reset();
                first
            });
            views::render_conn();
            if let Some(req) = request(|req| ClientFrame::SubscribeInbox { req }) {
                with(|a| a.inbox_req = Some(req));
            }
            // Events sent while offline are not replayed: reload the list.
            if !first {
                load_inbox();
            }
            subscribe_open();
        }
        ServerFrame::Reauth { .. } => {
            wasm_bindgen_futures::spawn_local(async {
                let _ = net::refresh().await;
                let token = with_ref(|a| a.session.as_ref().map(|s| s.tokens.access_token.clone()));
                if let Some(token) = token {
                    send(&ClientFrame::Auth { token });
                }
            });
        }
        ServerFrame::Ack { req, .. } if with_ref(|a| a.sub_req.map(|s| s.0) == Some(req)) => {
            with(|a| a.sub_req = None);
            flush_outbox();
            mark_seen();
        }
        ServerFrame::Ack { req, .. } if with_ref(|a| a.claim_req.map(|s| s.0) == Some(req)) => {
            with(|a| a.claim_req = None);
            views::toast("Claimed.");
        }
        ServerFrame::Ack { req, seq, .. } => {
            let ours = with(|a| a.conv.as_mut().is_some_and(|c| c.ack(req, seq)));
            if ours {
                views::render_messages();
            }
        }
        ServerFrame::Error {
            req: Some(req),
            error,
        } => {
            let claim = with_ref(|a| a.claim_req.filter(|c| c.0 == req));
            if let Some((_, id)) = claim {
                with(|a| a.claim_req = None);
                if error.code == ErrorCode::AlreadyClaimed {
                    claim_lost(id);
                } else {
                    views::toast(&format!("Claim failed: {}", error.message));
                }
                return;
            }
            if with_ref(|a| a.sub_req.map(|s| s.0) == Some(req)) {
                with(|a| a.sub_req = None);
                views::toast(&format!("Could not follow the ticket: {}", error.message));
                return;
            }
            let ours = with(|a| a.conv.as_mut().is_some_and(|c| c.refuse(req, &error)));
            if ours {
                views::render_messages();
                if crate::conversation::retriable(error.code) {
                    after(3_000.0, flush_outbox);
                }
            } else if with_ref(|a| a.inbox_req == Some(req)) {
                views::toast(&format!("Live inbox unavailable: {}", error.message));
            } else {
                views::toast(&error.message);
            }
        }
        ServerFrame::Error { req: None, error } => views::toast(&error.message),
        ServerFrame::Message { message } => {
            let ticket = message.ticket_id;
            let me = with_ref(|a| a.me().map(|m| m.id));
            let (in_open, changed, subject) = with(|a| {
                let in_open = a
                    .conv
                    .as_mut()
                    .filter(|c| c.ticket_id == ticket)
                    .map(|c| c.insert(message.clone()));
                let changed = a.inbox.note_message(ticket, message.seq);
                let subject = a
                    .inbox
                    .get(ticket)
                    .map(|t| format!("#{} {}", t.number, t.subject));
                (in_open, changed, subject)
            });
            match in_open {
                Some(true) => {
                    views::render_messages();
                    views::render_typing();
                    mark_seen();
                    let hidden =
                        dom::document().visibility_state() != web_sys::VisibilityState::Visible;
                    if hidden && message.author_id != me {
                        views::notify("New message", &message.body);
                    }
                }
                Some(false) => {}
                None => {
                    if message.author_id != me {
                        views::notify(
                            &format!(
                                "New message on {}",
                                subject.unwrap_or_else(|| "a ticket".into())
                            ),
                            &message.body,
                        );
                    }
                }
            }
            if changed {
                views::render_inbox_list();
            }
        }
        ServerFrame::Receipt { receipt } => {
            with(|a| {
                if let Some(c) = a.conv.as_mut() {
                    c.receipt(receipt);
                }
            });
            views::render_messages();
        }
        ServerFrame::Typing {
            ticket_id,
            user_id,
            active,
        } => {
            with(|a| {
                if let Some(c) = a.conv.as_mut().filter(|c| c.ticket_id == ticket_id) {
                    c.typing(user_id, active, now_ms());
                }
            });
            views::render_typing();
            after(
                crate::conversation::TYPING_TTL_MS + 100.0,
                views::render_typing,
            );
        }
        ServerFrame::TicketEvent { ticket, change } => {
            let (result, open) = with(|a| {
                let open = a
                    .open
                    .as_ref()
                    .is_some_and(|o| o.id == ticket.id && o.updated_at <= ticket.updated_at);
                if open {
                    a.open = Some(ticket.clone());
                }
                (a.inbox.apply_event(ticket.clone(), change), open)
            });
            if let Change::New(t) = &result {
                views::notify(&format!("New ticket #{}", t.number), &t.subject);
            }
            if result != Change::None {
                views::render_inbox_list();
            }
            if open {
                if change == TicketChange::Claimed || change == TicketChange::Assigned {
                    with(|a| {
                        if a.open.as_ref().and_then(|o| o.assignee_id) == a.me().map(|m| m.id) {
                            a.claimed_notice = None;
                        }
                    });
                }
                views::render_ticket_head();
            }
        }
        ServerFrame::Availability {
            user_id,
            availability,
        } => {
            let mine = with(|a| {
                let mine = a.me().is_some_and(|m| m.id == user_id);
                if mine {
                    a.availability = Some(availability);
                }
                mine
            });
            if mine {
                views::render_availability();
            }
        }
        ServerFrame::Escalation { ticket_id, reason } => {
            let label = with_ref(|a| a.inbox.get(ticket_id).map(|t| format!("#{}", t.number)))
                .unwrap_or_else(|| "A ticket".into());
            views::notify(&format!("Escalation: {label}"), &reason);
        }
        ServerFrame::Pong { .. } => {}
    }
}

/// Sets availability over the socket (REST when offline).
pub(crate) fn set_availability(v: Availability) {
    with(|a| a.availability = Some(v));
    if request(|req| ClientFrame::SetAvailability {
        req,
        availability: v,
    })
    .is_some()
    {
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
