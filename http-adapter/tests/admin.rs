//! Categories, user administration, agent settings, metrics, the audit log
//! and customer data rights over real HTTP.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{PASSWORD, spawn_app};

#[tokio::test]
async fn categories_create_rename_archive() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "Ana").await;
    let c = app.customer("Cid").await;
    let r = app
        .call(
            "POST",
            "/api/v1/categories",
            admin.token(),
            json!({ "name": "Billing" }),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    app.call(
        "POST",
        "/api/v1/categories",
        admin.token(),
        json!({ "name": "billing" }),
    )
    .await
    .problem(409, "name_taken");
    let r = app
        .call(
            "POST",
            "/api/v1/categories",
            admin.token(),
            json!({ "name": "  " }),
        )
        .await;
    assert_eq!(r.field_names(), ["name"]);
    let path = format!("/api/v1/categories/{id}");
    let r = app
        .call(
            "PATCH",
            &path,
            admin.token(),
            json!({ "name": "Invoices", "archived": true }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json()["name"].clone(), r.json()["archived"].clone()),
        (json!("Invoices"), json!(true))
    );
    let r = app
        .call(
            "PATCH",
            &path,
            admin.token(),
            json!({ "name": "x".repeat(81) }),
        )
        .await;
    assert_eq!(r.field_names(), ["name"]);
    // Customers see active categories only; staff see all.
    let staff = app.get("/api/v1/categories", agent.token()).await.json();
    assert_eq!(staff.as_array().unwrap().len(), 1);
    let mine = app.get("/api/v1/categories", c.token()).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn users_list_search_page_role_and_disable() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut customers = Vec::new();
    for name in ["Zed", "Yara", "Xavi"] {
        customers.push(app.customer(name).await);
    }
    // Pages of two visit everyone once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_owned();
    for _ in 0..5 {
        let page = app.get(&path, admin.token()).await.json();
        for u in page["items"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "admin and three customers");
    let r = app
        .get("/api/v1/users?search=yARA", admin.token())
        .await
        .json();
    assert_eq!(r["items"][0]["id"], customers[1].id.as_str());
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let r = app
        .get("/api/v1/users?role=admin", admin.token())
        .await
        .json();
    assert_eq!(r["items"][0]["id"], admin.id.as_str());
    let r = app
        .get(
            "/api/v1/users?role=boss&disabled=maybe&cursor=x&limit=y",
            admin.token(),
        )
        .await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["cursor", "disabled", "limit", "role"]);
    let r = app
        .get(
            &format!("/api/v1/users?search={}", "s".repeat(201)),
            admin.token(),
        )
        .await;
    assert_eq!(r.field_names(), ["search"]);

    let zed = &customers[0];
    let r = app
        .call(
            "PUT",
            &format!("/api/v1/users/{}/role", zed.id),
            admin.token(),
            json!({ "role": "agent" }),
        )
        .await;
    assert_eq!(r.json()["role"], "agent");
    let me = app.get("/api/v1/auth/me", zed.token()).await;
    assert_eq!(me.json()["role"], "agent", "the new role applies at once");
    app.call(
        "PUT",
        &format!("/api/v1/users/{}/role", admin.id),
        admin.token(),
        json!({ "role": "agent" }),
    )
    .await
    .problem(403, "forbidden");
    app.call(
        "PUT",
        &format!("/api/v1/users/{}/role", zed.id),
        admin.token(),
        json!({ "role": "owner" }),
    )
    .await
    .problem(400, "malformed_request");

    let r = app
        .call(
            "PUT",
            &format!("/api/v1/users/{}/disabled", zed.id),
            admin.token(),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(r.json()["disabled"], true);
    let me = app.get("/api/v1/auth/me", zed.token()).await;
    assert_eq!(me.status, 401, "disabling ends every session");
    let r = app
        .get("/api/v1/users?disabled=true", admin.token())
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let r = app
        .call(
            "PUT",
            &format!("/api/v1/users/{}/disabled", zed.id),
            admin.token(),
            json!({ "disabled": false }),
        )
        .await;
    assert_eq!(r.json()["disabled"], false);
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": zed.email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status, 200);
    app.call(
        "PUT",
        &format!("/api/v1/users/{}/disabled", admin.id),
        admin.token(),
        json!({ "disabled": true }),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn agent_availability_and_capacity() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let ben = app.agent(&admin, "Ben").await;
    let c = app.customer("Cat").await;
    let path = format!("/api/v1/users/{}/agent", ana.id);
    let r = app
        .call(
            "PATCH",
            &path,
            ana.token(),
            json!({ "availability": "online", "capacity": 4 }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["availability"], "online");
    assert_eq!(r.json()["capacity"], 4);
    let r = app.get(&path, ben.token()).await;
    assert_eq!(r.json()["capacity"], 4);
    // Another agent may not change Ana's settings; an admin may.
    app.call("PATCH", &path, ben.token(), json!({ "capacity": 1 }))
        .await
        .problem(403, "forbidden");
    let r = app
        .call(
            "PATCH",
            &path,
            admin.token(),
            json!({ "availability": "away" }),
        )
        .await;
    assert_eq!(r.json()["availability"], "away");
    let r = app
        .call("PATCH", &path, admin.token(), json!({ "capacity": 1001 }))
        .await;
    assert_eq!(r.field_names(), ["capacity"]);
    // A customer has no agent settings.
    let r = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{}/agent", c.id),
            admin.token(),
            json!({ "capacity": 1 }),
        )
        .await;
    r.problem(422, "validation_failed");
    app.get(&format!("/api/v1/users/{}/agent", c.id), admin.token())
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn metrics_mine_and_team() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let ben = app.agent(&admin, "Ben").await;
    let c = app.customer("Moe").await;
    let t = app.ticket(&c, "Metrics").await;
    let path = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());
    app.call("POST", &format!("{path}/claim"), ana.token(), json!({}))
        .await;
    app.call("PATCH", &path, ana.token(), json!({ "status": "resolved" }))
        .await;

    let mine = app.get("/api/v1/metrics/me", ana.token()).await;
    assert_eq!(mine.status, 200);
    let m = mine.json();
    assert_eq!(
        (
            m["user_id"].clone(),
            m["claimed"].clone(),
            m["resolved"].clone()
        ),
        (json!(ana.id), json!(1), json!(1))
    );
    assert!(m["resolution_median_ms"].is_u64());

    let team = app.get("/api/v1/metrics/team", admin.token()).await.json();
    assert_eq!(team["totals"]["resolved"], 1);
    let agents: Vec<&Value> = team["agents"].as_array().unwrap().iter().collect();
    assert!(agents.len() >= 2, "admins see every agent: {team}");
    let own = app.get("/api/v1/metrics/team", ben.token()).await.json();
    let rows = own["agents"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "agents see their own row only");
    assert_eq!(rows[0]["user_id"], ben.id.as_str());

    let r = app
        .get(
            "/api/v1/metrics/me?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            ana.token(),
        )
        .await;
    assert_eq!(r.field_names(), ["from"]);
    let r = app
        .get("/api/v1/metrics/team?from=monday&to=7", ana.token())
        .await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["from", "to"]);
    let r = app
        .get(
            "/api/v1/metrics/team?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            ana.token(),
        )
        .await;
    assert_eq!(r.field_names(), ["from"], "at most 366 days");
}

#[tokio::test]
async fn audit_filters_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    for name in ["A", "B", "C"] {
        app.call(
            "POST",
            "/api/v1/categories",
            admin.token(),
            json!({ "name": name }),
        )
        .await;
    }
    let r = app
        .get("/api/v1/audit?action=category_changed", admin.token())
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 3);
    assert_eq!(r["items"][0]["actor_id"], admin.id.as_str());
    let r = app
        .get(
            &format!("/api/v1/audit?action=role_changed&actor_id={}", admin.id),
            admin.token(),
        )
        .await
        .json();
    assert_eq!(r["items"][0]["target_id"], ana.id.as_str());
    assert_eq!(r["items"][0]["detail"], "customer -> agent");
    // Pages of two, newest first, each entry once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=2&action=category_changed".to_owned();
    for _ in 0..5 {
        let page = app.get(&path, admin.token()).await.json();
        for e in page["items"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/audit?limit=2&action=category_changed&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first");
    let r = app
        .get(
            "/api/v1/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z",
            admin.token(),
        )
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 0);
    let r = app
        .get(
            "/api/v1/audit?action=dance&actor_id=me&from=x&to=y&cursor=z&limit=-3",
            admin.token(),
        )
        .await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["action", "actor_id", "cursor", "from", "limit", "to"]);
}

#[tokio::test]
async fn customers_export_and_erase_their_data() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let c = app.customer("Erin").await;
    let t = app.ticket(&c, "My private subject").await;
    let tid = t["id"].as_str().unwrap();
    app.call(
        "POST",
        &format!("/api/v1/tickets/{tid}/messages"),
        ana.token(),
        json!({ "body": "staff only", "client_msg_id": "n1", "internal": true }),
    )
    .await;
    let r = app
        .get(&format!("/api/v1/users/{}/export", c.id), c.token())
        .await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["format"], "neurochat.customer_export.v1");
    assert_eq!(doc["user"]["email"], c.email.as_str());
    assert_eq!(doc["tickets"][0]["subject"], "My private subject");
    assert!(!String::from_utf8_lossy(&r.body).contains("staff only"));
    // An admin may export too; an agent may not; a staff target is refused.
    assert_eq!(
        app.get(&format!("/api/v1/users/{}/export", c.id), admin.token())
            .await
            .status,
        200
    );
    app.get(&format!("/api/v1/users/{}/export", ana.id), admin.token())
        .await
        .problem(422, "validation_failed");

    let r = app
        .send(
            "POST",
            &format!("/api/v1/users/{}/erase", c.id),
            &[("authorization", &format!("Bearer {}", c.token))],
            "",
        )
        .await;
    assert_eq!(r.status, 204);
    app.get("/api/v1/auth/me", c.token())
        .await
        .problem(401, "session_revoked");
    let ticket = app
        .get(&format!("/api/v1/tickets/{tid}"), ana.token())
        .await
        .json();
    assert_eq!(ticket["subject"], "[erased]");
    let r = app
        .send(
            "POST",
            &format!("/api/v1/users/{}/erase", c.id),
            &[("authorization", &format!("Bearer {}", admin.token))],
            "",
        )
        .await;
    assert_eq!(r.status, 204, "erasing twice is harmless");
    let audit = app
        .get("/api/v1/audit?action=customer_data_erased", admin.token())
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn staff_directory_for_agents_and_admins() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let bob = app.agent(&admin, "Bob").await;
    let gone = app.agent(&admin, "Gone").await;
    let cara = app.customer("Cara").await;
    let r = app
        .call(
            "PUT",
            &format!("/api/v1/users/{}/disabled", gone.id),
            admin.token(),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{}/agent", bob.id),
            bob.token(),
            json!({ "availability": "away", "capacity": 4 }),
        )
        .await;
    assert_eq!(r.status, 200);
    // Bob holds one open ticket (claimed).
    let t = app.ticket(&cara, "Directory").await;
    let r = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{}/claim", t["id"].as_str().unwrap()),
            bob.token(),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);

    for viewer in [&ana, &admin] {
        let r = app.get("/api/v1/agents", viewer.token()).await;
        assert_eq!(r.status, 200);
        let body = r.json();
        let rows = body.as_array().unwrap();
        let ids: Vec<&str> = rows.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3, "admin, Ana, Bob: {body}");
        for who in [&admin, &ana, &bob] {
            assert!(ids.contains(&who.id.as_str()), "{} listed", who.id);
        }
        assert!(!ids.contains(&gone.id.as_str()), "disabled staff absent");
        assert!(!ids.contains(&cara.id.as_str()), "customers absent");
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "by id");
        let bob_row = rows.iter().find(|a| a["id"] == bob.id.as_str()).unwrap();
        assert_eq!(
            bob_row,
            &json!({
                "id": bob.id,
                "display_name": bob_row["display_name"],
                "role": "agent",
                "availability": "away",
                "capacity": 4,
                "open_tickets": 1,
            })
        );
        assert!(bob_row["display_name"].is_string());
        let admin_row = rows.iter().find(|a| a["id"] == admin.id.as_str()).unwrap();
        assert_eq!(admin_row["role"], "admin");
        // Exactly the directory's fields: no email, nothing else personal.
        for row in rows {
            let mut keys: Vec<&str> = row
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "availability",
                    "capacity",
                    "display_name",
                    "id",
                    "open_tickets",
                    "role"
                ]
            );
        }
        let text = body.to_string();
        for who in [&admin, &ana, &bob, &gone, &cara] {
            assert!(!text.contains(&who.email), "no emails: {text}");
        }
    }
    app.get("/api/v1/agents", Some(&cara.token))
        .await
        .problem(403, "forbidden");
    assert_eq!(app.get("/api/v1/agents", None).await.status, 401);
}

#[tokio::test]
async fn a_tickets_audit_trail_for_staff() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let olivia = app.customer("Olivia").await;
    let oscar = app.customer("Oscar").await;
    let t = app.ticket(&olivia, "Trail").await;
    let other = app.ticket(&olivia, "Other").await;
    let id = t["id"].as_str().unwrap().to_owned();
    let other_id = other["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        ("POST", format!("/api/v1/tickets/{id}/claim"), Value::Null),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            json!({ "priority": "high" }),
        ),
        (
            "POST",
            format!("/api/v1/tickets/{other_id}/claim"),
            Value::Null,
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            json!({ "status": "resolved" }),
        ),
    ] {
        let r = app.call(method, &path, ana.token(), body).await;
        assert_eq!(r.status, 200, "{method} {path}: {:?}", r.json());
    }
    let trail = format!("/api/v1/tickets/{id}/audit");

    // Newest first, only this ticket's entries; agents see no addresses.
    let page = app.get(&trail, ana.token()).await;
    assert_eq!(page.status, 200);
    let page = page.json();
    let items = page["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "ticket_status_changed",
            "ticket_priority_changed",
            "ticket_claimed"
        ]
    );
    for e in items {
        assert_eq!(e["target_type"], "ticket");
        assert_eq!(e["target_id"], id.as_str());
        assert_eq!(e["actor_id"], ana.id.as_str());
        assert!(e.get("source_ip").is_none(), "agents: no source_ip: {e}");
    }
    assert!(page["next_cursor"].is_null());
    let by_admin = app.get(&trail, admin.token()).await.json();
    assert_eq!(by_admin["items"].as_array().unwrap().len(), 3);
    assert!(
        by_admin["items"][0]["source_ip"].is_string(),
        "admins: source_ip"
    );

    // Pages of two, each entry once, and the other filters.
    let mut seen = Vec::new();
    let mut path = format!("{trail}?limit=2");
    for _ in 0..5 {
        let page = app.get(&path, ana.token()).await.json();
        for e in page["items"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{trail}?limit=2&cursor={c}"),
            None => break,
        }
    }
    let all: Vec<String> = items
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, all);
    let r = app
        .get(&format!("{trail}?action=ticket_claimed"), ana.token())
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(
            &format!("{trail}?action=dance&actor_id=me&from=x&to=y&cursor=z&limit=-3"),
            ana.token(),
        )
        .await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["action", "actor_id", "cursor", "from", "limit", "to"]);

    // Customers: their own ticket 403, another's 404; unknown tickets 404.
    app.get(&trail, Some(&olivia.token))
        .await
        .problem(403, "forbidden");
    app.get(&trail, Some(&oscar.token))
        .await
        .problem(404, "not_found");
    app.get(
        "/api/v1/tickets/00000000-0000-4000-8000-000000000000/audit",
        ana.token(),
    )
    .await
    .problem(404, "not_found");
    assert_eq!(app.get(&trail, None).await.status, 401);
}
