//! `GET /metrics` over real HTTP: off by default, open or behind a bearer
//! token when configured, and the numbers move with the traffic.

#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::events::{EscalationReason, Event, Topic};
use neurochat_http::MetricsAccess;
use support::{STEP, spawn_app, spawn_app_with};
use tokio::time::timeout;

/// The value of the sample line `name_and_labels` (the whole text before
/// the value), if present.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let (k, v) = l.rsplit_once(' ')?;
        (k == name_and_labels).then(|| v.parse().ok())?
    })
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    app.get("/metrics", None).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_bearer_token_guards_the_metrics_when_configured() {
    let app =
        spawn_app_with(|c| c.metrics = MetricsAccess::BearerToken("scrape-secret".into())).await;
    app.get("/metrics", None)
        .await
        .problem(401, "unauthenticated");
    app.get("/metrics", Some("scrape-secreT"))
        .await
        .problem(401, "unauthenticated");
    let r = app.get("/metrics", Some("scrape-secret")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn requests_latency_websockets_database_and_escalations_are_counted() {
    let app = spawn_app_with(|c| c.metrics = MetricsAccess::Open).await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz", None).await.status, 200);
    }
    assert_eq!(app.get("/readyz", None).await.status, 200);
    // The route template, not the raw path, labels the answer (401: no token).
    app.get("/api/v1/tickets/not-a-uuid", None).await;
    app.get("/no/such/route", None).await;

    let customer = app.customer("metrics").await;
    let ticket = app.ticket(&customer, "Escalate me").await;
    let id = ticket["id"].as_str().unwrap().parse().unwrap();
    let ticket = app
        .desk
        .get_ticket(&app.desk.authenticate(&customer.token).await.unwrap(), id)
        .await
        .unwrap();
    // What the background worker publishes when a ticket breaches its SLA.
    app.desk
        .bus()
        .publish(
            Topic::Inbox,
            Event::Escalated {
                ticket,
                reason: EscalationReason::NewTooLong,
            },
        )
        .await
        .unwrap();

    let (ws, _) = timeout(
        STEP,
        tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr)),
    )
    .await
    .unwrap()
    .unwrap();

    // The escalation travels through the bus and the WebSocket count
    // through the gateway's session task: poll until both show.
    let mut text = String::new();
    for _ in 0..100 {
        let r = app.get("/metrics", None).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        text = String::from_utf8(r.body.to_vec()).unwrap();
        let escalated = sample(
            &text,
            "neurochat_escalations_total{reason=\"new_too_long\"}",
        );
        let open = sample(&text, "neurochat_ws_connections");
        if escalated == Some(1.0) && open == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let has = |k: &str| sample(&text, k).unwrap_or_else(|| panic!("no sample {k} in\n{text}"));
    assert_eq!(
        has(r#"neurochat_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        3.0
    );
    assert_eq!(
        has(
            r#"neurochat_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="401"}"#
        ),
        1.0
    );
    assert_eq!(
        has(r#"neurochat_http_requests_total{method="GET",route="<unmatched>",status="404"}"#),
        1.0
    );
    assert_eq!(
        has(r#"neurochat_http_requests_total{method="POST",route="/api/v1/tickets",status="201"}"#),
        1.0
    );
    assert_eq!(
        has(
            r#"neurochat_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"}"#
        ),
        3.0
    );
    assert_eq!(
        has(r#"neurochat_http_request_duration_seconds_count{method="GET",route="/healthz"}"#),
        3.0
    );
    assert_eq!(has("neurochat_ws_connections"), 1.0);
    assert!(has("neurochat_ws_connections_opened_total") >= 1.0);
    assert_eq!(has("neurochat_ws_messages_relayed_total"), 0.0);
    // /readyz once, and one sample per scrape.
    assert!(
        has("neurochat_db_ping_duration_seconds_count") >= 2.0,
        "{text}"
    );
    assert_eq!(
        has(r#"neurochat_escalations_total{reason="new_too_long"}"#),
        1.0
    );
    assert_eq!(
        has(r#"neurochat_escalations_total{reason="unanswered"}"#),
        0.0
    );
    // Every metric is declared once with its type.
    for name in [
        "neurochat_http_requests_total counter",
        "neurochat_http_request_duration_seconds histogram",
        "neurochat_ws_connections gauge",
        "neurochat_db_ping_duration_seconds histogram",
        "neurochat_escalations_total counter",
    ] {
        assert_eq!(
            text.matches(&format!("# TYPE {name}\n")).count(),
            1,
            "{name}"
        );
    }
    drop(ws);
}
