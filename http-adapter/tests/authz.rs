//! Authorization as a role × route table over real HTTP: anonymous callers
//! get 401 everywhere; a customer touching another customer's ticket or
//! data gets 404 and learns nothing about it; agents get 403 for admin
//! work; admins may do everything. Core decides; these tests prove the
//! HTTP layer maps each decision to a stable code and never a 5xx. Also:
//! unknown and malformed ids are 404 on every `{id}` route.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Actor, client_id, spawn_app};

/// Expected status for: anonymous, the ticket's customer, another customer,
/// an agent, an admin.
type Row = (&'static str, String, Value, [u16; 5]);

#[tokio::test]
async fn role_by_route_table() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "Agnes").await;
    let owner = app.customer("Olivia").await;
    let other = app.customer("Oscar").await;
    // A customer the admin rows change (role, disabled, erased) so the
    // others stay as they are.
    let target = app.customer("Tess").await;
    let ticket = app.ticket(&owner, "Secret subject of Olivia").await;
    let t = ticket["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            "POST",
            "/api/v1/categories",
            admin.token(),
            json!({ "name": "Billing" }),
        )
        .await;
    let c = r.json()["id"].as_str().unwrap().to_owned();
    let (o, d, g) = (&owner.id, &target.id, &agent.id);
    let new_ticket = json!({ "subject": "Help", "body": "Hi", "client_msg_id": client_id() });
    let none = Value::Null;
    let rows: Vec<Row> = vec![
        (
            "POST",
            "/api/v1/tickets".into(),
            new_ticket,
            [401, 201, 201, 403, 403],
        ),
        (
            "GET",
            "/api/v1/tickets".into(),
            none.clone(),
            [401, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/tickets/{t}"),
            none.clone(),
            [401, 200, 404, 200, 200],
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{t}"),
            json!({ "priority": "high" }),
            [401, 403, 404, 200, 200],
        ),
        // The agent's claim wins; the admin passes authorization and meets
        // the rule.
        (
            "POST",
            format!("/api/v1/tickets/{t}/claim"),
            none.clone(),
            [401, 403, 404, 200, 409],
        ),
        (
            "PUT",
            format!("/api/v1/tickets/{t}/assignee"),
            json!({ "assignee_id": g }),
            [401, 403, 404, 200, 200],
        ),
        (
            "DELETE",
            format!("/api/v1/tickets/{t}/assignee"),
            none.clone(),
            [401, 403, 404, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/tickets/{t}/messages"),
            none.clone(),
            [401, 200, 404, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/tickets/{t}/messages"),
            json!({ "body": "Hello", "client_msg_id": "authz-1" }),
            [401, 201, 404, 201, 201],
        ),
        (
            "GET",
            format!("/api/v1/tickets/{t}/receipts"),
            none.clone(),
            [401, 200, 404, 200, 200],
        ),
        (
            "POST",
            format!("/api/v1/tickets/{t}/receipts"),
            json!({ "read_seq": 1 }),
            [401, 200, 404, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/tickets/{t}/audit"),
            none.clone(),
            [401, 403, 404, 200, 200],
        ),
        (
            "GET",
            "/api/v1/agents".into(),
            none.clone(),
            [401, 403, 403, 200, 200],
        ),
        (
            "GET",
            "/api/v1/categories".into(),
            none.clone(),
            [401, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/categories".into(),
            json!({ "name": "Shipping" }),
            [401, 403, 403, 403, 201],
        ),
        (
            "PATCH",
            format!("/api/v1/categories/{c}"),
            json!({ "name": "Invoices" }),
            [401, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/users".into(),
            none.clone(),
            [401, 403, 403, 403, 200],
        ),
        (
            "GET",
            format!("/api/v1/users/{o}"),
            none.clone(),
            [401, 200, 404, 200, 200],
        ),
        (
            "PUT",
            format!("/api/v1/users/{d}/role"),
            json!({ "role": "customer" }),
            [401, 403, 403, 403, 200],
        ),
        (
            "PUT",
            format!("/api/v1/users/{d}/disabled"),
            json!({ "disabled": false }),
            [401, 403, 403, 403, 200],
        ),
        (
            "GET",
            format!("/api/v1/users/{g}/agent"),
            none.clone(),
            [401, 403, 403, 200, 200],
        ),
        (
            "PATCH",
            format!("/api/v1/users/{g}/agent"),
            json!({ "capacity": 3 }),
            [401, 403, 403, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/users/{o}/export"),
            none.clone(),
            [401, 200, 404, 403, 200],
        ),
        (
            "GET",
            "/api/v1/metrics/me".into(),
            none.clone(),
            [401, 403, 403, 200, 200],
        ),
        (
            "GET",
            "/api/v1/metrics/team".into(),
            none.clone(),
            [401, 403, 403, 200, 200],
        ),
        (
            "GET",
            "/api/v1/audit".into(),
            none.clone(),
            [401, 403, 403, 403, 200],
        ),
        // Last: it ends Tess. Olivia asking about Tess is "another customer".
        (
            "POST",
            format!("/api/v1/users/{d}/erase"),
            none.clone(),
            [401, 404, 404, 403, 204],
        ),
    ];
    let callers: [Option<&Actor>; 5] =
        [None, Some(&owner), Some(&other), Some(&agent), Some(&admin)];
    let names = ["anonymous", "owner", "other customer", "agent", "admin"];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &rows {
        for ((caller, name), want) in callers.iter().zip(names).zip(expected) {
            let token = caller.map(|a| a.token.as_str());
            let r = if body.is_null() {
                let auth = token.map(|t| format!("Bearer {t}"));
                let h: Vec<(&str, &str)> =
                    auth.iter().map(|a| ("authorization", a.as_str())).collect();
                app.send(method, path, &h, "").await
            } else {
                app.call(method, path, token, body.clone()).await
            };
            if r.status != *want {
                failures.push(format!(
                    "{method} {path} as {name}: {} (want {want}): {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                ));
                continue;
            }
            match *want {
                401 => drop(r.problem(401, "unauthenticated")),
                403 => drop(r.problem(403, "forbidden")),
                404 => {
                    r.problem(404, "not_found");
                    // Nothing of the other customer leaks into the answer.
                    let text = String::from_utf8_lossy(&r.body);
                    for secret in [
                        &owner.email,
                        &target.email,
                        "Secret subject",
                        "Olivia",
                        "Tess",
                    ] {
                        assert!(!text.contains(secret), "{method} {path}: {text}");
                    }
                }
                409 => drop(r.problem(409, "already_claimed")),
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_on_every_id_route() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "Ida").await;
    let unknown = "0195a1b2-0000-7000-8000-000000000001";
    let routes: &[(&str, &str, Value)] = &[
        ("GET", "/api/v1/tickets/{id}", Value::Null),
        (
            "PATCH",
            "/api/v1/tickets/{id}",
            json!({ "priority": "low" }),
        ),
        ("POST", "/api/v1/tickets/{id}/claim", Value::Null),
        (
            "PUT",
            "/api/v1/tickets/{id}/assignee",
            json!({ "assignee_id": agent.id }),
        ),
        ("DELETE", "/api/v1/tickets/{id}/assignee", Value::Null),
        ("GET", "/api/v1/tickets/{id}/messages", Value::Null),
        (
            "POST",
            "/api/v1/tickets/{id}/messages",
            json!({ "body": "x", "client_msg_id": "c1" }),
        ),
        ("GET", "/api/v1/tickets/{id}/receipts", Value::Null),
        (
            "POST",
            "/api/v1/tickets/{id}/receipts",
            json!({ "read_seq": 1 }),
        ),
        ("GET", "/api/v1/tickets/{id}/audit", Value::Null),
        ("PATCH", "/api/v1/categories/{id}", json!({ "name": "x" })),
        ("GET", "/api/v1/users/{id}", Value::Null),
        ("PUT", "/api/v1/users/{id}/role", json!({ "role": "agent" })),
        (
            "PUT",
            "/api/v1/users/{id}/disabled",
            json!({ "disabled": true }),
        ),
        ("GET", "/api/v1/users/{id}/agent", Value::Null),
        (
            "PATCH",
            "/api/v1/users/{id}/agent",
            json!({ "capacity": 1 }),
        ),
        ("GET", "/api/v1/users/{id}/export", Value::Null),
        ("POST", "/api/v1/users/{id}/erase", Value::Null),
    ];
    for (method, template, body) in routes {
        for id in [unknown, "not-a-uuid", "1"] {
            let path = template.replace("{id}", id);
            let r = if body.is_null() {
                let auth = format!("Bearer {}", admin.token);
                app.send(method, &path, &[("authorization", &auth)], "")
                    .await
            } else {
                app.call(method, &path, admin.token(), body.clone()).await
            };
            r.problem(404, "not_found");
        }
    }
}

/// A junk sweep over every documented operation, as every role, with odd
/// bodies and query strings: some 4xx each time, never a 5xx, and always a
/// problem document with a stable code.
#[tokio::test]
async fn no_operation_answers_5xx_to_junk() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "JunkAgent").await;
    let owner = app.customer("JunkOwner").await;
    let ticket = app.ticket(&owner, "Junk").await;
    let t = ticket["id"].as_str().unwrap().to_owned();
    let doc = serde_json::to_value(neurochat_http::openapi()).unwrap();
    let queries = [
        "",
        "?limit=0",
        "?limit=4294967296",
        "?cursor=%00%FF&status=&sort=",
        "?before_seq=18446744073709551615&after_seq=0",
        "?from=9999-12-31T23:59:59Z&to=0000-01-01T00:00:00Z",
        "?q=%22%27%3B--%20*%20OR%201%3D1&assignee=me",
    ];
    let bodies = [
        "{}",
        "null",
        "[]",
        "{\"status\":\"closed\",\"priority\":\"low\"}",
        "{\"body\":\"\u{0000}\",\"client_msg_id\":\"\"}",
    ];
    let callers = [None, Some(&owner), Some(&agent), Some(&admin)];
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/ws" {
            continue;
        }
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            for id in [
                t.as_str(),
                owner.id.as_str(),
                "00000000-0000-0000-0000-000000000000",
            ] {
                let p = path.replace("{id}", id);
                for caller in callers {
                    let auth = caller.map(|a| format!("Bearer {}", a.token));
                    let mut h = vec![("content-type", "application/json")];
                    if let Some(a) = &auth {
                        h.push(("authorization", a.as_str()));
                    }
                    let variants: Vec<(String, &str)> = if method == "get" {
                        queries.iter().map(|q| (format!("{p}{q}"), "")).collect()
                    } else {
                        bodies.iter().map(|b| (p.clone(), *b)).collect()
                    };
                    for (url, body) in variants {
                        let r = app
                            .send(&method.to_uppercase(), &url, &h, body.to_owned())
                            .await;
                        count += 1;
                        assert!(
                            r.status < 500,
                            "{method} {url} {body}: {} {:?}",
                            r.status,
                            r.body
                        );
                        if r.status >= 400 {
                            let code = r.json()["code"].as_str().unwrap_or_default().to_owned();
                            assert!(!code.is_empty(), "{method} {url}: a stable code");
                        }
                    }
                }
            }
        }
    }
    eprintln!("{count} junk requests, none 5xx");
    assert!(count > 1000, "{count} requests");
}
