//! `/api/v1/auth/*` over real HTTP: happy paths, validation errors naming
//! each field, 401 for anonymous callers, and the token lifecycle.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{PASSWORD, email, spawn_app};

#[tokio::test]
async fn register_logs_the_new_customer_in() {
    let app = spawn_app().await;
    let (addr, auth) = app.register("Ada").await;
    assert_eq!(auth["user"]["email"], addr.as_str());
    assert_eq!(auth["user"]["display_name"], "Ada");
    assert_eq!(auth["user"]["role"], "customer");
    assert!(
        auth["tokens"]["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("ncr_")
    );
    let token = auth["tokens"]["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["id"], auth["user"]["id"]);
}

#[tokio::test]
async fn register_names_every_invalid_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({ "email": "not-an-email", "password": "short", "display_name": "  " }),
        )
        .await;
    let mut fields = r.field_names();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password"]);
}

#[tokio::test]
async fn register_twice_is_email_taken() {
    let app = spawn_app().await;
    let (addr, _) = app.register("Bob").await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({ "email": addr.to_uppercase(), "password": PASSWORD, "display_name": "Bob" }),
        )
        .await;
    r.problem(409, "email_taken");
}

#[tokio::test]
async fn login_right_wrong_and_empty() {
    let app = spawn_app().await;
    let (addr, _) = app.register("Cy").await;
    let ok = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": addr, "password": PASSWORD }),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["user"]["email"], addr.as_str());

    let wrong = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": addr, "password": "nope nope nope" }),
        )
        .await;
    let p = wrong.problem(401, "invalid_credentials");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let unknown = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": email("ghost"), "password": PASSWORD }),
        )
        .await;
    let q = unknown.problem(401, "invalid_credentials");
    assert_eq!(
        p["detail"], q["detail"],
        "unknown email and wrong password look alike"
    );

    let empty = app
        .post("/api/v1/auth/login", json!({ "email": "", "password": "" }))
        .await;
    let mut fields = empty.field_names();
    fields.sort();
    assert_eq!(fields, ["email", "password"]);
}

#[tokio::test]
async fn refresh_rotates_and_detects_reuse() {
    let app = spawn_app().await;
    let (_, auth) = app.register("Dee").await;
    let first = auth["tokens"]["refresh_token"].as_str().unwrap();
    let r = app
        .post("/api/v1/auth/refresh", json!({ "refresh_token": first }))
        .await;
    assert_eq!(r.status, 200);
    let second = r.json()["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);

    let again = app
        .post("/api/v1/auth/refresh", json!({ "refresh_token": first }))
        .await;
    again.problem(401, "refresh_token_reused");
    // Reuse ended the whole session: the newer token is dead too.
    let newer = app
        .post("/api/v1/auth/refresh", json!({ "refresh_token": second }))
        .await;
    assert_eq!(newer.status, 401);

    let garbage = app
        .post(
            "/api/v1/auth/refresh",
            json!({ "refresh_token": "ncr_garbage" }),
        )
        .await;
    garbage.problem(401, "token_invalid");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let (_, auth) = app.register("Eve").await;
    let token = auth["tokens"]["access_token"].as_str().unwrap();
    let refresh = auth["tokens"]["refresh_token"].as_str().unwrap();
    // No body at all is fine.
    let r = app
        .send(
            "POST",
            "/api/v1/auth/logout",
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    app.get("/api/v1/auth/me", Some(token))
        .await
        .problem(401, "session_revoked");
    let r = app
        .post("/api/v1/auth/refresh", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(r.status, 401);
    // Logging out again with the dead token is a 401, not a 5xx.
    let again = app
        .call("POST", "/api/v1/auth/logout", Some(token), json!({}))
        .await;
    again.problem(401, "session_revoked");
}

#[tokio::test]
async fn logout_with_only_a_refresh_token() {
    let app = spawn_app().await;
    let (_, auth) = app.register("Fay").await;
    let token = auth["tokens"]["access_token"].as_str().unwrap();
    let refresh = auth["tokens"]["refresh_token"].as_str().unwrap();
    let r = app
        .post("/api/v1/auth/logout", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(r.status, 204);
    app.get("/api/v1/auth/me", Some(token))
        .await
        .problem(401, "session_revoked");
    // An unknown refresh token has no session to end: still 204.
    let r = app
        .post(
            "/api/v1/auth/logout",
            json!({ "refresh_token": "ncr_unknown" }),
        )
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn anonymous_callers_get_401() {
    let app = spawn_app().await;
    app.get("/api/v1/auth/me", None)
        .await
        .problem(401, "unauthenticated");
    app.get("/api/v1/auth/me", Some("not.a.jwt"))
        .await
        .problem(401, "token_invalid");
    let basic = app
        .send(
            "GET",
            "/api/v1/auth/me",
            &[("authorization", "Basic YTpi")],
            "",
        )
        .await;
    basic.problem(401, "unauthenticated");
    app.post("/api/v1/auth/logout", json!({}))
        .await
        .problem(401, "unauthenticated");
    app.post(
        "/api/v1/auth/change-password",
        json!({ "old_password": PASSWORD, "new_password": "another long one" }),
    )
    .await
    .problem(401, "unauthenticated");
    app.call(
        "PATCH",
        "/api/v1/widget/profile",
        None,
        json!({ "display_name": "X" }),
    )
    .await
    .problem(401, "unauthenticated");
}

#[tokio::test]
async fn change_password() {
    let app = spawn_app().await;
    let (addr, auth) = app.register("Gus").await;
    let token = auth["tokens"]["access_token"].as_str().unwrap();
    let path = "/api/v1/auth/change-password";

    let bad = app
        .call(
            "POST",
            path,
            Some(token),
            json!({ "old_password": "", "new_password": "x" }),
        )
        .await;
    let mut fields = bad.field_names();
    fields.sort();
    assert_eq!(fields, ["new_password", "old_password"]);

    let wrong = app
        .call(
            "POST",
            path,
            Some(token),
            json!({ "old_password": "not my password", "new_password": "a brand new password" }),
        )
        .await;
    wrong.problem(401, "invalid_credentials");

    let ok = app
        .call(
            "POST",
            path,
            Some(token),
            json!({ "old_password": PASSWORD, "new_password": "a brand new password" }),
        )
        .await;
    assert_eq!(ok.status, 204);
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": addr, "password": "a brand new password" }),
        )
        .await;
    assert_eq!(login.status, 200);
    // This session stays.
    assert_eq!(app.get("/api/v1/auth/me", Some(token)).await.status, 200);
}

#[tokio::test]
async fn password_reset_round_trip() {
    let app = spawn_app().await;
    let (addr, auth) = app.register("Hal").await;
    let old_token = auth["tokens"]["access_token"].as_str().unwrap();

    let unknown = app
        .post(
            "/api/v1/auth/password-reset",
            json!({ "email": email("nobody") }),
        )
        .await;
    assert_eq!(
        unknown.status, 202,
        "does not reveal whether an account exists"
    );
    let r = app
        .post("/api/v1/auth/password-reset", json!({ "email": addr }))
        .await;
    assert_eq!(r.status, 202);
    let bad = app
        .post("/api/v1/auth/password-reset", json!({ "email": "nope" }))
        .await;
    assert_eq!(bad.field_names(), ["email"]);

    app.desk.deliver_outbox(10).await.unwrap();
    let mail = app
        .mailer
        .sent()
        .into_iter()
        .find(|m| m.to == addr)
        .expect("a reset mail");
    let token = mail
        .body
        .split(|c: char| c.is_whitespace() || c == '=' || c == '/' || c == '?')
        .find(|w| w.starts_with("ncp_"))
        .expect("the mail carries the reset token")
        .to_owned();

    let confirm = "/api/v1/auth/password-reset/confirm";
    let weak = app
        .post(confirm, json!({ "token": token, "new_password": "short" }))
        .await;
    assert_eq!(weak.field_names(), ["new_password"]);
    let forged = app
        .post(
            confirm,
            json!({ "token": "ncp_forged", "new_password": "a good new password" }),
        )
        .await;
    forged.problem(400, "reset_token_invalid");

    let ok = app
        .post(
            confirm,
            json!({ "token": token, "new_password": "a good new password" }),
        )
        .await;
    assert_eq!(ok.status, 204);
    let spent = app
        .post(
            confirm,
            json!({ "token": token, "new_password": "yet another password" }),
        )
        .await;
    spent.problem(400, "reset_token_invalid");
    // Every session ended; the new password works, the old one does not.
    app.get("/api/v1/auth/me", Some(old_token))
        .await
        .problem(401, "session_revoked");
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": addr, "password": "a good new password" }),
        )
        .await;
    assert_eq!(login.status, 200);
    app.post(
        "/api/v1/auth/login",
        json!({ "email": addr, "password": PASSWORD }),
    )
    .await
    .problem(401, "invalid_credentials");
}
