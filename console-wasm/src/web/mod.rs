//! The browser side (wasm32 only): the DOM ([`dom`], [`views`]), REST
//! ([`net`]), the WebSocket and timers (here). The decisions are the pure
//! modules' ([`crate::inbox`], [`crate::conversation`], …); this layer
//! feeds them events and draws what they hold.

mod dom;
mod net;
mod socket;
mod views;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use neurochat_protocol::v1::{
    AgentLoadView, Availability, CategoryView, ClientFrame, ErrorCode, Role, ServerFrame,
    TicketView, UserView,
};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::backoff::Backoff;
use crate::live::{Effect, Live, Region};
use crate::session::{self, STORAGE_KEY, Stored};
use crate::wire;
use dom::{after, cancel, now_ms};
pub(crate) use socket::*;

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
    /// `#/account/password`: change one's own password.
    ChangePassword,
    /// `#/forgot` (signed out): ask for a reset link.
    Forgot,
    /// `#/reset` (signed out): choose a new password with the emailed
    /// link's token (`#/reset?token=…`, read once into [`App::reset_token`]
    /// and removed from the address).
    Reset,
}

impl Route {
    fn parse(hash: &str) -> Route {
        let h = hash.trim_start_matches('#').trim_start_matches('/');
        let h = h.split_once('?').map_or(h, |(path, _)| path);
        match h.split('/').collect::<Vec<_>>().as_slice() {
            ["ticket", id] => Uuid::try_parse(id).map_or(Route::Inbox, Route::Ticket),
            ["metrics"] => Route::Metrics,
            ["admin", "users"] => Route::Users,
            ["admin", "categories"] => Route::Categories,
            ["admin", "audit"] => Route::Audit,
            ["account", "password"] => Route::ChangePassword,
            ["forgot"] => Route::Forgot,
            ["reset"] => Route::Reset,
            _ => Route::Inbox,
        }
    }

    /// Pages of the signed-out console (shown instead of the login form).
    pub(crate) fn signed_out_only(&self) -> bool {
        matches!(self, Route::Forgot | Route::Reset)
    }

    /// Pages only admins may open.
    pub(crate) fn admin_only(&self) -> bool {
        matches!(self, Route::Users | Route::Categories | Route::Audit)
    }

    pub(crate) fn hash(&self) -> String {
        match self {
            Route::Inbox => "#/inbox".into(),
            Route::Ticket(id) => format!("#/ticket/{id}"),
            Route::Metrics => "#/metrics".into(),
            Route::Users => "#/admin/users".into(),
            Route::Categories => "#/admin/categories".into(),
            Route::Audit => "#/admin/audit".into(),
            Route::ChangePassword => "#/account/password".into(),
            Route::Forgot => "#/forgot".into(),
            Route::Reset => "#/reset".into(),
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
    /// The live state (inbox, open ticket, requests): the pure reducer.
    pub(crate) live: Live,
    pub(crate) users: HashMap<Uuid, UserView>,
    users_asked: HashSet<Uuid>,
    pub(crate) categories: Vec<CategoryView>,
    /// The staff directory (`GET /api/v1/agents`): every enabled agent and
    /// admin with presence and load; whom a ticket can be assigned to.
    pub(crate) staff: Vec<AgentLoadView>,
    /// A directory load is under way.
    staff_loading: bool,
    /// Something changed while it was: load again when it ends.
    staff_dirty: bool,
    /// When the last directory load ended (`now_ms`).
    staff_loaded_ms: f64,
    /// A load waiting for [`STAFF_GAP_MS`] to pass.
    staff_timer: Option<i32>,
    ws: Option<WebSocket>,
    ws_gen: u32,
    pub(crate) conn: Conn,
    backoff: Backoff,
    reconnect_timer: Option<i32>,
    typing_sent_ms: f64,
    typing_stop_timer: Option<i32>,
    /// The nonce of a `ping` not answered yet.
    ping_wait: Option<u64>,
    /// Unsent composer text per ticket (kept while switching tickets).
    pub(crate) drafts: HashMap<Uuid, String>,
    pub(crate) sound: bool,
    /// The message of the top banner (session or connection trouble).
    pub(crate) banner: Option<String>,
    /// The emailed reset link's token, taken out of the address bar (kept
    /// in memory only, until it is used).
    pub(crate) reset_token: Option<String>,
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
        if let Some(a) = self.staff.iter().find(|a| a.id == id) {
            return Some(a.display_name.clone());
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
    let route = Route::parse(&views::take_reset_token());
    with(|a| {
        a.sound = sound;
        a.route = route.clone();
    });
    dom::on(&dom::window(), "hashchange", |_| {
        let route = Route::parse(&views::take_reset_token());
        if route == Route::Reset && with_ref(|a| a.session.is_some() && a.reset_token.is_some()) {
            // A reset link opened in a signed-in tab: log out first (the
            // reset ends every session anyway), then the reset form.
            with(|a| a.route = Route::Reset);
            logout();
            return;
        }
        navigate(route);
    });
    dom::on(&dom::window(), "offline", |_| socket::network_lost());
    dom::on(&dom::window(), "online", |_| socket::network_back());
    dom::on(&dom::document(), "keydown", views::on_key);
    // Back to the tab: what arrived meanwhile is read now.
    dom::on(&dom::document(), "visibilitychange", |_| {
        if with_ref(|a| a.session.is_some()) {
            mark_seen();
        }
    });
    // A reset link opens the reset form even in a tab with a session: the
    // reset ends every session of the account anyway.
    if route == Route::Reset && with_ref(|a| a.reset_token.is_some()) {
        views::render_signed_out(None, None);
        return;
    }
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
        None => views::render_signed_out(None, None),
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
        a.live = Live::default();
        a.banner = None;
        if let Some(t) = a.staff_timer.take() {
            cancel(t);
        }
        a.staff.clear();
        a.staff_loaded_ms = 0.0;
        a.ws.take()
    });
    if let Some(ws) = ws {
        let _ = ws.close();
    }
    dom::document().set_title("NeuroChat console");
    views::render_signed_out(why, None);
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
        a.live = Live::new(me.id);
        a.live.inbox.set_read_positions(read);
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
    let data = with_ref(|a| {
        a.me()
            .map(|m| (m.id, wire::body(a.live.inbox.read_positions())))
    });
    if let (Some((me, text)), Some(s)) = (data, dom::local_storage()) {
        let _ = s.set_item(&read_key(me), &text);
    }
}

/// Whether the tab is shown.
fn visible() -> bool {
    dom::document().visibility_state() == web_sys::VisibilityState::Visible
}

/// Applies an input to the live state and carries out its effects.
pub(crate) fn live(f: impl FnOnce(&mut Live) -> Vec<Effect>) {
    let fx = with(|a| f(&mut a.live));
    run(fx);
}

/// Carries out effects (each region drawn once, after the rest).
fn run(fx: Vec<Effect>) {
    let mut regions: Vec<Region> = Vec::new();
    for e in fx {
        match e {
            Effect::Send(f) => send(&f),
            Effect::Render(r) => {
                if !regions.contains(&r) {
                    regions.push(r);
                }
            }
            Effect::Notify { title, body } => views::notify(&title, &body),
            Effect::Toast(t) => views::toast(&t),
            Effect::ReloadInbox => load_inbox(),
            Effect::ReloadAvailability => load_availability(),
            Effect::ClaimLost(id) => find_claim_winner(id),
            Effect::Reauth => wasm_bindgen_futures::spawn_local(async {
                let _ = net::refresh().await;
                let token = with_ref(|a| a.session.as_ref().map(|s| s.tokens.access_token.clone()));
                if let Some(token) = token {
                    send(&ClientFrame::Auth { token });
                }
            }),
            Effect::FlushLater => {
                after(3_000.0, || live(Live::flush));
            }
            Effect::SaveReadPositions => save_read_positions(),
        }
    }
    for r in regions {
        match r {
            Region::Inbox => {
                views::render_inbox_list();
                reload_staff();
            }
            Region::Head => {
                views::render_ticket_head();
                views::refresh_audit_trail();
                reload_staff();
            }
            Region::Messages => views::render_messages(),
            Region::Typing => {
                views::render_typing();
                // Indicators expire by themselves: look again then.
                after(
                    crate::conversation::TYPING_TTL_MS + 100.0,
                    views::render_typing,
                );
            }
            Region::Availability => {
                views::render_availability();
                reload_staff();
            }
        }
    }
}

/// Categories, the agent's availability, and the staff directory.
fn load_reference_data() {
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(c) = net::get::<Vec<CategoryView>>("/api/v1/categories").await {
            with(|a| a.categories = c);
            views::render_filters_categories();
            views::render_ticket_head();
        }
    });
    load_availability();
    reload_staff();
}

/// Reads the agent's availability from the server, unless the agent
/// changed it meanwhile (their choice is newer than the answer).
fn load_availability() {
    wasm_bindgen_futures::spawn_local(async {
        let Some((me, before)) = with_ref(|a| a.me().map(|m| (m.id, a.live.availability_changes)))
        else {
            return;
        };
        if let Ok(agent) =
            net::get::<neurochat_protocol::v1::AgentView>(&format!("/api/v1/users/{me}/agent"))
                .await
        {
            let fresh = with(|a| {
                let fresh = a.live.availability_changes == before;
                if fresh {
                    a.live.availability = Some(agent.availability);
                }
                fresh
            });
            if fresh {
                views::render_availability();
            }
        }
    });
}

/// The shortest time between two staff-directory loads prompted by live
/// changes (ticket events, the agent's own changes).
const STAFF_GAP_MS: f64 = 3_000.0;

/// Loads the staff directory again (the assignee choices and the loads
/// shown): at once when the last load is [`STAFF_GAP_MS`] old, otherwise
/// once that time has passed; a call during a load loads again after it.
pub(crate) fn reload_staff() {
    enum Next {
        Nothing,
        Wait(f64),
        Load,
    }
    let now = now_ms();
    let next = with(|a| {
        if a.staff_loading {
            a.staff_dirty = true;
            Next::Nothing
        } else if a.staff_timer.is_some() {
            Next::Nothing
        } else if a.staff_loaded_ms > 0.0 && now - a.staff_loaded_ms < STAFF_GAP_MS {
            Next::Wait(a.staff_loaded_ms + STAFF_GAP_MS - now)
        } else {
            a.staff_loading = true;
            Next::Load
        }
    });
    match next {
        Next::Nothing => {}
        Next::Wait(ms) => {
            let t = after(ms, || {
                with(|a| a.staff_timer = None);
                reload_staff();
            });
            with(|a| a.staff_timer = Some(t));
        }
        Next::Load => wasm_bindgen_futures::spawn_local(async {
            let r = net::get::<Vec<AgentLoadView>>("/api/v1/agents").await;
            let (changed, again) = with(|a| {
                a.staff_loading = false;
                a.staff_loaded_ms = now_ms();
                let changed = match r {
                    Ok(staff) if staff != a.staff => {
                        a.staff = staff;
                        true
                    }
                    _ => false,
                };
                (changed, std::mem::take(&mut a.staff_dirty))
            });
            if changed {
                views::render_my_load();
                // Not while the agent has the assignee list open.
                if !views::assign_select_focused() {
                    views::render_ticket_head();
                }
            }
            if again {
                reload_staff();
            }
        }),
    }
}

/// (Re)loads the inbox's first page with the current filters.
pub(crate) fn load_inbox() {
    let (q, load) = with(|a| {
        let q = a.live.inbox.filter.to_query(None, crate::query::PAGE);
        (q, a.live.inbox.begin_load())
    });
    wasm_bindgen_futures::spawn_local(async move {
        match net::get(&format!("/api/v1/tickets{q}")).await {
            Ok(page) => {
                if with(|a| a.live.inbox.replace(load, page)) {
                    views::render_inbox_list();
                }
            }
            Err(e) => views::toast(&format!("Could not load the inbox: {}", e.message)),
        }
    });
}

/// The next page of the inbox.
pub(crate) fn load_more() {
    let q = with_ref(|a| {
        let inbox = &a.live.inbox;
        inbox.next_cursor().map(|c| {
            (
                inbox.filter.to_query(Some(c), crate::query::PAGE),
                inbox.load(),
            )
        })
    });
    let Some((q, load)) = q else { return };
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(page) = net::get(&format!("/api/v1/tickets{q}")).await
            && with(|a| a.live.inbox.append(load, page))
        {
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
    if !logged_in {
        // The login form, or the forgotten-password pages (not while a
        // stored session is being resumed: that ends in one or the other).
        if !with_ref(|a| a.refreshing) {
            views::render_signed_out(None, None);
        }
        return;
    }
    if dom::by_id("main").is_none() {
        return;
    }
    match route {
        Route::Ticket(id) => open_ticket(id),
        _ => {
            live(Live::close_ticket);
            views::render_main();
        }
    }
}

/// Opens a ticket: its state, the latest page of history and the receipts
/// (REST), then the live conversation (subscribe from the last `seq` held).
pub(crate) fn open_ticket(id: Uuid) {
    let already = with_ref(|a| a.live.conv.as_ref().map(|c| c.ticket_id) == Some(id));
    if !already {
        live(|l| {
            let known = l.inbox.get(id).cloned();
            l.open_ticket(id, known)
        });
    }
    views::render_main();
    if already {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match net::get::<TicketView>(&format!("/api/v1/tickets/{id}")).await {
            Ok(t) => {
                live(|l| l.ticket_loaded(t));
                views::render_side();
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
        match page {
            Ok(page) => {
                let full = page.items.len() >= 50;
                live(|l| l.history(id, page.items, full));
            }
            // The subscribe's replay brings the history instead.
            Err(_) => live(|l| l.history(id, Vec::new(), false)),
        }
        let shown = visible();
        live(|l| l.history_shown(id, shown));
        // Ticks of messages read before this page load.
        if let Ok(receipts) = net::get::<Vec<neurochat_protocol::v1::ReceiptView>>(&format!(
            "/api/v1/tickets/{id}/receipts"
        ))
        .await
        {
            with(|a| {
                if let Some(c) = a.live.conv.as_mut().filter(|c| c.ticket_id == id) {
                    for r in receipts {
                        c.receipt(r);
                    }
                }
            });
            views::render_messages();
        }
        let shown = visible();
        live(|l| {
            let mut fx = l.subscribe_open();
            fx.extend(l.seen(shown));
            fx
        });
    });
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

/// The agent looks at the open conversation again (tab shown).
pub(crate) fn mark_seen() {
    let shown = visible();
    live(|l| l.seen(shown));
}

/// Claims a ticket (over the socket; REST when offline).
pub(crate) fn claim(id: Uuid) {
    if let Some(fx) = with(|a| a.live.claim(id)) {
        run(fx);
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match net::json::<TicketView>("POST", &format!("/api/v1/tickets/{id}/claim"), None).await {
            Ok(t) => live(|l| l.ticket_loaded(t)),
            Err(e) if e.code == ErrorCode::AlreadyClaimed => find_claim_winner(id),
            Err(e) => views::toast(&format!("Claim failed: {}", e.message)),
        }
    });
}

/// Another agent won the claim: fetch the ticket and its assignee's name,
/// then show the notice naming them ("another agent" only when the lookup
/// fails).
fn find_claim_winner(id: Uuid) {
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(t) = net::get::<TicketView>(&format!("/api/v1/tickets/{id}")).await else {
            live(|l| l.claim_lost(id, None));
            return;
        };
        let name = match t.assignee_id {
            Some(who) => match net::get::<UserView>(&format!("/api/v1/users/{who}")).await {
                Ok(u) => {
                    let n = u.display_name.clone();
                    with(|a| a.users.insert(u.id, u));
                    Some(n)
                }
                Err(_) => None,
            },
            None => None,
        };
        live(|l| {
            let mut fx = l.claim_lost(id, name.as_deref());
            fx.extend(l.ticket_loaded(t));
            fx
        });
    });
}

/// Typing indicator of the composer (throttled to one start per 2 s; a
/// stop after 4 s without keys).
pub(crate) fn composer_typed() {
    let (frame, id) = with(|a| {
        let Some(id) = a.live.conv.as_ref().map(|c| c.ticket_id) else {
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

/// A random `client_msg_id` (`crypto.getRandomValues`).
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
