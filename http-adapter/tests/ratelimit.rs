//! Login and password reset are rate limited per client IP and per account:
//! past the quota they answer 429 `rate_limited` with `Retry-After`.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use neurochat_http::{EndpointLimits, Quota};
use serde_json::json;
use support::{PASSWORD, email, spawn_app_with};

fn quota(burst: u32) -> Option<Quota> {
    Some(Quota::new(burst, Duration::from_secs(60)))
}

#[track_caller]
fn assert_limited(r: &support::Resp) {
    r.problem(429, "rate_limited");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
}

#[tokio::test]
async fn login_per_account() {
    let app = spawn_app_with(|c| {
        c.rate_limits.login = EndpointLimits {
            per_ip: None,
            per_account: quota(3),
        };
    })
    .await;
    let (victim, _) = app.register("Victim").await;
    for _ in 0..3 {
        let r = app
            .post(
                "/api/v1/auth/login",
                json!({ "email": victim, "password": "guess guess" }),
            )
            .await;
        r.problem(401, "invalid_credentials");
    }
    // The right password no longer helps once the account's bucket is empty,
    // and the email's case does not make a new bucket.
    let r = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": victim.to_uppercase(), "password": PASSWORD }),
        )
        .await;
    assert_limited(&r);
    // Other accounts are unaffected.
    let (other, _) = app.register("Other").await;
    let r = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": other, "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn login_per_ip() {
    let app = spawn_app_with(|c| {
        c.rate_limits.login = EndpointLimits {
            per_ip: quota(4),
            per_account: None,
        };
    })
    .await;
    for _ in 0..4 {
        let r = app
            .post(
                "/api/v1/auth/login",
                json!({ "email": email("x"), "password": "p" }),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": email("y"), "password": "p" }),
        )
        .await;
    assert_limited(&r);
}

#[tokio::test]
async fn password_reset_per_account_and_per_ip() {
    let app = spawn_app_with(|c| {
        c.rate_limits.password_reset = EndpointLimits {
            per_ip: quota(5),
            per_account: quota(2),
        };
    })
    .await;
    let target = email("target");
    for _ in 0..2 {
        let r = app
            .post("/api/v1/auth/password-reset", json!({ "email": target }))
            .await;
        assert_eq!(r.status, 202);
    }
    let r = app
        .post("/api/v1/auth/password-reset", json!({ "email": target }))
        .await;
    assert_limited(&r);
    // The refused request spent an IP token too: two of five remain, and
    // the confirmation draws from the same per-IP bucket.
    let r = app
        .post(
            "/api/v1/auth/password-reset",
            json!({ "email": email("other") }),
        )
        .await;
    assert_eq!(r.status, 202);
    let confirm = json!({ "token": "ncp_x", "new_password": "long enough password" });
    let r = app
        .post("/api/v1/auth/password-reset/confirm", confirm.clone())
        .await;
    r.problem(400, "reset_token_invalid");
    let r = app
        .post("/api/v1/auth/password-reset/confirm", confirm)
        .await;
    assert_limited(&r);
}

#[tokio::test]
async fn defaults_let_a_person_retry_but_stop_a_guesser() {
    let app = spawn_app_with(|_| {}).await;
    let (victim, _) = app.register("Def").await;
    let mut limited = None;
    for i in 0..20 {
        let r = app
            .post(
                "/api/v1/auth/login",
                json!({ "email": victim, "password": "guess guess" }),
            )
            .await;
        if r.status == 429 {
            limited = Some(i);
            break;
        }
        r.problem(401, "invalid_credentials");
    }
    let n = limited.expect("the default per-account limit stops 20 rapid guesses");
    assert!(n >= 3, "a few typos are allowed (limited after {n})");
}

#[tokio::test]
async fn writes_per_user() {
    let app = spawn_app_with(|c| {
        c.rate_limits.writes = quota(3);
    })
    .await;
    let c = app.customer("Writer").await;
    let t = app.ticket(&c, "Chatty").await;
    let path = format!("/api/v1/tickets/{}/messages", t["id"].as_str().unwrap());
    // Opening the ticket was the first write.
    for i in 0..2 {
        let r = app
            .call(
                "POST",
                &path,
                c.token(),
                json!({ "body": "hi", "client_msg_id": format!("w{i}") }),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let r = app
        .call(
            "POST",
            &path,
            c.token(),
            json!({ "body": "hi", "client_msg_id": "w9" }),
        )
        .await;
    assert_limited(&r);
    // Reads are not writes, and other users have their own quota.
    assert_eq!(app.get(&path, c.token()).await.status, 200);
    let d = app.customer("Other").await;
    let r = app
        .call(
            "POST",
            "/api/v1/tickets",
            d.token(),
            json!({ "subject": "s", "body": "b", "client_msg_id": "x" }),
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn ticket_creation_per_customer() {
    let app = spawn_app_with(|c| {
        c.rate_limits.ticket_create = EndpointLimits {
            per_ip: None,
            per_account: quota(2),
        };
    })
    .await;
    let c = app.customer("Spammer").await;
    for _ in 0..2 {
        app.ticket(&c, "Buy now").await;
    }
    let r = app
        .call(
            "POST",
            "/api/v1/tickets",
            c.token(),
            json!({ "subject": "s", "body": "b", "client_msg_id": "x" }),
        )
        .await;
    assert_limited(&r);
    // Another customer from the same address still gets through.
    let d = app.customer("Honest").await;
    app.ticket(&d, "Real question").await;
}

#[tokio::test]
async fn ticket_creation_per_ip_stops_fresh_visitors() {
    let app = spawn_app_with(|c| {
        c.rate_limits.ticket_create = EndpointLimits {
            per_ip: quota(3),
            per_account: None,
        };
    })
    .await;
    // A script that starts a new anonymous visitor for every ticket.
    let mut last = None;
    for i in 0..4 {
        let v = app.post("/api/v1/widget/sessions", json!({})).await;
        assert_eq!(v.status, 201);
        let token = v.json()["visitor_token"].as_str().unwrap().to_owned();
        let r = app
            .call(
                "POST",
                "/api/v1/tickets",
                Some(&token),
                json!({ "subject": "spam", "body": "spam", "client_msg_id": format!("s{i}") }),
            )
            .await;
        last = Some(r);
        if i < 3 {
            assert_eq!(last.as_ref().unwrap().status, 201);
        }
    }
    assert_limited(&last.unwrap());
}

#[tokio::test]
async fn default_write_and_ticket_limits_stop_floods() {
    let app = spawn_app_with(|_| {}).await;
    let c = app.customer("Flood").await;
    let mut limited = None;
    for i in 0..20 {
        let r = app
            .call(
                "POST",
                "/api/v1/tickets",
                c.token(),
                json!({ "subject": "s", "body": "b", "client_msg_id": format!("f{i}") }),
            )
            .await;
        if r.status == 429 {
            limited = Some(i);
            assert_limited(&r);
            break;
        }
        assert_eq!(r.status, 201);
    }
    let n = limited.expect("the default per-customer ticket limit stops 20 rapid opens");
    assert!(n >= 3, "a few tickets at once are fine (limited after {n})");
}
