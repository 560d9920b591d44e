//! An existing axum app ("Acme Shop") with its own routes and its own login,
//! which mounts NeuroChat under `/support` and vouches for its logged-in
//! users in the chat widget through host identity verification (HMAC).
//!
//! The NeuroChat part is three lines of [`app`] plus one `Config` field:
//!
//! ```text
//! config.identity.hmac_secret = Some(Secret::new(hmac_secret));    // desk config
//! .nest("/support", neurochat_http::router(desk, HttpConfig::default()))
//! .route("/support-identity", get(support_identity))                // signs the user
//! ```
//!
//! The flow for a logged-in shop user: the page asks the shop for
//! `GET /support-identity`, which answers with the body the widget posts to
//! `POST /support/api/v1/widget/sessions`: the user's id, email and name and
//! an HMAC-SHA256 signature over them with the secret the shop shares with
//! NeuroChat. NeuroChat checks the signature and starts a visitor session
//! bound to that customer (created on first sight, the same one next time),
//! so the user never logs in twice and cannot pose as someone else.
//!
//! # Layout
//! - [`app`] — the shop's router with NeuroChat nested in it.
//! - [`HostUser`], [`DEMO_USERS`] — the shop's own (toy) user database.
//! - handlers `home`, `login`, `support_identity` — the shop's own routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use neurochat_core::Desk;
use neurochat_core::service::identity::sign_identity;
use neurochat_http::HttpConfig;
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::json;

/// The shop's session cookie.
pub const SESSION_COOKIE: &str = "acme_session";

/// A user of the host application (not a NeuroChat account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUser {
    /// The shop's own user id; NeuroChat keys the customer by it.
    pub id: &'static str,
    /// Login name.
    pub username: &'static str,
    /// Display name shared with support.
    pub name: &'static str,
    /// Email shared with support.
    pub email: &'static str,
}

/// The shop's users. A real shop has a database and hashed passwords; the
/// example only needs someone to log in as.
pub const DEMO_USERS: &[(HostUser, &str)] = &[
    (
        HostUser {
            id: "shop-user-1",
            username: "alice",
            name: "Alice Shopper",
            email: "alice@shop.example.com",
        },
        "alice-shop-password",
    ),
    (
        HostUser {
            id: "shop-user-2",
            username: "bob",
            name: "Bob Shopper",
            email: "bob@shop.example.com",
        },
        "bob-shop-password",
    ),
];

#[derive(Clone)]
struct Shop {
    /// Shared with NeuroChat (`Config::identity.hmac_secret`).
    hmac_secret: Arc<[u8]>,
    /// Session id → user.
    sessions: Arc<Mutex<HashMap<String, HostUser>>>,
}

/// The shop's router: its own pages, and NeuroChat under `/support`.
///
/// `desk` must have been built with `config.identity.hmac_secret` set to
/// `hmac_secret`, so that NeuroChat accepts what the shop signs.
pub fn app(desk: Desk, hmac_secret: &[u8]) -> Router {
    let shop = Shop {
        hmac_secret: hmac_secret.into(),
        sessions: Arc::default(),
    };
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/support-identity", get(support_identity))
        .with_state(shop)
        // Everything NeuroChat serves, under /support: REST, /ws, OpenAPI.
        .nest(
            "/support",
            neurochat_http::router(desk, HttpConfig::default()),
        )
}

async fn home() -> &'static str {
    "Acme Shop. Log in with POST /login {\"username\", \"password\"}; support lives under /support.\n"
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// The shop's own login (a JSON body `{username, password}`): sets its
/// session cookie.
async fn login(State(shop): State<Shop>, Json(form): Json<LoginForm>) -> Response {
    let Some((user, _)) = DEMO_USERS
        .iter()
        .find(|(u, p)| u.username == form.username && *p == form.password)
    else {
        return (StatusCode::UNAUTHORIZED, "wrong username or password\n").into_response();
    };
    let mut id = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let id = hex::encode(id);
    shop.sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.clone(), user.clone());
    let cookie = format!("{SESSION_COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/");
    (
        [(header::SET_COOKIE, cookie)],
        format!("hello {}\n", user.name),
    )
        .into_response()
}

/// What the widget posts to `/support/api/v1/widget/sessions` for the
/// logged-in user: their identity signed with the shared secret. The
/// secret itself never leaves the server.
async fn support_identity(State(shop): State<Shop>, headers: HeaderMap) -> Response {
    let Some(user) = current_user(&shop, &headers) else {
        return (StatusCode::UNAUTHORIZED, "log in first\n").into_response();
    };
    let signature = sign_identity(
        &shop.hmac_secret,
        user.id,
        Some(user.email),
        Some(user.name),
    );
    Json(json!({
        "identity": {
            "method": "hmac",
            "user_id": user.id,
            "email": user.email,
            "name": user.name,
            "signature": signature,
        }
    }))
    .into_response()
}

fn current_user(shop: &Shop, headers: &HeaderMap) -> Option<HostUser> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = cookies.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == SESSION_COOKIE).then_some(value)
    })?;
    shop.sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(id)
        .cloned()
}
