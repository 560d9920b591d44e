//! Races of the store contract on a real multi-connection (file) pool.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use neurochat_core::domain::{InsertMessage, RotateOutcome, TicketId};
use neurochat_core::ports::{
    MessageStore, OutboxStore, SessionStore, Store, TicketStore, UserStore,
};
use neurochat_storage_sqlx::SqliteStore;
use time::Duration;
use uuid::Uuid;

use support::*;

// ---------------------------------------------------------------- races on a file pool

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_one_token_rotate_once() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let s = session(u.id);
    let t = refresh(&s);
    store.insert_session(&s, Some(&t)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        let succ = refresh(&s);
        tasks.push(tokio::spawn(async move {
            store.rotate_refresh_token(t.id, &succ, now()).await
        }));
    }
    let mut rotated = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RotateOutcome::Rotated => rotated += 1,
            RotateOutcome::Reused { session_id, .. } => assert_eq!(session_id, s.id),
            RotateOutcome::SessionInactive => panic!("the session was active"),
        }
    }
    assert_eq!(rotated, 1);
    // Presenting the rotated token again revoked the family.
    let s = store.fetch_session(s.id).await.unwrap().unwrap();
    assert_eq!(s.revoke_reason.as_deref(), Some("refresh_token_reused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_gapless_seqs_and_unique_numbers() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), None),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        let author = u.id;
        let ticket_id = t.id;
        tasks.push(tokio::spawn(async move {
            // Every message twice with the same key: the second is a duplicate.
            let key = format!("c-{i}");
            let a = store
                .insert_message(&message(ticket_id, Some(author), Some(&key)))
                .await
                .unwrap();
            let b = store
                .insert_message(&message(ticket_id, Some(author), Some(&key)))
                .await
                .unwrap();
            assert_eq!(b, InsertMessage::Duplicate(a.message().clone()));
            // And a new ticket now and then.
            let n = store
                .insert_ticket_with_first_message(
                    &ticket(author),
                    &message(TicketId(Uuid::nil()), Some(author), None),
                )
                .await
                .unwrap()
                .0
                .number;
            (a.message().seq, n)
        }));
    }
    let mut seqs = Vec::new();
    let mut numbers = HashSet::new();
    for task in tasks {
        let (seq, n) = task.await.unwrap();
        seqs.push(seq);
        assert!(numbers.insert(n), "ticket number {n} handed out twice");
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=33).collect::<Vec<i64>>());
    assert_eq!(numbers.len(), 32);
    assert_eq!(
        store.fetch_ticket(t.id).await.unwrap().unwrap().last_seq,
        33
    );
    let all = store
        .list_messages_after(t.id, 0, 1000, true)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=33).collect::<Vec<i64>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_outbox_claims_never_share_a_mail() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let t0 = now();
    let mut ids = HashSet::new();
    for i in 0..40 {
        let m = mail(t0 + Duration::milliseconds(i), t0);
        ids.insert(m.id);
        store.insert_outbox(&m).await.unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_outbox(t0, t0 + Duration::minutes(5), 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for m in &batch {
                    assert_eq!(m.attempts, 1);
                    assert_eq!(m.next_attempt_at, t0 + Duration::minutes(5));
                }
                mine.extend(batch.into_iter().map(|m| m.id));
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    assert_eq!(claimed.len(), 40, "every mail claimed exactly once");
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_of_one_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let opens = (0..4).map(|_| {
            let path = path.clone();
            tokio::spawn(async move { SqliteStore::open(path).await })
        });
        for open in opens.collect::<Vec<_>>() {
            let store = open.await.unwrap().unwrap();
            store.ping().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_with_one_first_message_key_store_one_ticket() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let author = u.id;
            tokio::spawn(async move {
                store
                    .insert_ticket_with_first_message(
                        &ticket(author),
                        &message(TicketId(Uuid::nil()), Some(author), Some("open-7")),
                    )
                    .await
            })
        })
        .collect();
    let mut opened = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((t, _)) => opened.push(t.id),
            Err(e) => assert_unique(Err::<(), _>(e), "tickets.first_message"),
        }
    }
    assert_eq!(opened.len(), 1, "exactly one open wins");
    let (found, first) = store
        .fetch_ticket_by_first_message(u.id, "open-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, first.ticket_id), (opened[0], opened[0]));
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE customer_id = ?")
        .bind(u.id.0.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(tickets, 1, "the losers stored nothing");
    // The same key from another author is another ticket.
    let v = fresh_user();
    store.insert_user(&v).await.unwrap();
    store
        .insert_ticket_with_first_message(
            &ticket(v.id),
            &message(TicketId(Uuid::nil()), Some(v.id), Some("open-7")),
        )
        .await
        .unwrap();
}
