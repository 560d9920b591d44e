//! The shop's routes and NeuroChat's side by side in one router, and a shop
//! user verified into the widget with the identity the shop signs.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use neurochat_core::config::{PasswordHashing, Secret};
use neurochat_core::{Config, Desk};
use neurochat_storage_sqlx::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HMAC_SECRET: &[u8] = b"shop-and-support-shared-secret-0123456789";

async fn shop() -> Router {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let mut config = Config::new(b"signing-key-0123456789abcdef0123456789".to_vec());
    config.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    config.identity.hmac_secret = Some(Secret::new(HMAC_SECRET));
    let desk = Desk::builder(Arc::new(store), config).build().unwrap();
    neurochat_example_embed_axum::app(desk, HMAC_SECRET)
}

async fn call(app: &Router, req: Request<Body>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec();
    (status, headers, body)
}

fn post_json(uri: &str, body: &Value, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn get(uri: &str, headers: &[(header::HeaderName, &str)]) -> Request<Body> {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_logged_in_shop_user_becomes_a_verified_support_customer() {
    let app = shop().await;

    // The shop's own routes still answer.
    let (status, _, body) = call(&app, get("/", &[])).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("Acme Shop"));
    let (status, _, _) = call(&app, get("/support/healthz", &[])).await;
    assert_eq!(status, 200, "NeuroChat answers under /support");

    // Not logged in at the shop: nothing to vouch for.
    let (status, _, _) = call(&app, get("/support-identity", &[])).await;
    assert_eq!(status, 401);

    // Log in at the shop; its cookie gets the signed identity.
    let login = json!({ "username": "alice", "password": "alice-shop-password" });
    let (status, headers, _) = call(&app, post_json("/login", &login, None)).await;
    assert_eq!(status, 200);
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap().to_owned())
        .unwrap();
    let (status, _, body) =
        call(&app, get("/support-identity", &[(header::COOKIE, &cookie)])).await;
    assert_eq!(status, 200);
    let identity: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(identity["identity"]["user_id"], "shop-user-1");

    // The widget posts it to NeuroChat and gets a session as that customer.
    let (status, _, body) = call(
        &app,
        post_json("/support/api/v1/widget/sessions", &identity, None),
    )
    .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let session: Value = serde_json::from_slice(&body).unwrap();
    let token = session["visitor_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let (status, _, body) = call(
        &app,
        get(
            "/support/api/v1/auth/me",
            &[(header::AUTHORIZATION, &bearer)],
        ),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let me: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(me["display_name"], "Alice Shopper");
    assert_eq!(me["role"], "customer");

    // The same shop user again is the same customer.
    let (_, _, body) = call(
        &app,
        post_json("/support/api/v1/widget/sessions", &identity, None),
    )
    .await;
    let again: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(again["user"]["id"], session["user"]["id"]);

    // Changing a signed field (posing as someone else) is refused.
    let mut forged = identity.clone();
    forged["identity"]["user_id"] = json!("shop-user-2");
    let (status, _, body) = call(
        &app,
        post_json("/support/api/v1/widget/sessions", &forged, None),
    )
    .await;
    assert_eq!(status, 401);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "identity_invalid");
}
