//! Group commit: batches of concurrent writes, each call with its own outcome.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use neurochat_core::domain::{
    CategoryId, InsertMessage, MessageKind, NewMessage, Role, Ticket, TicketId, TicketStatus,
    UserId,
};
use neurochat_core::ports::{CategoryStore, MessageStore, StoreError, TicketStore, UserStore};
use neurochat_storage_sqlx::SqliteStore;
use uuid::Uuid;

use support::*;

// ---------------------------------------------------------------- group commit

fn message_of(kind: MessageKind, ticket_id: TicketId, author_id: Option<UserId>) -> NewMessage {
    NewMessage {
        kind,
        ..message(ticket_id, author_id, None)
    }
}

fn keyed(mut m: NewMessage, key: &str) -> NewMessage {
    m.client_msg_id = Some(key.to_owned());
    m
}

fn inserted(r: &Result<InsertMessage, StoreError>) -> (&neurochat_core::domain::Message, &Ticket) {
    match r {
        Ok(InsertMessage::Inserted {
            message, ticket, ..
        }) => (message, ticket),
        other => panic!("expected Inserted, got {other:?}"),
    }
}

fn seqs(messages: &[neurochat_core::domain::Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// The ids of `customer`'s tickets whose subject or messages match `text`.
async fn matching(store: &SqliteStore, customer: UserId, text: &str) -> Vec<TicketId> {
    store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            customer_id: Some(customer),
            text: Some(text.to_owned()),
            include_internal: true,
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_200_concurrent_inserts_on_10_tickets_are_gapless_and_answered_each() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let mut tickets = Vec::new();
    for _ in 0..10 {
        tickets.push(open_ticket(&store, u.id).await.id);
    }
    let before = store.tasks().group_commits();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            let sent = keyed(
                message(tickets[i % 10], Some(u.id), None),
                &format!("c-{i}"),
            );
            tokio::spawn(async move {
                let got = store.insert_message(&sent).await.unwrap();
                (sent, got)
            })
        })
        .collect();
    let mut per_ticket: std::collections::HashMap<TicketId, Vec<i64>> = Default::default();
    for task in tasks {
        let (sent, got) = task.await.unwrap();
        let got = Ok(got);
        let (m, t) = inserted(&got);
        // Every caller gets its own message back, with its seq and the
        // ticket as that message left it.
        assert_eq!(*m, sent.with_seq(m.seq));
        assert_eq!((t.id, t.last_seq), (sent.ticket_id, m.seq));
        per_ticket.entry(sent.ticket_id).or_default().push(m.seq);
    }
    for id in &tickets {
        let mut got = per_ticket.remove(id).unwrap();
        got.sort_unstable();
        assert_eq!(got, (2..=21).collect::<Vec<i64>>(), "gapless, once each");
        let stored = store.list_messages_after(*id, 0, 100, true).await.unwrap();
        assert_eq!(seqs(&stored), (1..=21).collect::<Vec<i64>>());
        assert_eq!(store.fetch_ticket(*id).await.unwrap().unwrap().last_seq, 21);
    }
    let after = store.tasks().group_commits();
    assert_eq!(after.calls - before.calls, 200);
    assert!(
        after.transactions - before.transactions < 200,
        "concurrent calls share transactions: {before:?} -> {after:?}"
    );
    assert_eq!(after.replayed, before.replayed);
}

/// Every call of one batch gets its own outcome, as it would alone; only the
/// valid calls are stored, with their search rows and ticket effects.
#[tokio::test]
async fn group_commit_batch_gives_each_call_its_own_outcome() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    let mut a = fresh_user();
    a.role = Role::Agent;
    store.insert_user(&u).await.unwrap();
    store.insert_user(&a).await.unwrap();
    let t1 = open_ticket(&store, u.id).await;
    let t2 = open_ticket(&store, u.id).await;
    let closed = open_ticket(&store, u.id).await;
    let stored = store
        .insert_message(&keyed(message(t1.id, Some(u.id), None), "k-stored"))
        .await
        .unwrap();
    let stored_on_closed = store
        .insert_message(&keyed(message(closed.id, Some(u.id), None), "k-closed"))
        .await
        .unwrap();
    let mut c = store.fetch_ticket(closed.id).await.unwrap().unwrap();
    c.status = TicketStatus::Closed;
    c.closed_at = Some(now());
    c.version += 1;
    store.update_ticket(&c, c.version - 1, None).await.unwrap();
    let closed = store.fetch_ticket(closed.id).await.unwrap().unwrap();

    let tricky =
        "quote \" backslash \\ newline \n tab \t nul \0 bell \u{7} é ☃ 🦀 \u{2028} zzgroupword";
    let batch = [
        /* 0 */ keyed(message(t1.id, Some(u.id), None), "k-a"),
        /* 1 */ message_of(MessageKind::Agent, t2.id, Some(a.id)),
        /* 2 */ message(closed.id, Some(u.id), None),
        /* 3 */ message(TicketId(Uuid::now_v7()), Some(u.id), None),
        /* 4 */ keyed(message(t1.id, Some(u.id), None), "k-stored"),
        /* 5 */ keyed(message(t1.id, Some(u.id), None), "k-a"),
        /* 6 */ keyed(message(t1.id, None, None), "sys \"1\""),
        /* 7 */
        NewMessage {
            body: tricky.to_owned(),
            ..keyed(message(t1.id, Some(u.id), None), "k-\u{0}\"\\é")
        },
        /* 8 */ keyed(message(closed.id, Some(u.id), None), "k-closed"),
        /* 9 */
        NewMessage {
            body: "zzrefusedword".to_owned(),
            ..message(closed.id, None, None)
        },
        /* 10 */ message(t2.id, Some(u.id), None),
    ];
    let before = store.tasks().group_commits();
    // On this (current-thread) runtime the writer runs only once every call
    // is queued: one batch.
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let after = store.tasks().group_commits();
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "one transaction"
    );
    assert_eq!(after.calls - before.calls, batch.len() as u64);
    assert_eq!(after.replayed, before.replayed, "planned, not replayed");

    let (m0, t1_after0) = inserted(&got[0]);
    assert_eq!((m0.seq, t1_after0.last_seq), (3, 3));
    let (m1, t2_after1) = inserted(&got[1]);
    assert_eq!(m1.seq, 2);
    assert_eq!(t2_after1.first_response_at, Some(batch[1].created_at));
    assert_eq!(
        (t2_after1.last_agent_seq, t2_after1.awaiting_since),
        (2, None)
    );
    assert!(matches!(got[2], Err(StoreError::Conflict)), "{:?}", got[2]);
    assert!(matches!(got[3], Err(StoreError::NotFound)), "{:?}", got[3]);
    assert_eq!(
        got[4].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored.message().clone()),
        "a stored original"
    );
    assert_eq!(
        got[5].as_ref().unwrap(),
        &InsertMessage::Duplicate(m0.clone()),
        "an original earlier in the batch"
    );
    let (m6, _) = inserted(&got[6]);
    assert_eq!(m6.seq, 4);
    let (m7, t1_after7) = inserted(&got[7]);
    assert_eq!(*m7, batch[7].with_seq(5));
    assert_eq!(t1_after7.last_seq, 5);
    assert_eq!(
        got[8].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored_on_closed.message().clone()),
        "the key is checked before the ticket's status"
    );
    assert!(matches!(got[9], Err(StoreError::Conflict)), "{:?}", got[9]);
    let (m10, t2_after10) = inserted(&got[10]);
    assert_eq!(m10.seq, 3);
    assert_eq!(t2_after10.awaiting_since, Some(batch[10].created_at));

    // Stored: exactly the inserted ones, texts byte for byte.
    let on_t1 = store
        .list_messages_after(t1.id, 0, 100, true)
        .await
        .unwrap();
    assert_eq!(seqs(&on_t1), [1, 2, 3, 4, 5]);
    assert_eq!(on_t1[2..], [m0.clone(), m6.clone(), m7.clone()]);
    assert_eq!(on_t1[4].body, tricky);
    assert_eq!(on_t1[4].client_msg_id.as_deref(), Some("k-\u{0}\"\\é"));
    let on_t2 = store
        .list_messages_after(t2.id, 0, 100, true)
        .await
        .unwrap();
    assert_eq!(on_t2[1..], [m1.clone(), m10.clone()]);
    assert_eq!(
        store.fetch_ticket(t1.id).await.unwrap().unwrap(),
        *t1_after7
    );
    assert_eq!(
        store.fetch_ticket(t2.id).await.unwrap().unwrap(),
        *t2_after10
    );
    assert_eq!(
        store.fetch_ticket(closed.id).await.unwrap().unwrap(),
        closed
    );
    // With their search rows; the refused one has none.
    assert_eq!(matching(&store, u.id, "zzgroupword").await, vec![t1.id]);
    assert!(matching(&store, u.id, "zzrefusedword").await.is_empty());
    // A later call sees the batch.
    let next = store
        .insert_message(&message(t1.id, Some(u.id), None))
        .await
        .unwrap();
    assert_eq!(next.message().seq, 6);
}

/// What the set-based plan of a message-only batch leaves to SQLite (an
/// unknown author, a taken message id) and what it cannot foresee (here a
/// search row in the way) makes the batch replay one call at a time: still
/// one transaction, and only the failing calls fail.
/// A batch updates each ticket column group only for the tickets it
/// changes (SQLite rewrites a row's index entries for every column an
/// UPDATE sets): a reopening, an agent reply and new waiting customers in
/// one batch leave every index consistent with the rows, and the listings
/// that read those indexes see the new states.
#[tokio::test]
async fn group_commit_updates_each_column_group_where_it_changed() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    let mut a = fresh_user();
    a.role = Role::Agent;
    store.insert_user(&u).await.unwrap();
    store.insert_user(&a).await.unwrap();
    let assign = |mut t: Ticket, status: TicketStatus| {
        let store = &store;
        let agent = a.id;
        async move {
            t.assignee_id = Some(agent);
            t.status = status;
            if status == TicketStatus::Resolved {
                t.resolved_at = Some(now());
            }
            t.version += 1;
            store.update_ticket(&t, t.version - 1, None).await.unwrap();
            store.fetch_ticket(t.id).await.unwrap().unwrap()
        }
    };
    let resolved = assign(open_ticket(&store, u.id).await, TicketStatus::Resolved).await;
    let working = assign(open_ticket(&store, u.id).await, TicketStatus::InProgress).await;
    let fresh = open_ticket(&store, u.id).await;
    let batch = [
        /* 0 */ message(resolved.id, Some(u.id), None),
        /* 1 */ message_of(MessageKind::Agent, working.id, Some(a.id)),
        /* 2 */ message_of(MessageKind::InternalNote, fresh.id, Some(a.id)),
        /* 3 */ message(working.id, Some(u.id), None),
    ];
    let before = store.tasks().group_commits();
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let after = store.tasks().group_commits();
    assert_eq!(after.transactions - before.transactions, 1);
    assert_eq!(after.replayed, before.replayed, "planned, not replayed");

    let (_, reopened) = inserted(&got[0]);
    assert_eq!(reopened.status, TicketStatus::InProgress);
    assert_eq!(reopened.version, resolved.version + 1);
    let (_, noted) = inserted(&got[2]);
    assert_eq!(
        noted.awaiting_since, fresh.awaiting_since,
        "a note changes no waiting"
    );
    let (m3, answered) = inserted(&got[3]);
    assert_eq!(answered.last_agent_seq, 2);
    assert_eq!(answered.awaiting_since, Some(m3.created_at));
    for t in [reopened, noted, answered] {
        assert_eq!(&store.fetch_ticket(t.id).await.unwrap().unwrap(), t);
    }
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(check, ["ok"], "every index agrees with the rows");
    // Read through the indexes the split updates touch.
    let in_progress = store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            statuses: vec![TicketStatus::InProgress],
            ..ticket_filter()
        })
        .await
        .unwrap();
    let mut ids: Vec<TicketId> = in_progress.iter().map(|t| t.id).collect();
    ids.sort_by_key(|id| id.0);
    let mut want = vec![resolved.id, working.id];
    want.sort_by_key(|id| id.0);
    assert_eq!(ids, want, "tickets_status_idx");
    let loads = store.list_agent_loads().await.unwrap();
    let load = loads.iter().find(|l| l.user.id == a.id).unwrap();
    assert_eq!(load.open_tickets, 2, "tickets_open_assignee_idx");
    let due = store
        .list_notifications_due(now() + time::Duration::hours(1), 10)
        .await
        .unwrap();
    assert!(due.iter().any(|t| t.id == working.id), "tickets_notify_idx");
}

/// The b-trees (tables and indexes) whose pages are in the WAL of `store`
/// at `dir/neurochat.db`, by name.
async fn btrees_in_wal(store: &SqliteStore, dir: &std::path::Path) -> Vec<String> {
    let wal = std::fs::read(dir.join("neurochat.db-wal")).unwrap();
    let page: usize = 4096;
    let mut names = Vec::new();
    let mut at = 32;
    while at + 24 + page <= wal.len() {
        let pgno = u32::from_be_bytes(wal[at..at + 4].try_into().unwrap());
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM dbstat WHERE pageno = ?")
            .bind(i64::from(pgno))
            .fetch_optional(store.pool())
            .await
            .unwrap();
        names.extend(name);
        at += 24 + page;
    }
    names.sort();
    names.dedup();
    names
}

/// What the split buys: customer messages on tickets whose status and
/// waiting do not change leave the indexes on those columns alone (one
/// UPDATE of every column rewrote their entries, ~3 of ~21 WAL pages of a
/// three-message batch).
#[tokio::test]
async fn group_commit_leaves_unchanged_ticket_indexes_alone() {
    let (dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let mut tickets = Vec::new();
    for _ in 0..3 {
        // Opened by a customer message: `new`, waiting since it.
        tickets.push(open_ticket(&store, u.id).await);
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .unwrap();
    let batch: Vec<NewMessage> = tickets
        .iter()
        .map(|t| message(t.id, Some(u.id), None))
        .collect();
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    for r in &got {
        let (_, t) = inserted(r);
        assert_eq!(t.status, TicketStatus::New);
    }
    let written = btrees_in_wal(&store, dir.path()).await;
    for untouched in [
        "tickets_open_assignee_idx",
        "tickets_escalate_new_idx",
        "tickets_escalate_awaiting_idx",
        "tickets_notify_idx",
        "tickets_to_close_idx",
    ] {
        assert!(
            !written.iter().any(|n| n == untouched),
            "{untouched} rewritten: {written:?}"
        );
    }
    // What does move: the rows, `updated_at`'s three indexes, the messages.
    for moved in ["tickets", "tickets_updated_idx", "messages"] {
        assert!(written.iter().any(|n| n == moved), "{moved}: {written:?}");
    }
}

#[tokio::test]
async fn group_commit_replays_a_batch_call_by_call_when_a_write_fails() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t1 = open_ticket(&store, u.id).await;
    let t2 = open_ticket(&store, u.id).await;
    let t3 = open_ticket(&store, u.id).await;
    let taken = store
        .insert_message(&message(t2.id, Some(u.id), None))
        .await
        .unwrap();
    // Something the plan cannot foresee refuses t3's next message.
    // The id is a UUID we made: nothing to inject.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TRIGGER refuse_t3 BEFORE INSERT ON messages WHEN new.ticket_id = '{}' \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        t3.id.0.hyphenated()
    )))
    .execute(store.pool())
    .await
    .unwrap();
    let batch = [
        message(t1.id, Some(u.id), None),
        message(t1.id, Some(UserId(Uuid::now_v7())), None),
        NewMessage {
            id: taken.message().id,
            ..message(t1.id, Some(u.id), None)
        },
        message(t3.id, Some(u.id), None),
        message(t2.id, Some(u.id), None),
    ];
    let before = store.tasks().group_commits();
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let after = store.tasks().group_commits();
    assert_eq!(after.transactions - before.transactions, 1);
    assert_eq!(after.replayed - before.replayed, 1);
    assert_eq!(inserted(&got[0]).0.seq, 2);
    assert!(
        matches!(got[1], Err(StoreError::ForeignKey)),
        "{:?}",
        got[1]
    );
    assert_unique(
        got[2].as_ref().map(|_| ()).map_err(clone_err),
        "messages.id",
    );
    assert!(got[3].is_err(), "the trigger refuses it: {:?}", got[3]);
    assert_eq!(inserted(&got[4]).0.seq, 3);
    let stored = |id| {
        let store = &store;
        async move { seqs(&store.list_messages_after(id, 0, 100, true).await.unwrap()) }
    };
    assert_eq!(stored(t1.id).await, [1, 2]);
    assert_eq!(stored(t2.id).await, [1, 2, 3]);
    assert_eq!(stored(t3.id).await, [1]);
    assert_eq!(store.fetch_ticket(t3.id).await.unwrap().unwrap(), t3);
}

/// Tickets opened in one batch get consecutive numbers and their own
/// outcomes; a message may go to a ticket opened in the same batch.
#[tokio::test]
async fn group_commit_opens_tickets_in_one_batch_with_their_own_outcomes() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let cat = category(&format!("Billing {}", Uuid::new_v4()));
    store.insert_category(&cat).await.unwrap();
    let (stored, stored_first) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), Some("open-stored")),
        )
        .await
        .unwrap();

    let with = |f: &dyn Fn(&mut Ticket)| {
        let mut t = ticket(u.id);
        f(&mut t);
        t
    };
    let first = |key: Option<&str>| message(TicketId(Uuid::nil()), Some(u.id), key);
    let a = with(&|t| {
        t.category_id = Some(cat.id);
        t.subject = "zzopenedsubject".to_owned();
    });
    let opens = [
        /* 0 */ (a.clone(), first(Some("open-a"))),
        /* 1 */
        (
            with(&|t| t.customer_id = UserId(Uuid::now_v7())),
            first(None),
        ),
        /* 2 */
        (
            with(&|t| t.category_id = Some(CategoryId(Uuid::now_v7()))),
            first(None),
        ),
        /* 3 */ (ticket(u.id), first(Some("open-stored"))),
        /* 4 */ (ticket(u.id), first(Some("open-a"))),
        /* 5 */ (with(&|t| t.id = stored.id), first(None)),
        /* 6 */
        (
            ticket(u.id),
            NewMessage {
                id: stored_first.id,
                ..first(None)
            },
        ),
        /* 7 */ (ticket(u.id), first(None)),
        /* 8 */
        (
            ticket(u.id),
            message(TicketId(Uuid::nil()), Some(UserId(Uuid::now_v7())), None),
        ),
    ];
    let messages = [
        /* 0 */ message(a.id, Some(u.id), None),
        /* 1 */ keyed(message(stored.id, Some(u.id), None), "open-stored"),
        /* 2 */ message(stored.id, Some(UserId(Uuid::now_v7())), None),
        /* 3 */ keyed(message(a.id, Some(u.id), None), "open-a"),
    ];
    let before = store.tasks().group_commits();
    let (opened, sent) = tokio::join!(
        futures_util::future::join_all(
            opens
                .iter()
                .map(|(t, m)| store.insert_ticket_with_first_message(t, m))
        ),
        futures_util::future::join_all(messages.iter().map(|m| store.insert_message(m))),
    );
    let after = store.tasks().group_commits();
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "one transaction"
    );
    assert_eq!(after.replayed, before.replayed, "planned, not replayed");

    let (ta, ma) = opened[0].as_ref().unwrap();
    assert_eq!((ta.number, ta.last_seq, ma.seq), (stored.number + 1, 1, 1));
    assert_eq!(
        *ma,
        neurochat_core::domain::Message {
            ticket_id: a.id,
            ..opens[0].1.with_seq(1)
        }
    );
    for i in [1, 2, 8] {
        assert!(
            matches!(opened[i], Err(StoreError::ForeignKey)),
            "{i}: {:?}",
            opened[i]
        );
    }
    for i in [3, 4] {
        assert_unique(
            opened[i].as_ref().map(|_| ()).map_err(clone_err),
            "tickets.first_message",
        );
    }
    assert_unique(
        opened[5].as_ref().map(|_| ()).map_err(clone_err),
        "tickets.id",
    );
    assert_unique(
        opened[6].as_ref().map(|_| ()).map_err(clone_err),
        "messages.id",
    );
    let (t7, _) = opened[7].as_ref().unwrap();
    assert_eq!(t7.number, stored.number + 2, "numbers stay consecutive");

    let (m0, ta_after) = inserted(&sent[0]);
    assert_eq!(
        (m0.seq, ta_after.last_seq, ta_after.number),
        (2, 2, ta.number)
    );
    assert_eq!(
        sent[1].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored_first.clone())
    );
    assert!(
        matches!(sent[2], Err(StoreError::ForeignKey)),
        "{:?}",
        sent[2]
    );
    assert_eq!(
        sent[3].as_ref().unwrap(),
        &InsertMessage::Duplicate(ma.clone()),
        "the first message of a ticket opened in the batch"
    );

    assert_eq!(store.fetch_ticket(a.id).await.unwrap().unwrap(), *ta_after);
    assert_eq!(store.fetch_ticket(t7.id).await.unwrap().unwrap(), *t7);
    for (t, _) in &opens[1..7] {
        if t.id != stored.id {
            assert_eq!(store.fetch_ticket(t.id).await.unwrap(), None);
        }
    }
    assert_eq!(matching(&store, u.id, "zzopenedsubject").await, vec![a.id]);
    // The counter moved by the two opened tickets only.
    let next = open_ticket(&store, u.id).await;
    assert_eq!(next.number, stored.number + 3);
}

fn clone_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::UniqueViolation { constraint } => StoreError::UniqueViolation { constraint },
        StoreError::ForeignKey => StoreError::ForeignKey,
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict => StoreError::Conflict,
        other => panic!("unexpected {other:?}"),
    }
}
