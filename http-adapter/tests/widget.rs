//! `/api/v1/widget/*`: anonymous and host-verified visitor sessions, and the
//! visitor profile.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::service::identity::sign_identity;
use serde_json::json;
use support::{HMAC_SECRET, PASSWORD, spawn_app};

#[tokio::test]
async fn anonymous_visitor_session_and_profile() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/widget/sessions",
            json!({ "display_name": "Visitor" }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let v = r.json();
    let token = v["visitor_token"].as_str().unwrap();
    assert!(token.starts_with("ncv_"));
    assert_eq!(v["user"]["role"], "customer");
    assert_eq!(v["user"]["verified"], false);

    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.json()["id"], v["user"]["id"]);

    let r = app
        .call(
            "PATCH",
            "/api/v1/widget/profile",
            Some(token),
            json!({ "display_name": "Vera", "email": "vera@example.com" }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["display_name"], "Vera");
    assert_eq!(r.json()["email"], "vera@example.com");

    let bad = app
        .call(
            "PATCH",
            "/api/v1/widget/profile",
            Some(token),
            json!({ "display_name": "", "email": "nope" }),
        )
        .await;
    let mut fields = bad.field_names();
    fields.sort();
    assert_eq!(fields, ["display_name", "email"]);
}

#[tokio::test]
async fn host_verified_identity() {
    let app = spawn_app().await;
    let sig = sign_identity(
        HMAC_SECRET,
        "host-42",
        Some("carla@example.com"),
        Some("Carla"),
    );
    let body = json!({ "identity": {
        "method": "hmac", "user_id": "host-42", "email": "carla@example.com",
        "name": "Carla", "signature": sig,
    }});
    let r = app.post("/api/v1/widget/sessions", body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let first = r.json();
    assert_eq!(first["user"]["verified"], true);
    assert_eq!(first["user"]["display_name"], "Carla");
    // The same host user gets the same customer on the next visit.
    let again = app.post("/api/v1/widget/sessions", body).await.json();
    assert_eq!(again["user"]["id"], first["user"]["id"]);

    let forged = json!({ "identity": {
        "method": "hmac", "user_id": "host-43", "signature": sig,
    }});
    app.post("/api/v1/widget/sessions", forged)
        .await
        .problem(401, "identity_invalid");
    let unknown_method = json!({ "identity": { "method": "magic" } });
    app.post("/api/v1/widget/sessions", unknown_method)
        .await
        .problem(400, "malformed_request");
}

#[tokio::test]
async fn staff_have_no_visitor_profile() {
    let app = spawn_app().await;
    app.desk
        .bootstrap_admin("boss@example.com", PASSWORD, "Boss")
        .await
        .unwrap();
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "boss@example.com", "password": PASSWORD }),
        )
        .await
        .json();
    let token = login["tokens"]["access_token"].as_str().unwrap();
    app.call(
        "PATCH",
        "/api/v1/widget/profile",
        Some(token),
        json!({ "display_name": "Boss" }),
    )
    .await
    .problem(403, "forbidden");
}
