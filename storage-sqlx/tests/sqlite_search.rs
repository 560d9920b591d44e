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
        "SELECT m.body FROM search.ticket_search s JOIN messages m ON m.pos = s.rowid \
         WHERE s.ticket_search MATCH ? AND m.ticket_id = ? ORDER BY s.rowid",
    )
    .bind(format!("\"{tag}\""))
    .bind(t.id.0.hyphenated().to_string())
    .fetch_all(store.search_pool())
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
        async move { index_rows(store, &word).await }
    };
    let agent_pos: i64 = sqlx::query_scalar("SELECT pos FROM messages WHERE id = ?")
        .bind(msgs[1].id.0.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows(tag.clone()).await, [agent_pos]);
    let placeholder: Vec<i64> = sqlx::query_scalar(
        "SELECT s.rowid FROM search.ticket_search s JOIN messages m ON m.pos = s.rowid \
         WHERE s.ticket_search MATCH 'erased' AND m.ticket_id = ?",
    )
    .bind(t.id.0.hyphenated().to_string())
    .fetch_all(store.search_pool())
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

/// Rows (messages and subjects) the index has not reached yet.
async fn unindexed(store: &SqliteStore) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT COALESCE(MAX(pos), 0) FROM messages) - message_pos \
         + (SELECT COALESCE(MAX(number), 0) FROM tickets) - ticket_number \
         FROM search.search_state",
    )
    .fetch_one(store.search_pool())
    .await
    .unwrap()
}

/// Index rows holding `word`.
async fn index_rows(store: &SqliteStore, word: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT rowid FROM search.ticket_search WHERE ticket_search MATCH ?")
        .bind(format!("\"{word}\""))
        .fetch_all(store.search_pool())
        .await
        .unwrap()
}

/// Waits (up to 10 s) for the indexer to reach every row, without a search.
async fn indexed_in_background(store: &SqliteStore) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while unindexed(store).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the indexer did not reach every row within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
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
    // Nobody searches: the indexer follows the writes by itself.
    indexed_in_background(&store).await;
    // The subject (-number) and all 201 messages.
    assert_eq!(index_rows(&store, &tag).await.len(), 202);
    assert_eq!(index_rows(&store, "subject").await, [-t.number]);
    let file = store.search_file().unwrap().to_owned();
    assert_eq!(
        file.file_name().unwrap().to_str().unwrap(),
        "neurochat.db-search",
        "beside the chat database"
    );
    // Not in the chat database: the store's own connections do not see it.
    let in_chat: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'ticket_search%' OR name = 'search_queue'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(in_chat, 0);
}

/// Holds the write lock of the index's file from a connection of its own
/// (as a long merge of its segments would) until dropped.
struct IndexLocked(sqlx::SqliteConnection);

impl IndexLocked {
    async fn take(store: &SqliteStore) -> IndexLocked {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(store.search_file().unwrap())
            .busy_timeout(std::time::Duration::from_secs(5));
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE; UPDATE search_state SET erased_seq = erased_seq")
            .execute(&mut conn)
            .await
            .unwrap();
        IndexLocked(conn)
    }

    async fn release(mut self) {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.0)
            .await
            .unwrap();
    }
}

/// The point of the index's own file: indexing, merging (or anything else
/// holding the index's write lock) never holds up a write of the chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_never_wait_for_the_index() {
    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    store.flush_search_index().await.unwrap();
    let locked = IndexLocked::take(&store).await;
    let quick = std::time::Duration::from_secs(2);
    let mut first = message(TicketId(Uuid::nil()), Some(customer.id), None);
    first.body = format!("opening {tag}");
    let (t, _) = tokio::time::timeout(
        quick,
        store.insert_ticket_with_first_message(&ticket(customer.id), &first),
    )
    .await
    .expect("a ticket opens while the index is locked")
    .unwrap();
    for i in 0..50 {
        let mut m = message(t.id, Some(customer.id), None);
        m.body = format!("message {i} {tag}");
        tokio::time::timeout(quick, store.insert_message(&m))
            .await
            .expect("messages are written while the index is locked")
            .unwrap();
    }
    // An erasure too (it logs the rows the index must drop, in the chat
    // database): its texts were never indexed, and never will be.
    let mut card = message(t.id, Some(customer.id), None);
    card.body = format!("my card number {tag}");
    store.insert_message(&card).await.unwrap();
    tokio::time::timeout(
        quick,
        store.update_user_erased(customer.id, "[erased]", now()),
    )
    .await
    .expect("erasure does not wait for the index")
    .unwrap();
    assert!(unindexed(&store).await > 50, "nothing indexed meanwhile");
    locked.release().await;

    store.flush_search_index().await.unwrap();
    assert!(index_rows(&store, &tag).await.is_empty());
    assert!(index_rows(&store, "card").await.is_empty());
    assert!(index_rows(&store, "erased").await.is_empty());
    assert_eq!(unindexed(&store).await, 0);
}

/// The index is derived data: a store opens even while another holds the
/// index's file past the busy timeout (a stalled indexer of another
/// process), and prepares the index with its first indexing step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_opens_while_the_index_is_held_elsewhere() {
    let (dir, first) = temp_store().await;
    let u = fresh_user();
    first.insert_user(&u).await.unwrap();
    first.flush_search_index().await.unwrap();
    let locked = IndexLocked::take(&first).await;
    let second = SqliteStore::open(dir.path().join("neurochat.db"))
        .await
        .expect("the chat opens although its index is held");
    let tag = Uuid::new_v4().simple().to_string();
    let mut first_message = message(TicketId(Uuid::nil()), Some(u.id), None);
    first_message.body = format!("held {tag}");
    second
        .insert_ticket_with_first_message(&ticket(u.id), &first_message)
        .await
        .unwrap();
    locked.release().await;
    assert_eq!(search_numbers(&second, u.id, &tag, false).await.len(), 1);
}

#[tokio::test]
async fn rows_erased_after_they_were_indexed_leave_the_index() {
    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut t = ticket(customer.id);
    t.subject = format!("subject {tag}");
    let mut first = message(TicketId(Uuid::nil()), Some(customer.id), None);
    first.body = format!("first {tag}");
    store
        .insert_ticket_with_first_message(&t, &first)
        .await
        .unwrap();
    store.flush_search_index().await.unwrap();
    assert_eq!(index_rows(&store, &tag).await.len(), 2);
    store
        .update_user_erased(customer.id, "[erased]", now())
        .await
        .unwrap();
    // The indexer applies the erasure log by itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !index_rows(&store, &tag).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the erasure did not reach the index within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(index_rows(&store, "erased").await.is_empty());
}

/// The texts of a store, as `list_tickets` finds them (numbers).
async fn found(store: &SqliteStore, text: &str) -> Vec<i64> {
    let mut numbers: Vec<i64> = store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            text: Some(text.to_owned()),
            include_internal: true,
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

/// Opens a ticket with `body` as its first message; its number.
async fn chat(store: &SqliteStore, customer: UserId, body: String) -> i64 {
    let mut first = message(TicketId(Uuid::nil()), Some(customer), None);
    first.body = body;
    let (t, _) = store
        .insert_ticket_with_first_message(&ticket(customer), &first)
        .await
        .unwrap();
    t.number
}

/// The index is derived data: a missing index file is rebuilt, and one
/// that does not fit the chat database (the chat database restored from an
/// older backup) is cleared and rebuilt, never trusted.
///
/// (Copies are made with `VACUUM INTO` from the open store, never of the
/// files of a store just dropped: sqlx closes connections on their own
/// threads a moment later.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_stale_index_file_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let tag = Uuid::new_v4().simple().to_string();
    let vacuum_into = |pool: &sqlx::SqlitePool, schema: &'static str, to: std::path::PathBuf| {
        let pool = pool.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM {schema} INTO ?")))
                .bind(to.to_str().unwrap().to_owned())
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let customer = fresh_user();
    let store = SqliteStore::open(file("live.db")).await.unwrap();
    store.insert_user(&customer).await.unwrap();
    let kept = chat(&store, customer.id, format!("kept {tag}")).await;
    // The backup: the chat database as it is now.
    vacuum_into(store.pool(), "main", file("restored.db")).await;
    let lost = chat(&store, customer.id, format!("lost {tag}")).await;
    assert_eq!(found(&store, &tag).await, [kept, lost]);
    // A copy of the chat database without its index file, and the index
    // as it is now (it holds `lost`) beside the backup.
    vacuum_into(store.pool(), "main", file("copied.db")).await;
    vacuum_into(store.search_pool(), "search", file("restored.db-search")).await;

    // Missing: rebuilt.
    let copied = SqliteStore::open(file("copied.db")).await.unwrap();
    assert_eq!(found(&copied, &tag).await, [kept, lost]);

    // The chat database restored from the backup, beside the newer index:
    // its marks point past the chat's rows, so it starts over.
    let restored = SqliteStore::open(file("restored.db")).await.unwrap();
    assert_eq!(found(&restored, &format!("kept {tag}")).await, [kept]);
    assert!(found(&restored, &format!("lost {tag}")).await.is_empty());
    // A new ticket takes the lost one's number (and position): found by
    // its own words only.
    let again = chat(&restored, customer.id, format!("again {tag}")).await;
    assert_eq!(again, lost);
    assert_eq!(found(&restored, &tag).await, [kept, again]);
    assert!(found(&restored, &format!("lost {tag}")).await.is_empty());
}

/// Migration 0008 moves the index out of a chat database that has one:
/// the old rows are found through the new file, and texts erased before
/// the upgrade stay out of it.
#[tokio::test]
async fn migration_0008_moves_the_index_and_keeps_erased_texts_out() {
    use neurochat_storage_sqlx::sqlite::MIGRATOR;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upgraded.db");
    let tag = Uuid::new_v4().simple().to_string();
    let customer = fresh_user();
    let (kept, erased) = {
        let store = SqliteStore::open(dir.path().join("live.db")).await.unwrap();
        store.insert_user(&customer).await.unwrap();
        let kept = chat(&store, customer.id, format!("kept {tag}")).await;
        let erased = chat(&store, customer.id, format!("secret {tag}")).await;
        // A copy without an index file (see `a_missing_or_stale_index_file_is_rebuilt`).
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_str().unwrap())
            .execute(store.pool())
            .await
            .unwrap();
        (kept, erased)
    };
    // Back to the 0007 layout: the index, its queue and triggers in the chat
    // database (what 0003, 0005 and 0007 made), with one text erased as the
    // old store did (the placeholder in the row, the row out of the index).
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new().filename(&path),
        )
        .await
        .unwrap();
        let undo = "DROP TABLE search_erasures; \
            DELETE FROM _sqlx_migrations WHERE version = 8; \
            CREATE VIRTUAL TABLE ticket_search USING fts5 (body, content = '', \
                contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'); \
            CREATE TABLE search_queue (key INTEGER PRIMARY KEY); \
            CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN \
                INSERT OR REPLACE INTO search_queue (key) VALUES (new.pos); END; \
            CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN \
                DELETE FROM ticket_search WHERE rowid = old.pos; END; \
            CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN \
                INSERT OR REPLACE INTO search_queue (key) VALUES (-new.number); END; \
            CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN \
                DELETE FROM ticket_search WHERE rowid = -old.number; END; \
            INSERT INTO ticket_search (rowid, body) SELECT -number, subject FROM tickets; \
            INSERT INTO ticket_search (rowid, body) SELECT pos, body FROM messages";
        sqlx::raw_sql(undo).execute(&pool).await.unwrap();
        sqlx::query(
            "DELETE FROM ticket_search WHERE rowid IN \
             (SELECT m.pos FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.number = ?)",
        )
        .bind(erased)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "UPDATE messages SET body = '[erased]' WHERE ticket_id = \
             (SELECT id FROM tickets WHERE number = ?)",
        )
        .bind(erased)
        .execute(&pool)
        .await
        .unwrap();
        let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(version, 7);
        assert_eq!(MIGRATOR.iter().last().map(|m| m.version), Some(8));
        pool.close().await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(found(&store, &format!("kept {tag}")).await, [kept]);
    assert!(found(&store, &format!("secret {tag}")).await.is_empty());
    assert!(found(&store, "erased").await.is_empty());
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_erasures")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(logged, 1, "the erased message, logged by the migration");
}

#[test]
fn the_migration_knows_the_erasure_placeholder() {
    let migration = include_str!("../migrations/sqlite/0008_search_file.sql");
    assert!(migration.contains(&format!(
        "body = '{}'",
        neurochat_core::service::data_rights::ERASED_PLACEHOLDER
    )));
}
