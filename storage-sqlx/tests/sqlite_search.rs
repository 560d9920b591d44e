//! Text search of the SQLite store: LIKE escaping, full-text ticket search,
//! and erasure from rows and search index.

#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{
    InsertMessage, MessageKind, Role, TicketId, TicketStatus, UserFilter, UserId,
};
use neurochat_core::ports::{MessageStore, SessionStore, StoreError, TicketStore, UserStore};
use neurochat_storage_sqlx::SqliteStore;
use uuid::Uuid;

use support::*;

#[tokio::test]
async fn search_escapes_like_wildcards_and_folds_unicode() {
    let (_dir, store) = temp_store().await;
    let tag = Uuid::new_v4().simple().to_string();
    let plain = user(&format!("plain-{tag}@example.com"), &format!("École {tag}"));
    let pct = user(&format!("pct-{tag}@example.com"), &format!("100% {tag}"));
    let under = user(&format!("under_{tag}@example.com"), &format!("Under {tag}"));
    for u in [&plain, &pct, &under] {
        store.insert_user(u).await.unwrap();
    }
    let search = |s: String| {
        let store = &store;
        async move {
            store
                .list_users(&UserFilter {
                    search: Some(s),
                    limit: 50,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search(format!("ÉCOLE {tag}")).await, vec![plain.id]);
    assert_eq!(search(format!("0% {tag}")).await, vec![pct.id]);
    assert_eq!(search(format!("r_{tag}")).await, vec![under.id]);
    assert_eq!(search(format!("%{tag}")).await, Vec::<UserId>::new());
}

/// Numbers of the tickets matching `text` among `customer`'s.
async fn search_numbers(
    store: &SqliteStore,
    customer: UserId,
    text: &str,
    include_internal: bool,
) -> Vec<i64> {
    let mut numbers: Vec<i64> = store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            customer_id: Some(customer),
            text: Some(text.to_owned()),
            include_internal,
            ..ticket_filter()
        })
        .await
        .unwrap()
        .iter()
        .map(|t| t.number)
        .collect();
    numbers.sort_unstable();
    numbers
}

#[tokio::test]
async fn text_search_matches_word_prefixes_within_one_subject_or_message() {
    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let mut agent = fresh_user();
    agent.role = Role::Agent;
    store.insert_user(&agent).await.unwrap();
    let open = |subject: &str, body: &str| {
        let mut t = ticket(customer.id);
        t.subject = subject.to_owned();
        let mut m = message(TicketId(Uuid::nil()), Some(customer.id), None);
        m.body = body.to_owned();
        let store = &store;
        async move {
            store
                .insert_ticket_with_first_message(&t, &m)
                .await
                .unwrap()
                .0
        }
    };
    let a = open("Printer on fire", "Smoke everywhere, école fermée").await;
    let b = open("Invoice question", "Why was I charged twice?").await;
    let c = open("Other", "\"quoted\" OR * NEAR(x) - col:umn").await;
    let mut note = message(b.id, Some(agent.id), None);
    note.kind = MessageKind::InternalNote;
    note.body = "Customer is a VIP, refund quickly".to_owned();
    store.insert_message(&note).await.unwrap();
    let (na, nb, nc) = (a.number, b.number, c.number);
    let s =
        |text: &'static str, internal: bool| search_numbers(&store, customer.id, text, internal);

    assert_eq!(s("printer", false).await, [na], "subject");
    assert_eq!(s("PRINT fir", false).await, [na], "prefixes, any case");
    assert_eq!(s("smoke ECOLE", false).await, [na], "diacritics folded");
    assert_eq!(s("ferm", false).await, [na]);
    assert_eq!(
        s("moke", false).await,
        Vec::<i64>::new(),
        "word prefixes only"
    );
    assert_eq!(s("charged twice", false).await, [nb]);
    // Every word in one row: "printer" (subject) + "smoke" (message) is not a match.
    assert_eq!(s("printer smoke", false).await, Vec::<i64>::new());
    // Internal notes only for staff.
    assert_eq!(s("vip refund", false).await, Vec::<i64>::new());
    assert_eq!(s("vip refund", true).await, [nb]);
    // FTS5 syntax in the text is just words.
    assert_eq!(s("\"quoted\" OR", false).await, [nc]);
    assert_eq!(s("near(x) col:umn", false).await, [nc]);
    assert_eq!(
        s("* - \"", false).await.len(),
        3,
        "no words: no text filter"
    );
    assert_eq!(s("\" OR 1=1 --", false).await, Vec::<i64>::new());
}

#[tokio::test]
async fn messages_outside_a_committed_insert_never_reach_the_index() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut first = message(TicketId(Uuid::nil()), Some(u.id), None);
    first.body = format!("first {tag}");
    let (t, _) = store
        .insert_ticket_with_first_message(&ticket(u.id), &first)
        .await
        .unwrap();
    // A duplicate, a message on a closed ticket and one by an unknown author
    // store nothing: no message row, no search row.
    let mut keyed = message(t.id, Some(u.id), Some("k-1"));
    keyed.body = format!("keyed {tag}");
    store.insert_message(&keyed).await.unwrap();
    let mut again = message(t.id, Some(u.id), Some("k-1"));
    again.body = format!("again {tag}");
    assert!(matches!(
        store.insert_message(&again).await.unwrap(),
        InsertMessage::Duplicate(_)
    ));
    let mut ghost = message(t.id, Some(UserId(Uuid::now_v7())), None);
    ghost.body = format!("ghost {tag}");
    let err = store.insert_message(&ghost).await.unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    let mut closed = store.fetch_ticket(t.id).await.unwrap().unwrap();
    closed.status = TicketStatus::Closed;
    closed.closed_at = Some(now());
    closed.version += 1;
    store
        .update_ticket(&closed, closed.version - 1, None)
        .await
        .unwrap();
    let mut late = message(t.id, Some(u.id), None);
    late.body = format!("late {tag}");
    let err = store.insert_message(&late).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    // The index holds no texts: its rows are found by word and mapped back.
    store.flush_search_index().await.unwrap();
    let indexed: Vec<String> = sqlx::query_scalar(
        "SELECT m.body FROM ticket_search s JOIN messages m ON m.pos = s.rowid \
         WHERE ticket_search MATCH ? AND m.ticket_id = ? ORDER BY s.rowid",
    )
    .bind(format!("\"{tag}\""))
    .bind(t.id.0.hyphenated().to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(indexed, [format!("first {tag}"), format!("keyed {tag}")]);
    let after = store.fetch_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(after.last_seq, 2);
}

#[tokio::test]
async fn erasure_removes_texts_from_rows_and_search_index() {
    use neurochat_core::domain::TicketFilter;

    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let mut agent = fresh_user();
    agent.role = Role::Agent;
    store.insert_user(&agent).await.unwrap();
    let s = session(customer.id);
    store.insert_session(&s, Some(&refresh(&s))).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut t = ticket(customer.id);
    t.subject = format!("Secret subject {tag}");
    let mut first = message(TicketId(Uuid::nil()), Some(customer.id), None);
    first.body = format!("my address {tag}");
    let (t, _) = store
        .insert_ticket_with_first_message(&t, &first)
        .await
        .unwrap();
    let mut reply = message(t.id, Some(agent.id), None);
    reply.kind = MessageKind::Agent;
    reply.body = format!("agent answer {tag}");
    store.insert_message(&reply).await.unwrap();

    let at = now();
    store
        .update_user_erased(customer.id, "[erased]", at)
        .await
        .unwrap();
    let erased = store.fetch_user(customer.id).await.unwrap().unwrap();
    assert_eq!(erased.display_name, "[erased]");
    assert_eq!((erased.email, erased.password_hash), (None, None));
    assert!(erased.disabled);
    assert_eq!(erased.version, customer.version + 1);
    assert_eq!(
        store
            .fetch_session(s.id)
            .await
            .unwrap()
            .unwrap()
            .revoke_reason
            .as_deref(),
        Some("erased")
    );
    let t_after = store.fetch_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(t_after.subject, "[erased]");
    let msgs = store.list_messages_after(t.id, 0, 10, true).await.unwrap();
    assert_eq!(msgs[0].body, "[erased]");
    assert_eq!(
        msgs[1].body,
        format!("agent answer {tag}"),
        "not the customer's"
    );
    // Only the agent's message is left in the index; the placeholder is not indexed.
    store.flush_search_index().await.unwrap();
    let rows = |word: String| {
        let store = &store;
        async move {
            let rows: Vec<i64> =
                sqlx::query_scalar("SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?")
                    .bind(format!("\"{word}\""))
                    .fetch_all(store.pool())
                    .await
                    .unwrap();
            rows
        }
    };
    let agent_pos: i64 = sqlx::query_scalar("SELECT pos FROM messages WHERE id = ?")
        .bind(msgs[1].id.0.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows(tag.clone()).await, [agent_pos]);
    let placeholder: Vec<i64> = sqlx::query_scalar(
        "SELECT s.rowid FROM ticket_search s JOIN messages m ON m.pos = s.rowid \
         WHERE ticket_search MATCH 'erased' AND m.ticket_id = ?",
    )
    .bind(t.id.0.hyphenated().to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(placeholder.is_empty(), "the placeholder is not indexed");
    let find = |text: String| {
        let store = &store;
        async move {
            store
                .list_tickets(&TicketFilter {
                    text: Some(text),
                    ..ticket_filter()
                })
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(find(format!("secret {tag}")).await, 0);
    assert_eq!(find(format!("address {tag}")).await, 0);
    assert_eq!(find(format!("answer {tag}")).await, 1);
    let err = store
        .update_user_erased(UserId(Uuid::now_v7()), "[erased]", at)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Keys still queued for indexing.
async fn queued(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM search_queue")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Index rows holding `word`.
async fn index_rows(store: &SqliteStore, word: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?")
        .bind(format!("\"{word}\""))
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn new_rows_are_indexed_in_the_background_without_a_search() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut t = ticket(u.id);
    t.subject = format!("subject {tag}");
    let mut first = message(TicketId(Uuid::nil()), Some(u.id), None);
    first.body = format!("first {tag}");
    let (t, _) = store
        .insert_ticket_with_first_message(&t, &first)
        .await
        .unwrap();
    for i in 0..200 {
        let mut m = message(t.id, Some(u.id), None);
        m.body = format!("message {i} {tag}");
        store.insert_message(&m).await.unwrap();
    }
    // Nobody searches: the writer indexes the queue while it is idle.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while queued(&store).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the queue was not indexed within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The subject (-number) and all 201 messages.
    assert_eq!(index_rows(&store, &tag).await.len(), 202);
    assert_eq!(index_rows(&store, "subject").await, [-t.number]);
}

#[tokio::test]
async fn rows_erased_before_they_were_indexed_never_reach_the_index() {
    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(customer.id),
            &message(TicketId(Uuid::nil()), Some(customer.id), None),
        )
        .await
        .unwrap();
    store.flush_search_index().await.unwrap();
    // Written behind the store's back (as another process could): queued by
    // the trigger, unknown to the writer, so it stays queued until indexed.
    sqlx::query(
        "INSERT INTO messages (id, ticket_id, seq, author_id, kind, body, created_at) \
         VALUES (?, ?, 2, ?, 'customer', ?, 0)",
    )
    .bind(Uuid::now_v7().hyphenated().to_string())
    .bind(t.id.0.hyphenated().to_string())
    .bind(customer.id.0.hyphenated().to_string())
    .bind(format!("my card number {tag}"))
    .execute(store.pool())
    .await
    .unwrap();
    assert_eq!(queued(&store).await, 1);

    store
        .update_user_erased(customer.id, "[erased]", now())
        .await
        .unwrap();
    assert_eq!(
        queued(&store).await,
        0,
        "erasure takes its rows off the queue"
    );
    store.flush_search_index().await.unwrap();
    assert!(index_rows(&store, &tag).await.is_empty());
    assert!(index_rows(&store, "erased").await.is_empty());
}

/// Segments in the full-text index (FTS5 keeps one row per segment and
/// leaf range in its `_idx` shadow table).
async fn segments(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(DISTINCT segid) FROM ticket_search_idx")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Migration 0007: FTS5 never merges on its own (a merge of a whole level
/// inside one indexing chunk held the writes back for milliseconds); the
/// writer's chunks end with bounded merge steps, which still keep the
/// segment count down — one segment per chunk would pile up here.
#[tokio::test]
async fn the_index_merges_in_bounded_steps_after_each_chunk() {
    let (_dir, store) = temp_store().await;
    let config: Vec<(String, i64)> = sqlx::query_as(
        "SELECT k, v FROM ticket_search_config WHERE k IN ('automerge', 'crisismerge') ORDER BY k",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        config,
        [("automerge".to_owned(), 0), ("crisismerge".to_owned(), 64)]
    );
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    let chunks = 48;
    for i in 0..64 * chunks {
        let mut m = message(t.id, Some(u.id), None);
        m.body = format!("message {i} word{}", i % 97);
        store.insert_message(&m).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while queued(&store).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the queue was not indexed within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let segments = segments(&store).await;
    assert!(
        (1..=12).contains(&segments),
        "{segments} segments after {chunks} chunks"
    );
    assert_eq!(
        index_rows(&store, "word5").await.len(),
        64 * chunks / 97 + 1
    );
}
