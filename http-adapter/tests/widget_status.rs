//! `GET /api/v1/widget/status`: public, counts online staff (set by hand or
//! by a WebSocket connection), the usual reply time from first responses
//! (cached), no identities, rate limited per client address, CORS for host
//! sites.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_http::Quota;
use serde_json::{Value, json};
use support::{Actor, App, STEP, client_id, spawn_app, spawn_app_with};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const STATUS: &str = "/api/v1/widget/status";

async fn status(app: &App) -> Value {
    let r = app.get(STATUS, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.json();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["agents_online", "reply_within_seconds"]),
        "counts and a duration only: {v}"
    );
    v
}

async fn set_availability(app: &App, who: &Actor, availability: &str) {
    let r = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{}/agent", who.id),
            who.token(),
            json!({ "availability": availability }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// A customer's ticket, claimed and answered by `agent`.
async fn answered_ticket(app: &App, customer: &Actor, agent: &Actor) {
    let t = app.ticket(customer, "Where is my parcel?").await;
    let id = t["id"].as_str().unwrap();
    let r = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/claim"),
            agent.token(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/messages"),
            agent.token(),
            json!({ "body": "On its way.", "client_msg_id": client_id() }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

#[tokio::test]
async fn counts_online_staff_and_the_usual_reply_time_without_identities() {
    let app = spawn_app_with(|c| c.reply_within_cache = Duration::ZERO).await;
    // Nobody yet: no auth needed, nothing to go by.
    assert_eq!(
        status(&app).await,
        json!({ "agents_online": 0, "reply_within_seconds": null })
    );

    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let ben = app.agent(&admin, "Ben").await;
    let carl = app.customer("Carl").await;
    assert_eq!(
        status(&app).await["agents_online"],
        0,
        "staff start offline"
    );
    set_availability(&app, &ana, "online").await;
    set_availability(&app, &ben, "away").await;
    assert_eq!(status(&app).await["agents_online"], 1, "away is not online");
    set_availability(&app, &admin, "online").await;
    assert_eq!(status(&app).await["agents_online"], 2, "admins answer too");

    // A ticket answered (within a second or two here): the usual reply
    // time is that first response, in whole seconds, rounded up.
    answered_ticket(&app, &carl, &ana).await;
    let v = status(&app).await;
    let within = v["reply_within_seconds"].as_u64().unwrap();
    assert!(within <= 30, "{v}");

    // Whatever the status says, it names no one.
    let text = String::from_utf8(app.get(STATUS, None).await.body.to_vec()).unwrap();
    for who in [&admin, &ana, &ben] {
        assert!(!text.contains(&who.id), "{text}");
        assert!(!text.contains(&who.email), "{text}");
    }
    assert!(!text.contains("Ana") && !text.contains("Ben"), "{text}");

    // A customer's or visitor's token changes nothing (the route is public).
    let r = app.get(STATUS, carl.token()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v);
}

#[tokio::test]
async fn an_agent_connected_over_the_websocket_counts_as_online() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    assert_eq!(status(&app).await["agents_online"], 0);

    let (mut ws, _) = timeout(
        STEP,
        tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr)),
    )
    .await
    .unwrap()
    .unwrap();
    ws.send(Message::text(
        json!({ "type": "auth", "token": ana.token }).to_string(),
    ))
    .await
    .unwrap();
    loop {
        let msg = timeout(STEP, ws.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(t) = msg {
            let frame: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_eq!(frame["type"], "hello", "{frame}");
            break;
        }
    }
    // The gateway marks her online before it says hello.
    assert_eq!(status(&app).await["agents_online"], 1);
}

#[tokio::test]
async fn the_reply_time_is_cached_and_online_agents_are_not() {
    // The default cache (5 minutes).
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let carl = app.customer("Carl").await;
    assert_eq!(status(&app).await["reply_within_seconds"], Value::Null);
    answered_ticket(&app, &carl, &ana).await;
    set_availability(&app, &ana, "online").await;
    let v = status(&app).await;
    assert_eq!(
        v["reply_within_seconds"],
        Value::Null,
        "still the cached figure: {v}"
    );
    assert_eq!(v["agents_online"], 1, "read at every request");
}

#[tokio::test]
async fn rate_limited_per_address() {
    let app = spawn_app_with(|c| {
        c.rate_limits.widget_status = Some(Quota::new(3, Duration::from_secs(3600)));
    })
    .await;
    for _ in 0..3 {
        status(&app).await;
    }
    let r = app.get(STATUS, None).await;
    r.problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn a_host_site_reads_it_cross_origin() {
    let app = spawn_app_with(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    let r = app
        .send("GET", STATUS, &[("origin", "https://shop.example")], "")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let r = app
        .send("GET", STATUS, &[("origin", "https://evil.example")], "")
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}
