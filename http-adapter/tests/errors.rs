//! Bad input never panics or answers 5xx: malformed JSON 400, wrong shape
//! 400, missing content type 415, oversized 413, unknown route 404, wrong
//! method 405 — each a problem document with a stable code. Plus the
//! cross-cutting middleware: request ids, security headers, CORS, timeout.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{PASSWORD, spawn_app, spawn_app_with};

/// Every route that reads a JSON body, with a bearer token where it needs one.
const BODY_ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/api/v1/auth/register", false),
    ("POST", "/api/v1/auth/login", false),
    ("POST", "/api/v1/auth/refresh", false),
    ("POST", "/api/v1/auth/logout", true),
    ("POST", "/api/v1/auth/password-reset", false),
    ("POST", "/api/v1/auth/password-reset/confirm", false),
    ("POST", "/api/v1/auth/change-password", true),
    ("PATCH", "/api/v1/widget/profile", true),
    ("POST", "/api/v1/widget/sessions", false),
    ("POST", "/api/v1/tickets", true),
    (
        "PATCH",
        "/api/v1/tickets/0195a1b2-0000-7000-8000-000000000001",
        true,
    ),
    (
        "PUT",
        "/api/v1/tickets/0195a1b2-0000-7000-8000-000000000001/assignee",
        true,
    ),
    (
        "POST",
        "/api/v1/tickets/0195a1b2-0000-7000-8000-000000000001/messages",
        true,
    ),
    (
        "POST",
        "/api/v1/tickets/0195a1b2-0000-7000-8000-000000000001/receipts",
        true,
    ),
    ("POST", "/api/v1/categories", true),
    (
        "PATCH",
        "/api/v1/categories/0195a1b2-0000-7000-8000-000000000001",
        true,
    ),
    (
        "PUT",
        "/api/v1/users/0195a1b2-0000-7000-8000-000000000001/role",
        true,
    ),
    (
        "PUT",
        "/api/v1/users/0195a1b2-0000-7000-8000-000000000001/disabled",
        true,
    ),
    (
        "PATCH",
        "/api/v1/users/0195a1b2-0000-7000-8000-000000000001/agent",
        true,
    ),
];

async fn headers_for(app: &support::App, auth: bool, ct: Option<&str>) -> Vec<(String, String)> {
    let mut h = Vec::new();
    if let Some(ct) = ct {
        h.push(("content-type".to_owned(), ct.to_owned()));
    }
    if auth {
        let token = app.customer_token("Bad").await;
        h.push(("authorization".to_owned(), format!("Bearer {token}")));
    }
    h
}

async fn send(
    app: &support::App,
    method: &str,
    path: &str,
    h: &[(String, String)],
    body: &'static str,
) -> support::Resp {
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.send(method, path, &h, body).await
}

#[tokio::test]
async fn malformed_json_is_400_on_every_body_route() {
    let app = spawn_app().await;
    for (method, path, auth) in BODY_ROUTES {
        let h = headers_for(&app, *auth, Some("application/json")).await;
        for body in ["{", "not json", "[1,2", "{\"email\": }"] {
            let r = send(&app, method, path, &h, body).await;
            r.problem(400, "malformed_request");
        }
        // Valid JSON of the wrong shape: unknown field, wrong type.
        let r = send(&app, method, path, &h, "{\"surprise\": 1}").await;
        r.problem(400, "malformed_request");
        let r = send(&app, method, path, &h, "\"a string\"").await;
        r.problem(400, "malformed_request");
    }
}

#[tokio::test]
async fn json_without_content_type_is_415() {
    let app = spawn_app().await;
    for (method, path, auth) in BODY_ROUTES {
        let h = headers_for(&app, *auth, Some("text/plain")).await;
        let r = send(&app, method, path, &h, "{}").await;
        r.problem(415, "malformed_request");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_on_every_body_route() {
    let app = spawn_app_with(|c| c.body_limit = 1024).await;
    let big: &'static str = Box::leak(
        format!(
            "{{\"email\": \"{}@example.com\", \"password\": \"x\"}}",
            "a".repeat(4096)
        )
        .into_boxed_str(),
    );
    for (method, path, auth) in BODY_ROUTES {
        let h = headers_for(&app, *auth, Some("application/json")).await;
        let r = send(&app, method, path, &h, big).await;
        r.problem(413, "payload_too_large");
    }
    // Just under the limit is read (and then judged on its content).
    let r = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "a@example.com", "password": PASSWORD }),
        )
        .await;
    r.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/auth/login",
        "/api/v1/auth/me/extra",
    ] {
        app.get(path, None).await.problem(404, "not_found");
    }
    for (method, path) in [
        ("GET", "/api/v1/auth/login"),
        ("DELETE", "/api/v1/auth/me"),
        ("POST", "/healthz"),
        ("PUT", "/api/v1/widget/sessions"),
    ] {
        let r = app.send(method, path, &[], "").await;
        r.problem(405, "malformed_request");
    }
}

#[tokio::test]
async fn request_ids_are_kept_if_sane_and_made_otherwise() {
    let app = spawn_app().await;
    let r = app
        .send("GET", "/healthz", &[("x-request-id", "abc-123_x.y")], "")
        .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123_x.y"));
    let r = app
        .send("GET", "/healthz", &[("x-request-id", "bad id\"; drop")], "")
        .await;
    let id = r.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let r = app.get("/nope", None).await;
    let p = r.problem(404, "not_found");
    assert!(uuid::Uuid::parse_str(p["request_id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn security_headers_on_success_error_and_404() {
    let app = spawn_app().await;
    let ok = app.get("/healthz", None).await;
    assert_eq!(ok.status, 200);
    let err = app.get("/api/v1/auth/me", None).await;
    let missing = app.get("/missing", None).await;
    for r in [&ok, &err, &missing] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.header("content-security-policy").is_some());
        assert!(r.header("x-request-id").is_some());
    }
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let app = spawn_app_with(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.send(
                "OPTIONS",
                "/api/v1/widget/sessions",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "content-type"),
                ],
                "",
            )
            .await
        }
    };
    let ok = preflight("https://shop.example").await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let evil = preflight("https://evil.example").await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let r = app
        .send("GET", "/healthz", &[("origin", "https://shop.example")], "")
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let exposed = r.header("access-control-expose-headers").unwrap_or("");
    assert!(exposed.contains("x-request-id") && exposed.contains("retry-after"));

    // By default no origin gets CORS headers at all.
    let default = spawn_app().await;
    let r = default
        .send("GET", "/healthz", &[("origin", "https://shop.example")], "")
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_slow_request_is_503_unavailable() {
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_nanos(1)).await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({ "email": support::email("slow"), "password": PASSWORD, "display_name": "S" }),
        )
        .await;
    let p = r.problem(503, "unavailable");
    assert_eq!(p["detail"], "The request took too long.");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!((r.status, r.json()), (200, json!({ "status": "ok" })));
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status, r.json()), (200, json!({ "status": "ok" })));
}
