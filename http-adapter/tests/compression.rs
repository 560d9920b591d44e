//! Response compression over real HTTP: gzip when asked for and worth it.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read as _;

use serde_json::Value;
use support::spawn_app;

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn json_responses_are_gzipped_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let plain = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None, "not asked for");

    let r = app
        .send(
            "GET",
            "/api/v1/openapi.json",
            &[("accept-encoding", "gzip")],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        r.header("vary")
            .is_some_and(|v| v.contains("accept-encoding"))
    );
    // The security headers survive compression.
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(
        r.body.len() * 3 < plain.body.len(),
        "{} vs {}",
        r.body.len(),
        plain.body.len()
    );
    let json: Value = serde_json::from_slice(&gunzip(&r.body)).unwrap();
    assert_eq!(json, plain.json());
}

#[tokio::test]
async fn a_page_of_tickets_is_gzipped_and_small_answers_are_not() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let customer = app.customer("gzip").await;
    // Four: the per-customer ticket limit allows five; four tickets are
    // well over the compression threshold.
    for i in 0..4 {
        app.ticket(&customer, &format!("Ticket number {i} about my order"))
            .await;
    }
    let auth = format!("Bearer {}", admin.token);
    let r = app
        .send(
            "GET",
            "/api/v1/tickets?limit=50",
            &[("accept-encoding", "gzip"), ("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let page: Value = serde_json::from_slice(&gunzip(&r.body)).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 4, "{page}");

    // A tiny body is not worth it, and neither is a problem document.
    let r = app
        .send("GET", "/healthz", &[("accept-encoding", "gzip")], "")
        .await;
    assert_eq!(r.header("content-encoding"), None);
    let r = app
        .send("GET", "/api/v1/auth/me", &[("accept-encoding", "gzip")], "")
        .await;
    assert_eq!(r.header("content-encoding"), None);
    r.problem(401, "unauthenticated");
}
