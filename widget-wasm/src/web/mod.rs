//! The browser side: DOM, WebSocket, fetch, timers, `localStorage` (wasm32
//! only). It decides nothing: every event becomes a [`state::Input`], and
//! every [`state::Effect`] is carried out here.
//!
//! Hand-off from the loader (`loader/neurochat.js`): the loader calls the
//! glue's `init()`, then [`boot`] with the settings and the calls queued so
//! far (`[method, args, resolve, reject]`), then forwards every later
//! `window.NeuroChat` call to [`call`] in the same shape.

mod dom;
mod net;

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Reflect};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::i18n::Locale;
use crate::out::HostIdentity;
use crate::state::{self, Effect, Input, JsEvent, Key, Pending, Session, State, TicketRef, Timer};
use crate::wire::Json;

/// Parsed JSON from the browser's own `JSON.parse`.
impl Json for JsValue {
    fn get(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        let v = Reflect::get(self, &JsValue::from_str(key)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }
    fn string(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.dyn_ref::<Array>().map(|a| a.iter().collect())
    }
}

/// `JSON.parse`, `None` on invalid JSON.
pub(crate) fn parse_json(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// Embedding settings (`data-*` / `window.NeuroChatSettings`).
pub(crate) struct Config {
    /// API base URL, without a trailing slash.
    pub server: String,
    /// `neurochat:<origin>:` — the storage key prefix.
    pub prefix: String,
    pub color: String,
    pub left: bool,
    pub launcher_text: Option<String>,
    pub greeting: Option<String>,
    pub locale: Locale,
    pub team: String,
    pub prechat_name: bool,
    pub prechat_email: bool,
    pub open: bool,
}

/// Work for the single dispatcher: reducer inputs and the API calls that
/// need the app but not the reducer.
enum Cmd {
    Input(Input),
    On(String, Function),
    SetLocale(String),
    Identify(HostIdentity, Function, Function),
}

pub(crate) struct App {
    pub state: State,
    pub cfg: Config,
    pub view: dom::View,
    ws: Option<web_sys::WebSocket>,
    ws_gen: u32,
    timers: [Option<i32>; 3],
    /// One callback per timer, made once (a fresh closure per `setTimeout`
    /// would cost a closure type per call site and an allocation per call).
    timer_fns: Vec<Closure<dyn FnMut()>>,
    listeners: Vec<(String, Function)>,
    identify: Vec<(Function, Function)>,
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
    static QUEUE: RefCell<Vec<Cmd>> = const { RefCell::new(Vec::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Runs commands one at a time. Handlers may fire while another runs (a
/// `NeuroChat.on` listener calling `open()`, a focus change): they are
/// queued, never re-entered, so the state is never borrowed twice.
fn run(cmd: Cmd) {
    // `try_borrow*` throughout: the panicking variants drag the panic
    // formatting machinery into the module, and cannot fail here anyway.
    QUEUE.with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.push(cmd);
        }
    });
    if BUSY.with(|b| b.replace(true)) {
        return;
    }
    while let Some(cmd) = QUEUE.with(|q| {
        let mut q = q.try_borrow_mut().ok()?;
        (!q.is_empty()).then(|| q.remove(0))
    }) {
        APP.with(|a| {
            if let Ok(mut app) = a.try_borrow_mut()
                && let Some(app) = app.as_mut()
            {
                app.handle(cmd);
            }
        });
    }
    BUSY.with(|b| b.set(false));
}

/// Feeds one input to the reducer (from any event handler).
pub(crate) fn dispatch(input: Input) {
    run(Cmd::Input(input));
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    let v = Reflect::get(obj, &JsValue::from_str(key)).ok()?;
    if let Some(s) = v.as_string() {
        let s = s.trim().to_owned();
        return (!s.is_empty()).then_some(s);
    }
    v.as_bool()
        .map(|b| (if b { "true" } else { "false" }).to_owned())
}

/// A CSS color from the settings, or the default when it could break out
/// of its declaration (it is pasted into the stylesheet).
fn safe_color(c: Option<String>) -> String {
    match c {
        Some(c)
            if c.len() <= 64
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"#(),.% -".contains(&b)) =>
        {
            c
        }
        _ => "#2563eb".to_owned(),
    }
}

fn config(settings: &JsValue) -> Config {
    let w = window();
    // The loader always sets `server` (default: its own script's origin).
    let server = get_str(settings, "server").unwrap_or_default();
    let mut server = server;
    while server.ends_with('/') {
        server.pop();
    }
    let origin = crate::text::origin(&server).to_owned();
    let locale = get_str(settings, "locale")
        .or_else(|| w.as_ref().and_then(|w| w.navigator().language()))
        .map(|l| Locale::parse(&l))
        .unwrap_or_default();
    let prechat = get_str(settings, "prechat").unwrap_or_default();
    let fields: Vec<&str> = crate::text::pieces(&prechat, b',')
        .into_iter()
        .map(str::trim)
        .collect();
    Config {
        prefix: crate::out::cat(&["neurochat:", &origin, ":"]),
        server,
        color: safe_color(get_str(settings, "color")),
        left: get_str(settings, "position").as_deref() == Some("left"),
        launcher_text: get_str(settings, "launcherText"),
        greeting: get_str(settings, "greeting"),
        locale,
        team: get_str(settings, "teamName").unwrap_or_else(|| "Support".to_owned()),
        prechat_name: fields.contains(&"name"),
        prechat_email: fields.contains(&"email"),
        open: get_str(settings, "open").as_deref() == Some("true"),
    }
}

/// `document.visibilityState == "visible"` (read as a string: web-sys's
/// enum conversion costs more code than the comparison).
pub(crate) fn visible(d: &web_sys::Document) -> bool {
    Reflect::get(d, &JsValue::from_str("visibilityState"))
        .ok()
        .and_then(|v| v.as_string())
        .is_none_or(|v| v == "visible")
}

fn storage() -> Option<web_sys::Storage> {
    // Throws in sandboxed iframes and with cookies blocked: then the widget
    // simply forgets on reload.
    window()?.local_storage().ok().flatten()
}

/// Called by the loader once the module is instantiated: builds the widget
/// in `#neurochat-root` (taking over the loader's launcher) and runs the
/// calls queued before the module arrived.
#[wasm_bindgen]
pub fn boot(settings: JsValue, queue: JsValue) -> Result<(), JsValue> {
    if APP.with(|a| a.try_borrow().map_or(true, |a| a.is_some())) {
        return Ok(());
    }
    let cfg = config(&settings);
    let view = dom::View::build(&cfg).ok_or_else(|| JsValue::from_str("neurochat: no document"))?;
    let seed = (js_sys::Math::random() * 9.007e15) as u64 ^ (js_sys::Date::now() as u64);
    let mut state = State::new(seed);
    state.now_ms = js_sys::Date::now();
    let app = App {
        state,
        cfg,
        view,
        ws: None,
        ws_gen: 0,
        timers: [None; 3],
        timer_fns: [Timer::Reconnect, Timer::Typing, Timer::Retry]
            .into_iter()
            .map(|t| Closure::<dyn FnMut()>::new(move || dispatch(Input::Timer(t))))
            .collect(),
        listeners: Vec::new(),
        identify: Vec::new(),
    };
    let (boot_input, open) = {
        let get = |k: Key| {
            storage()
                .and_then(|s| {
                    s.get_item(&crate::out::cat(&[&app.cfg.prefix, k.name()]))
                        .ok()
                        .flatten()
                })
                .and_then(|t| parse_json(&t))
        };
        let doc = window().and_then(|w| w.document());
        (
            Input::Boot {
                session: get(Key::Session).and_then(|j| Session::from_json(&j)),
                ticket: get(Key::Ticket).and_then(|j| TicketRef::from_json(&j)),
                outbox: get(Key::Outbox)
                    .map(|j| Pending::list_from_json(&j))
                    .unwrap_or_default(),
                prechat: app.cfg.prechat_name || app.cfg.prechat_email,
                online: window().is_none_or(|w| w.navigator().on_line()),
                visible: doc.is_none_or(|d| visible(&d)),
            },
            app.cfg.open,
        )
    };
    APP.with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            *a = Some(app);
        }
    });
    dom::listen_globals();
    dispatch(boot_input);
    if open {
        dispatch(Input::Open);
    }
    if let Some(q) = queue.dyn_ref::<Array>() {
        for entry in q.iter() {
            let e = Array::from(&entry);
            call(e.get(0), e.get(1), e.get(2), e.get(3));
        }
    }
    Ok(())
}

/// A `window.NeuroChat` call forwarded by the loader: `method` with its
/// `args` array; `resolve`/`reject` settle the Promise the loader returned.
#[wasm_bindgen]
pub fn call(method: JsValue, args: JsValue, resolve: JsValue, reject: JsValue) {
    let method = method.as_string().unwrap_or_default();
    let args = args.dyn_into::<Array>().unwrap_or_else(|_| Array::new());
    let resolve = resolve.dyn_into::<Function>().ok();
    let reject = reject.dyn_into::<Function>().ok();
    let done = || {
        if let Some(r) = &resolve {
            let _ = r.call0(&JsValue::NULL);
        }
    };
    match method.as_str() {
        "open" => dispatch(Input::Open),
        "close" => dispatch(Input::Close),
        "toggle" => dispatch(Input::Toggle),
        "logout" => dispatch(Input::Logout),
        "setLocale" => {
            if let Some(l) = args.get(0).as_string() {
                run(Cmd::SetLocale(l));
            }
        }
        "on" => {
            if let (Some(ev), Ok(f)) = (args.get(0).as_string(), args.get(1).dyn_into::<Function>())
            {
                run(Cmd::On(ev, f));
            }
        }
        "identify" => {
            let arg = args.get(0);
            let identity = match get_str(&arg, "token") {
                Some(token) => Some(HostIdentity::Jwt { token }),
                None => match (get_str(&arg, "userId"), get_str(&arg, "signature")) {
                    (Some(user_id), Some(signature)) => Some(HostIdentity::Hmac {
                        user_id,
                        email: get_str(&arg, "email"),
                        name: get_str(&arg, "name"),
                        signature,
                    }),
                    _ => None,
                },
            };
            let (Some(res), Some(rej)) = (resolve, reject) else {
                return;
            };
            match identity {
                Some(id) => run(Cmd::Identify(id, res, rej)),
                None => {
                    let _ = rej.call1(&JsValue::NULL, &error_with_code("validation_failed"));
                }
            }
            return;
        }
        _ => {
            if let Some(r) = &reject {
                let _ = r.call1(&JsValue::NULL, &error_with_code("unsupported"));
            }
            return;
        }
    }
    done();
}

/// An `Error` whose `code` is the server's stable code.
fn error_with_code(code: &str) -> JsValue {
    let e = js_sys::Error::new(&crate::out::cat(&["NeuroChat: ", code]));
    let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

impl App {
    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Input(input) => self.update(input),
            Cmd::On(ev, f) => self.listeners.push((ev, f)),
            Cmd::SetLocale(l) => {
                self.cfg.locale = Locale::parse(&l);
                self.view.render(&self.state, &self.cfg);
            }
            Cmd::Identify(id, res, rej) => {
                self.identify.push((res, rej));
                self.update(Input::Identify(id));
            }
        }
    }

    fn update(&mut self, input: Input) {
        self.state.now_ms = js_sys::Date::now();
        let effects = state::update(&mut self.state, input);
        let mut focus = None;
        let mut render = false;
        for e in effects {
            match e {
                Effect::Render => render = true,
                Effect::Focus(f) => focus = Some(f),
                other => self.effect(other),
            }
        }
        // Focus after drawing: a hidden panel cannot take focus.
        if render {
            self.view.render(&self.state, &self.cfg);
        }
        if let Some(f) = focus {
            self.view.focus(f);
        }
    }

    fn effect(&mut self, e: Effect) {
        match e {
            Effect::Connect => self.connect(),
            Effect::Disconnect => self.disconnect(),
            Effect::Send(text) => {
                if let Some(ws) = &self.ws
                    && ws.ready_state() == web_sys::WebSocket::OPEN
                {
                    let _ = ws.send_with_str(&text);
                }
            }
            Effect::Fetch(f) => net::fetch(&self.cfg, self.state.session.as_ref(), f),
            Effect::Persist(k, v) => {
                if let Some(s) = storage() {
                    let key = crate::out::cat(&[&self.cfg.prefix, k.name()]);
                    let _ = match v {
                        Some(v) => s.set_item(&key, &v),
                        None => s.remove_item(&key),
                    };
                }
            }
            Effect::Schedule(t, ms) => self.schedule(t, ms),
            Effect::Cancel(t) => self.cancel(t),
            Effect::Emit(ev) => self.emit(ev),
            Effect::Identified(r) => {
                if !self.identify.is_empty() {
                    let (res, rej) = self.identify.remove(0);
                    let _ = match r {
                        Ok(()) => res.call0(&JsValue::NULL),
                        Err(code) => rej.call1(&JsValue::NULL, &error_with_code(&code)),
                    };
                }
            }
            Effect::RestoreDraft(body) => self.view.restore_draft(&body),
            Effect::Render | Effect::Focus(_) => {}
        }
    }

    fn timer_slot(t: Timer) -> usize {
        match t {
            Timer::Reconnect => 0,
            Timer::Typing => 1,
            Timer::Retry => 2,
        }
    }

    fn schedule(&mut self, t: Timer, ms: u32) {
        self.cancel(t);
        let Some(w) = window() else { return };
        let slot = Self::timer_slot(t);
        let Some(f) = self.timer_fns.get(slot) else {
            return;
        };
        self.timers[slot] = w
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                f.as_ref().unchecked_ref(),
                ms as i32,
            )
            .ok();
    }

    fn cancel(&mut self, t: Timer) {
        if let (Some(h), Some(w)) = (self.timers[Self::timer_slot(t)].take(), window()) {
            w.clear_timeout_with_handle(h);
        }
    }

    fn emit(&self, ev: JsEvent) {
        let (name, arg) = match ev {
            JsEvent::Open => ("open", JsValue::UNDEFINED),
            JsEvent::Close => ("close", JsValue::UNDEFINED),
            JsEvent::Unread(n) => ("unread", JsValue::from(n)),
            JsEvent::Error(code) => ("error", obj(&[("code", JsValue::from_str(&code))])),
            JsEvent::Message {
                ticket_id,
                seq,
                kind,
                body,
            } => (
                "message",
                obj(&[
                    ("ticketId", JsValue::from_str(&uuid_str(ticket_id))),
                    ("seq", JsValue::from_f64(seq as f64)),
                    ("kind", JsValue::from_str(kind)),
                    ("body", JsValue::from_str(&body)),
                ]),
            ),
        };
        for (ev, f) in &self.listeners {
            if ev == name {
                // A throwing listener is the host's problem, not ours.
                let _ = f.call1(&JsValue::NULL, &arg);
            }
        }
    }

    fn connect(&mut self) {
        self.disconnect();
        self.ws_gen = self.ws_gen.wrapping_add(1);
        self.ws = net::open_socket(&self.cfg.server, self.ws_gen);
        if self.ws.is_none() {
            // The constructor threw (bad URL, CSP): a failed try, retried
            // with backoff like any other.
            run(Cmd::Input(Input::Closed(1006)));
        }
    }

    fn disconnect(&mut self) {
        if let Some(ws) = self.ws.take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            ws.set_onerror(None);
            let _ = ws.close();
        }
    }

    /// The generation of the current socket (handlers of older ones are
    /// ignored).
    pub(crate) fn ws_gen(&self) -> u32 {
        self.ws_gen
    }
}

/// Runs `f` on the app if the socket generation `g` is still current.
pub(crate) fn if_current(g: u32, input: Input) {
    let current = APP.with(|a| {
        a.try_borrow()
            .map(|a| a.as_ref().is_some_and(|app| app.ws_gen() == g))
            // Borrowed: we are inside a dispatch; the queue sorts it out.
            .unwrap_or(true)
    });
    if current {
        dispatch(input);
    }
}

fn uuid_str(id: Uuid) -> String {
    crate::out::uuid_str(id)
}

/// Parses the selected earlier conversation's id from a `data-ticket-id`.
pub(crate) fn select_ticket(id: &str) {
    if let Some(id) = crate::wire::parse_uuid(id) {
        dispatch(Input::SelectTicket(id));
    }
}
