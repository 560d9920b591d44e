//! A ticket's conversation over REST: posting (idempotent), history pages
//! (latest, before, after), internal notes hidden from customers, and
//! receipts that only move forward.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::spawn_app;

fn seqs(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn post_page_and_hide_internal_notes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let c = app.customer("Cleo").await;
    let t = app.ticket(&c, "Question").await;
    let base = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());
    let msgs = format!("{base}/messages");

    let send = |who: &support::Actor, body: &str, id: &str, internal: bool| {
        let mut b = json!({ "body": body, "client_msg_id": id });
        if internal {
            b["internal"] = json!(true);
        }
        let (app, path, token) = (&app, msgs.clone(), who.token.clone());
        async move { app.call("POST", &path, Some(&token), b).await }
    };
    let r = send(&c, "More detail", "m-2", false).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["seq"], 2);
    assert_eq!(r.json()["kind"], "customer");
    // A resend answers 200 with the original.
    let again = send(&c, "More detail", "m-2", false).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], r.json()["id"]);
    let note = send(&ana, "Looks like a known bug", "n-1", true).await;
    assert_eq!(note.status, 201);
    assert_eq!(note.json()["kind"], "internal_note");
    let reply = send(&ana, "We are on it", "a-1", false).await;
    assert_eq!(reply.json()["kind"], "agent");
    assert_eq!(reply.json()["seq"], 4);
    send(&c, "Thanks", "m-3", true)
        .await
        .problem(403, "forbidden");

    let staff = app.get(&msgs, ana.token()).await.json();
    assert_eq!(seqs(&staff), [1, 2, 3, 4]);
    let customer = app.get(&msgs, c.token()).await.json();
    assert_eq!(
        seqs(&customer),
        [1, 2, 4],
        "no internal note for the customer"
    );
    assert!(customer.get("next_cursor").is_none());
    let before = app
        .get(&format!("{msgs}?before_seq=4&limit=2"), ana.token())
        .await;
    assert_eq!(seqs(&before.json()), [2, 3]);
    let after = app.get(&format!("{msgs}?after_seq=2"), c.token()).await;
    assert_eq!(seqs(&after.json()), [4]);
    let latest = app.get(&format!("{msgs}?limit=1"), ana.token()).await;
    assert_eq!(seqs(&latest.json()), [4]);

    let r = app
        .get(&format!("{msgs}?before_seq=4&after_seq=1"), c.token())
        .await;
    assert_eq!(r.field_names(), ["after_seq"]);
    let r = app
        .get(
            &format!("{msgs}?before_seq=x&after_seq=-2&limit=many"),
            c.token(),
        )
        .await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["after_seq", "before_seq", "limit"]);

    let r = send(&c, " ", "", false).await;
    let mut f = r.field_names();
    f.sort();
    assert_eq!(f, ["body", "client_msg_id"]);

    // A closed ticket takes no message.
    for status in ["resolved", "closed"] {
        let r = app
            .call("PATCH", &base, ana.token(), json!({ "status": status }))
            .await;
        assert_eq!(r.status, 200);
    }
    send(&c, "Hello?", "m-9", false)
        .await
        .problem(409, "ticket_closed");
}

#[tokio::test]
async fn receipts_move_forward_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let c = app.customer("Rae").await;
    let t = app.ticket(&c, "Receipts").await;
    let base = format!("/api/v1/tickets/{}", t["id"].as_str().unwrap());
    app.call(
        "POST",
        &format!("{base}/messages"),
        ana.token(),
        json!({ "body": "Hi", "client_msg_id": "a" }),
    )
    .await;
    let mark = |body: Value| {
        let (app, path, token) = (&app, format!("{base}/receipts"), c.token.clone());
        async move { app.call("POST", &path, Some(&token), body).await }
    };
    let r = mark(json!({ "delivered_seq": 2, "read_seq": 1 })).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (
            r.json()["delivered_seq"].clone(),
            r.json()["read_seq"].clone()
        ),
        (json!(2), json!(1))
    );
    // Backwards is ignored; past the newest message is clamped.
    let r = mark(json!({ "delivered_seq": 1, "read_seq": 99 })).await;
    assert_eq!(
        (
            r.json()["delivered_seq"].clone(),
            r.json()["read_seq"].clone()
        ),
        (json!(2), json!(2))
    );
    let r = mark(json!({ "read_seq": -1 })).await;
    r.problem(400, "malformed_request");
    let list = app.get(&format!("{base}/receipts"), ana.token()).await;
    assert_eq!(list.status, 200);
    let all = list.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["user_id"], c.id.as_str());
}
