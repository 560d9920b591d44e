//! The account views: the login form, the forgotten-password pages (ask
//! for a link at `#/forgot`, choose a new password with it at `#/reset`),
//! the top bar's account menu and the change-password page
//! (`#/account/password`). The checks and the messages of the server's
//! error codes are [`crate::password`]'s. Passwords and the reset token
//! are never logged, stored or put in an address.

use std::cell::RefCell;

use neurochat_protocol::v1::{
    AuthResponse, ChangePasswordRequest, ErrorCode, LoginRequest, PasswordResetConfirm,
    PasswordResetRequest,
};
use wasm_bindgen::JsValue;

use super::*;
use crate::password::{self, Problem};
use crate::session::{STORAGE_KEY, Stored};
use crate::web::dom;

thread_local! {
    /// The email typed into the login form when "Forgot password?" was
    /// followed: the request form starts with it.
    static EMAIL_HINT: RefCell<String> = const { RefCell::new(String::new()) };
}

// ----- addresses -----

/// The address's hash, with a reset link's token (`#/reset?token=…`)
/// moved into [`crate::web::App::reset_token`] and out of the address bar
/// and the history (`history.replaceState` to `#/reset`): a secret must
/// not linger where the next person at the machine can read it.
pub(crate) fn take_reset_token() -> String {
    let hash = dom::window().location().hash().unwrap_or_default();
    let Some(token) = password::reset_token(&hash) else {
        return hash;
    };
    with(|a| a.reset_token = Some(token));
    replace_hash(&Route::Reset);
    Route::Reset.hash()
}

/// Shows `route`'s address without a history entry and without a
/// `hashchange` (the caller draws the page).
fn replace_hash(route: &Route) {
    let w = dom::window();
    let url = format!(
        "{}{}{}",
        w.location().pathname().unwrap_or_default(),
        w.location().search().unwrap_or_default(),
        route.hash()
    );
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// After a password reset: the login form with `notice`. A session stored
/// in this tab is over (the reset revoked every session of the account).
fn reset_done(notice: &str) {
    if let Some(s) = dom::session_storage() {
        let _ = s.remove_item(STORAGE_KEY);
    }
    with(|a| {
        a.session = None;
        a.reset_token = None;
        a.route = Route::Inbox;
    });
    replace_hash(&Route::Inbox);
    render_login_with(None, Some(notice));
}

// ----- small parts -----

/// A labelled password input (`id` is also its test hook), with an
/// optional hint tied to it by `aria-describedby`.
fn password_field(
    id: &str,
    label: &str,
    autocomplete: &str,
    hint: Option<&str>,
) -> (Element, Element, Option<Element>) {
    let l = el_text("label", "", label);
    attr(&l, "for", id);
    let i = input("password", id, "");
    attr(&i, "id", id);
    attr(&i, "autocomplete", autocomplete);
    attr(&i, "required", "");
    let hint = hint.map(|text| {
        let h = el_text("p", "hint muted", text);
        let hid = format!("{id}-hint");
        attr(&h, "id", &hid);
        attr(&i, "aria-describedby", &hid);
        h
    });
    (l, i.into(), hint)
}

/// An empty message line: `role=alert` for errors, `role=status` for
/// confirmations.
fn message_line(id: &str, error: bool) -> Element {
    let p = el_class("p", if error { "error" } else { "ok" });
    attr(&p, "id", id);
    attr(&p, "role", if error { "alert" } else { "status" });
    testid(&p, id);
    p
}

/// Sets a message line's text (empty: nothing shown).
fn say(id: &str, text: &str) {
    if let Some(e) = by_id(id) {
        e.set_text_content(Some(text));
    }
}

/// A submit button.
fn submit_button(id: &str, label: &str) -> Element {
    let b = el_text("button", "primary", label);
    attr(&b, "type", "submit");
    attr(&b, "id", id);
    testid(&b, id);
    b
}

/// Disables (while a call runs) or enables a button by id.
fn busy(id: &str, on: bool) {
    if let Some(b) = by_id(id) {
        if on {
            attr(&b, "disabled", "");
            attr(&b, "aria-busy", "true");
        } else {
            let _ = b.remove_attribute("disabled");
            let _ = b.remove_attribute("aria-busy");
        }
    }
}

/// A link to another route.
fn link(text: &str, route: &Route, test: &str) -> Element {
    let a = el_text("a", "", text);
    attr(&a, "href", &route.hash());
    testid(&a, test);
    a
}

fn focus_id(id: &str) {
    if let Some(e) = by_id(id) {
        focus(&e);
    }
}

/// Empties a password input by id.
fn clear_input(id: &str) {
    if let Some(i) = by_id(id).and_then(|e| e.dyn_into::<HtmlInputElement>().ok()) {
        i.set_value("");
    }
}

/// A fresh signed-out card (a `<form>` in the emptied root).
fn signed_out_form(test: &str, title_id: &str, title: &str) -> Element {
    let root = app_root();
    clear(&root);
    let _ = root.remove_attribute("aria-busy");
    let form = el_class("form", "login");
    testid(&form, test);
    attr(&form, "aria-labelledby", title_id);
    // The console's own checks and messages, not the browser's bubbles.
    attr(&form, "novalidate", "");
    let h = el_text("h1", "", title);
    attr(&h, "id", title_id);
    append(&form, &[&h]);
    append(&root, &[&form]);
    form
}

// ----- signed out -----

/// "Loading…" while a stored session is refreshed.
pub(crate) fn render_loading() {
    let root = app_root();
    clear(&root);
    append(&root, &[&el_text("p", "boot", "Resuming your session…")]);
}

/// What a signed-out console shows for its route: the forgotten-password
/// pages, otherwise the login form (with why the last session ended, or a
/// notice).
pub(crate) fn render_signed_out(why: Option<&str>, notice: Option<&str>) {
    match with_ref(|a| a.route.clone()) {
        Route::Forgot => render_forgot(),
        Route::Reset => render_reset(),
        _ => render_login_with(why, notice),
    }
}

/// The login form, with why the last session ended (`why`, an error) or a
/// confirmation (`notice`).
fn render_login_with(why: Option<&str>, notice: Option<&str>) {
    let form = signed_out_form("login-form", "login-title", "NeuroChat console");
    let _ = form.remove_attribute("novalidate");
    let ok = message_line("login-notice", false);
    ok.set_text_content(notice);
    let email = input("email", "login-email", "");
    attr(&email, "id", "login-email");
    attr(&email, "autocomplete", "username");
    attr(&email, "required", "");
    let pw = input("password", "login-password", "");
    attr(&pw, "id", "login-password");
    attr(&pw, "autocomplete", "current-password");
    attr(&pw, "required", "");
    let l1 = el_text("label", "", "Email");
    attr(&l1, "for", "login-email");
    let l2 = el_text("label", "", "Password");
    attr(&l2, "for", "login-password");
    let err = message_line("login-error", true);
    err.set_text_content(why);
    let submit = submit_button("login-submit", "Log in");
    let forgot = link("Forgot password?", &Route::Forgot, "forgot-link");
    forgot.set_class_name("aside");
    dom::on(&forgot, "click", |_| {
        let typed = value_of("login-email").trim().to_owned();
        EMAIL_HINT.with(|h| *h.borrow_mut() = typed);
    });
    append(&form, &[&ok, &l1, &email, &l2, &pw, &err, &submit, &forgot]);
    dom::on(&form, "submit", move |e: Event| {
        e.prevent_default();
        let body = wire::body(&LoginRequest {
            email: value_of("login-email").trim().to_owned(),
            password: value_of("login-password"),
        });
        say("login-notice", "");
        say("login-error", "Logging in…");
        wasm_bindgen_futures::spawn_local(async move {
            match net::anonymous::<AuthResponse>("POST", "/api/v1/auth/login", &body).await {
                Ok(r) => {
                    crate::web::session_started(Stored::from(r), true);
                    crate::web::logged_in();
                }
                Err(e) => say("login-error", &e.message),
            }
        });
    });
    focus(&email);
}

/// `#/forgot`: asks for a reset link. The answer is the same whether or
/// not the address has an account (the server does not say).
fn render_forgot() {
    let form = signed_out_form("forgot-form", "forgot-title", "Reset your password");
    let intro = el_text(
        "p",
        "muted",
        "Enter the email address of your account. We will send it a link to choose a new password.",
    );
    let l = el_text("label", "", "Email");
    attr(&l, "for", "forgot-email");
    let email = input("email", "forgot-email", "");
    attr(&email, "id", "forgot-email");
    attr(&email, "autocomplete", "username");
    attr(&email, "required", "");
    email.set_value(&EMAIL_HINT.with(|h| h.borrow().clone()));
    let err = message_line("forgot-error", true);
    let done = message_line("forgot-done", false);
    let submit = submit_button("forgot-submit", "Send reset link");
    let back = link("Back to log in", &Route::Inbox, "back-to-login");
    back.set_class_name("aside");
    append(&form, &[&intro, &l, &email, &err, &done, &submit, &back]);
    dom::on(&form, "submit", |e: Event| {
        e.prevent_default();
        let email = value_of("forgot-email").trim().to_owned();
        say("forgot-done", "");
        if email.is_empty() {
            say("forgot-error", "Enter your email address.");
            focus_id("forgot-email");
            return;
        }
        say("forgot-error", "");
        EMAIL_HINT.with(|h| *h.borrow_mut() = email.clone());
        busy("forgot-submit", true);
        let body = wire::body(&PasswordResetRequest { email });
        wasm_bindgen_futures::spawn_local(async move {
            let r = net::anonymous_empty("POST", "/api/v1/auth/password-reset", &body).await;
            busy("forgot-submit", false);
            match r {
                Ok(()) => say("forgot-done", password::RESET_SENT),
                Err(e) => {
                    say("forgot-error", &password::request_error(&e));
                    focus_id("forgot-email");
                }
            }
        });
    });
    focus(&email);
}

/// `#/reset`: a new password with the emailed link's token. Without a
/// token (the page reloaded: the token lives in memory only) it says to
/// open the link again or request a new one.
fn render_reset() {
    let form = signed_out_form("reset-form", "reset-title", "Choose a new password");
    let err = message_line("reset-error", true);
    let again = link("Request a new link", &Route::Forgot, "reset-request-new");
    attr(&again, "id", "reset-request-new");
    again.set_class_name("aside");
    let back = link("Back to log in", &Route::Inbox, "back-to-login");
    back.set_class_name("aside");
    if with_ref(|a| a.reset_token.is_none()) {
        err.set_text_content(Some(
            "This page needs the link from the reset email. Open the link again, or request a new one.",
        ));
        append(&form, &[&err, &again, &back]);
        focus(&again);
        return;
    }
    attr(&again, "hidden", "");
    let hint = format!("At least {} characters.", password::MIN_CHARS);
    let (l1, new, h1) = password_field("reset-new", "New password", "new-password", Some(&hint));
    let (l2, confirm, _) = password_field(
        "reset-confirm",
        "Confirm new password",
        "new-password",
        None,
    );
    let submit = submit_button("reset-submit", "Set new password");
    append(&form, &[&l1, &new]);
    if let Some(h) = h1 {
        append(&form, &[&h]);
    }
    append(&form, &[&l2, &confirm, &err, &again, &submit, &back]);
    dom::on(&form, "submit", |e: Event| {
        e.prevent_default();
        let new = value_of("reset-new");
        if let Err(p) = password::check_new(&new, &value_of("reset-confirm")) {
            say("reset-error", &p.message());
            focus_id(if p.field() == "confirm" {
                "reset-confirm"
            } else {
                "reset-new"
            });
            return;
        }
        let Some(token) = with_ref(|a| a.reset_token.clone()) else {
            render_reset();
            return;
        };
        say("reset-error", "");
        busy("reset-submit", true);
        let body = wire::body(&PasswordResetConfirm {
            token,
            new_password: new,
        });
        wasm_bindgen_futures::spawn_local(async move {
            let r =
                net::anonymous_empty("POST", "/api/v1/auth/password-reset/confirm", &body).await;
            busy("reset-submit", false);
            match r {
                Ok(()) => reset_done(password::RESET_DONE),
                Err(e) => {
                    say("reset-error", &password::confirm_error(&e));
                    if password::link_spent(&e) {
                        // Spent for good: only a new link helps.
                        with(|a| a.reset_token = None);
                        for id in ["reset-new", "reset-confirm", "reset-submit"] {
                            if let Some(x) = by_id(id) {
                                attr(&x, "disabled", "");
                            }
                        }
                        if let Some(a) = by_id("reset-request-new") {
                            let _ = a.remove_attribute("hidden");
                            focus(&a);
                        }
                    } else {
                        focus_id("reset-new");
                    }
                }
            }
        });
    });
    focus(&new);
}

// ----- signed in -----

/// The top bar's account menu (a disclosure: `<details>`), with "Change
/// password".
pub(super) fn account_menu() -> Element {
    let menu = el_class("details", "account-menu");
    attr(&menu, "id", "account-menu");
    testid(&menu, "account-menu");
    let summary = el_text("summary", "", "Account");
    let list = el_class("div", "menu");
    let change = link(
        "Change password",
        &Route::ChangePassword,
        "account-password",
    );
    dom::on(&change, "click", |_| {
        if let Some(m) = by_id("account-menu") {
            let _ = m.remove_attribute("open");
        }
    });
    append(&list, &[&change]);
    append(&menu, &[&summary, &list]);
    menu
}

/// `#/account/password`: the signed-in agent changes their password. The
/// server ends their other sessions; this one stays.
pub(super) fn render_change_password(main: &Element) {
    let page = el_class("div", "page");
    testid(&page, "password-page");
    let h = el_text("h2", "", "Change password");
    attr(&h, "id", "password-title");
    let form = el_class("form", "account-form");
    testid(&form, "password-form");
    attr(&form, "aria-labelledby", "password-title");
    attr(&form, "novalidate", "");
    let (l0, current, _) = password_field(
        "password-current",
        "Current password",
        "current-password",
        None,
    );
    let hint = format!(
        "At least {} characters. Your other sessions will be signed out; this one stays signed in.",
        password::MIN_CHARS
    );
    let (l1, new, h1) = password_field("password-new", "New password", "new-password", Some(&hint));
    let (l2, confirm, _) = password_field(
        "password-confirm",
        "Confirm new password",
        "new-password",
        None,
    );
    let err = message_line("password-error", true);
    let ok = message_line("password-success", false);
    let submit = submit_button("password-submit", "Change password");
    append(&form, &[&l0, &current, &l1, &new]);
    if let Some(h) = h1 {
        append(&form, &[&h]);
    }
    append(&form, &[&l2, &confirm, &err, &ok, &submit]);
    append(&page, &[&h, &form]);
    append(main, &[&page]);
    dom::on(&form, "submit", |e: Event| {
        e.prevent_default();
        let (old, new) = (value_of("password-current"), value_of("password-new"));
        say("password-success", "");
        if let Err(p) = password::check_change(&old, &new, &value_of("password-confirm")) {
            say("password-error", &p.message());
            focus_id(match p {
                Problem::CurrentMissing => "password-current",
                Problem::Mismatch => "password-confirm",
                _ => "password-new",
            });
            return;
        }
        say("password-error", "");
        busy("password-submit", true);
        let body = wire::body(&ChangePasswordRequest {
            old_password: old,
            new_password: new,
        });
        wasm_bindgen_futures::spawn_local(async move {
            let r = net::call("POST", "/api/v1/auth/change-password", Some(body)).await;
            busy("password-submit", false);
            match r {
                Ok(_) => {
                    for id in ["password-current", "password-new", "password-confirm"] {
                        clear_input(id);
                    }
                    say("password-success", password::CHANGED);
                    focus_id("password-current");
                }
                Err(e) => {
                    say("password-error", &password::change_error(&e));
                    let wrong_current = e.code == ErrorCode::InvalidCredentials;
                    if wrong_current {
                        clear_input("password-current");
                    }
                    focus_id(if wrong_current {
                        "password-current"
                    } else {
                        "password-new"
                    });
                }
            }
        });
    });
    focus(&current);
}
