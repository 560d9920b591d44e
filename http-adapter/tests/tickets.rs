//! `/api/v1/tickets*` over real HTTP: opening (idempotent), listing with
//! filters, search and cursor pages, reading, changing status / priority /
//! category, claiming, assigning and unassigning; validation errors name
//! each field or parameter.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::spawn_app;

#[tokio::test]
async fn open_a_ticket_and_read_it_back() {
    let app = spawn_app().await;
    let c = app.customer("Carla").await;
    let body = json!({
        "subject": "Cannot log in", "body": "It says my password is wrong.",
        "client_msg_id": "first-1", "priority": "high"
    });
    let r = app
        .call("POST", "/api/v1/tickets", c.token(), body.clone())
        .await;
    assert_eq!(r.status, 201);
    let t = r.json();
    assert_eq!(t["subject"], "Cannot log in");
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["customer_id"], c.id.as_str());
    assert_eq!(t["last_seq"], 1);
    // A resend (lost answer) is the same ticket, not a second one.
    // 200, not 201: nothing was created this time.
    let again = app.call("POST", "/api/v1/tickets", c.token(), body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], t["id"]);
    assert_eq!(again.json()["number"], t["number"]);
    let id = t["id"].as_str().unwrap();
    let got = app.get(&format!("/api/v1/tickets/{id}"), c.token()).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["number"], t["number"]);
    let list = app.get("/api/v1/tickets", c.token()).await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
    // The first message is the history.
    let h = app
        .get(&format!("/api/v1/tickets/{id}/messages"), c.token())
        .await;
    assert_eq!(
        h.json()["items"][0]["body"],
        "It says my password is wrong."
    );
}

#[tokio::test]
async fn opening_names_every_invalid_field() {
    let app = spawn_app().await;
    let c = app.customer("Val").await;
    let r = app
        .call(
            "POST",
            "/api/v1/tickets",
            c.token(),
            json!({ "subject": " ", "body": "", "client_msg_id": "has space" }),
        )
        .await;
    let mut fields = r.field_names();
    fields.sort();
    assert_eq!(fields, ["body", "client_msg_id", "subject"]);
    let r = app
        .call(
            "POST",
            "/api/v1/tickets",
            c.token(),
            json!({ "subject": "s", "body": "b", "client_msg_id": "x",
                    "category_id": "0195a1b2-0000-7000-8000-000000000009" }),
        )
        .await;
    assert_eq!(r.field_names(), ["category_id"]);
    let r = app
        .call(
            "POST",
            "/api/v1/tickets",
            c.token(),
            json!({ "subject": "s", "body": "b", "client_msg_id": "x", "priority": "meh" }),
        )
        .await;
    r.problem(400, "malformed_request");
}

#[tokio::test]
async fn staff_work_a_ticket_through_its_lifecycle() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let ben = app.agent(&admin, "Ben").await;
    let c = app.customer("Cy").await;
    let cat = app
        .call(
            "POST",
            "/api/v1/categories",
            admin.token(),
            json!({ "name": "Billing" }),
        )
        .await
        .json();
    let t = app.ticket(&c, "Refund").await;
    let path = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());

    let r = app
        .call("POST", &format!("{path}/claim"), ana.token(), json!({}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["assignee_id"], ana.id.as_str());
    assert_eq!(r.json()["status"], "in_progress");
    let r = app
        .call("POST", &format!("{path}/claim"), ben.token(), json!({}))
        .await;
    r.problem(409, "already_claimed");

    let r = app
        .call(
            "PATCH",
            &path,
            ana.token(),
            json!({ "priority": "urgent", "category_id": cat["id"] }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["priority"], "urgent");
    assert_eq!(r.json()["category_id"], cat["id"]);
    // Absent leaves the category; `null` clears it.
    let r = app
        .call("PATCH", &path, ana.token(), json!({ "priority": "high" }))
        .await;
    assert_eq!(r.json()["category_id"], cat["id"]);
    let r = app
        .call("PATCH", &path, ana.token(), json!({ "category_id": null }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert!(r.json()["category_id"].is_null(), "{:?}", r.json());
    assert_eq!(r.json()["priority"], "high");
    let r = app.get(&path, ana.token()).await;
    assert!(r.json()["category_id"].is_null());
    let r = app
        .call(
            "PATCH",
            &path,
            ana.token(),
            json!({ "category_id": cat["id"] }),
        )
        .await;
    assert_eq!(r.json()["category_id"], cat["id"]);

    let r = app
        .call(
            "PUT",
            &format!("{path}/assignee"),
            ana.token(),
            json!({ "assignee_id": ben.id }),
        )
        .await;
    assert_eq!(r.json()["assignee_id"], ben.id.as_str());
    let r = app
        .call(
            "PUT",
            &format!("{path}/assignee"),
            ana.token(),
            json!({ "assignee_id": c.id }),
        )
        .await;
    assert_eq!(r.field_names(), ["assignee_id"]);
    let r = app
        .send(
            "DELETE",
            &format!("{path}/assignee"),
            &[("authorization", &format!("Bearer {}", ana.token))],
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("assignee_id").is_none());
    assert_eq!(r.json()["status"], "new");

    // The customer may resolve their own ticket, and nothing else.
    let r = app
        .call("PATCH", &path, c.token(), json!({ "status": "closed" }))
        .await;
    r.problem(403, "forbidden");
    let r = app
        .call("PATCH", &path, c.token(), json!({ "status": "resolved" }))
        .await;
    assert_eq!(r.json()["status"], "resolved");
    let r = app
        .call("PATCH", &path, ana.token(), json!({ "status": "new" }))
        .await;
    r.problem(409, "invalid_transition");
    let r = app
        .call("PATCH", &path, ana.token(), json!({ "status": "closed" }))
        .await;
    assert_eq!(r.json()["status"], "closed");
    let r = app
        .call("PATCH", &path, ana.token(), json!({ "priority": "low" }))
        .await;
    r.problem(409, "ticket_closed");

    // An archived category cannot be chosen.
    let other = app.ticket(&c, "Another").await;
    let cat_path = format!("/api/v1/categories/{}", cat["id"].as_str().unwrap());
    app.call(
        "PATCH",
        &cat_path,
        admin.token(),
        json!({ "archived": true }),
    )
    .await;
    let r = app
        .call(
            "PATCH",
            &format!("/api/v1/tickets/{}", other["id"].as_str().unwrap()),
            ana.token(),
            json!({ "category_id": cat["id"] }),
        )
        .await;
    r.problem(409, "category_archived");
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn listing_filters_searches_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let c = app.customer("Lou").await;
    let d = app.customer("Max").await;
    let mut all = BTreeSet::new();
    for i in 0..5 {
        all.insert(
            app.ticket(&c, &format!("Printer jam {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let refund = app.ticket(&d, "Refund for order").await;
    all.insert(refund["id"].as_str().unwrap().to_owned());
    let claimed = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{}/claim", refund["id"].as_str().unwrap()),
            ana.token(),
            json!({}),
        )
        .await;
    assert_eq!(claimed.status, 200);

    // Pages of 2 with the cursor visit every ticket exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=2&sort=created&cursor={c}"),
            None => "/api/v1/tickets?limit=2&sort=created".to_owned(),
        };
        let page = app.get(&path, ana.token()).await.json();
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), all);

    let q = |p: &'static str| {
        let app = &app;
        let ana = &ana;
        async move { ids(&app.get(p, ana.token()).await.json()) }
    };
    assert_eq!(
        q("/api/v1/tickets?q=refund").await,
        [refund["id"].as_str().unwrap()]
    );
    assert_eq!(q("/api/v1/tickets?assignee=me").await.len(), 1);
    assert_eq!(q("/api/v1/tickets?assignee=unassigned").await.len(), 5);
    assert_eq!(
        q("/api/v1/tickets?status=new&status=in_progress")
            .await
            .len(),
        6
    );
    assert_eq!(q("/api/v1/tickets?status=in_progress").await.len(), 1);
    assert_eq!(q("/api/v1/tickets?priority=urgent").await.len(), 0);
    let by_customer = app
        .get(
            &format!("/api/v1/tickets?customer_id={}", d.id),
            ana.token(),
        )
        .await;
    assert_eq!(ids(&by_customer.json()).len(), 1);
    assert_eq!(q("/api/v1/tickets?created_from=2000-01-01T00:00:00Z&created_to=2000-01-02T00:00:00%2B00:00").await.len(), 0);
    // Customers only ever see their own, whatever they ask for.
    let mine = app
        .get(&format!("/api/v1/tickets?customer_id={}", d.id), c.token())
        .await;
    assert_eq!(ids(&mine.json()).len(), 5);
    assert!(!ids(&mine.json()).contains(&refund["id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn bad_listing_parameters_are_each_named() {
    let app = spawn_app().await;
    let c = app.customer("Q").await;
    let r = app
        .get(
            "/api/v1/tickets?status=open&priority=x&sort=nope&assignee=bob&limit=-1\
             &cursor=zzz&created_from=yesterday&category_id=1&customer_id=2",
            c.token(),
        )
        .await;
    let mut fields = r.field_names();
    fields.sort();
    assert_eq!(
        fields,
        [
            "assignee",
            "category_id",
            "created_from",
            "cursor",
            "customer_id",
            "limit",
            "priority",
            "sort",
            "status"
        ]
    );
    let long = "x".repeat(201);
    let r = app
        .get(&format!("/api/v1/tickets?q={long}"), c.token())
        .await;
    assert_eq!(r.field_names(), ["q"]);
    // Unknown parameters are ignored, like unknown fields of a query.
    let r = app.get("/api/v1/tickets?whatever=1", c.token()).await;
    assert_eq!(r.status, 200);
}
