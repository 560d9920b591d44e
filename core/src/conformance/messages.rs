//! [`MessageStore`](crate::ports::MessageStore) scenarios: sequencing,
//! idempotency and paging. Each scenario works on its own fresh ticket.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::Duration;
use uuid::Uuid;

use super::fixtures::{
    self as fx, assert_foreign_key, assert_not_found, insert_agent, insert_user, now,
};
use crate::domain::{InsertMessage, Message, MessageKind, NewMessage, TicketId};
use crate::ports::Store;

fn inserted(r: InsertMessage) -> Message {
    match r {
        InsertMessage::Inserted(m) => m,
        InsertMessage::Duplicate(m) => panic!("expected Inserted, got Duplicate({m:?})"),
    }
}

/// Messages (author and key set, and unset) get seq 2, 3, … and bump the ticket's
/// `last_seq` and `updated_at` but not its version.
pub async fn insert_roundtrip_bumps_ticket(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;

    let t1 = t + Duration::seconds(1);
    let mut reply = fx::message(ticket.id, agent.id, t1);
    reply.kind = MessageKind::Agent;
    reply.client_msg_id = Some(format!("k-{}", fx::tag()));
    let m2 = inserted(store.insert_message(&reply).await.expect("insert reply"));
    assert_eq!(m2, reply.with_seq(2));

    let t2 = t + Duration::seconds(2);
    let mut note = fx::message(ticket.id, agent.id, t2);
    note.kind = MessageKind::InternalNote;
    let m3 = inserted(store.insert_message(&note).await.expect("insert note"));
    assert_eq!(m3, note.with_seq(3));

    let t3 = t + Duration::seconds(3);
    let mut sys = fx::message(ticket.id, agent.id, t3);
    sys.author_id = None;
    sys.kind = MessageKind::System;
    sys.body = "Status changed to resolved".to_owned();
    let m4 = inserted(store.insert_message(&sys).await.expect("insert system"));
    assert_eq!(m4, sys.with_seq(4));

    let all = store
        .list_messages_after(ticket.id, 0, 100)
        .await
        .expect("list");
    assert_eq!(all.len(), 4);
    assert_eq!(all[1..], [m2, m3, m4]);
    let got = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    let mut expected = ticket.clone();
    expected.last_seq = 4;
    expected.updated_at = t3;
    assert_eq!(got, expected, "only last_seq and updated_at change");
}

/// Re-sending a `client_msg_id` returns the original as `Duplicate` and consumes no seq;
/// another author or another ticket may use the same key.
pub async fn insert_duplicate_client_msg_id(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let other_ticket = fx::insert_ticket(store, customer.id, t).await;
    let key = format!("k-{}", fx::tag());

    let mut first = fx::message(ticket.id, customer.id, t);
    first.client_msg_id = Some(key.clone());
    let original = inserted(store.insert_message(&first).await.expect("insert"));

    let mut again = fx::message(ticket.id, customer.id, t + Duration::seconds(1));
    again.client_msg_id = Some(key.clone());
    again.body = "a different body".to_owned();
    match store.insert_message(&again).await.expect("resend") {
        InsertMessage::Duplicate(m) => assert_eq!(m, original),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    let got = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(
        (got.last_seq, got.updated_at),
        (2, t),
        "a duplicate changes nothing"
    );

    let mut by_agent = fx::message(ticket.id, agent.id, t);
    by_agent.client_msg_id = Some(key.clone());
    assert_eq!(
        inserted(store.insert_message(&by_agent).await.expect("insert")).seq,
        3
    );

    let mut elsewhere = fx::message(other_ticket.id, customer.id, t);
    elsewhere.client_msg_id = Some(key.clone());
    assert_eq!(
        inserted(store.insert_message(&elsewhere).await.expect("insert")).seq,
        2
    );

    let seqs: Vec<i64> = store
        .list_messages_after(ticket.id, 0, 100)
        .await
        .expect("list")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}

/// A message on an unknown ticket is NotFound.
pub async fn insert_unknown_ticket_not_found(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ghost = TicketId(Uuid::now_v7());
    assert_not_found(
        store
            .insert_message(&fx::message(ghost, customer.id, t))
            .await,
    );
    assert!(
        store
            .list_messages_after(ghost, 0, 10)
            .await
            .expect("list")
            .is_empty()
    );
}

/// A message by an unknown author is a ForeignKey error and consumes no seq.
pub async fn insert_unknown_author_foreign_key(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    assert_foreign_key(
        store
            .insert_message(&fx::message(ticket.id, fx::user_id(), t))
            .await,
    );
    let got = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(got.last_seq, 1);
    let m = inserted(
        store
            .insert_message(&fx::message(ticket.id, customer.id, t))
            .await
            .expect("insert"),
    );
    assert_eq!(m.seq, 2);
}

/// Twenty concurrent inserts get seqs 2..=21: gapless, unique, and `last_seq` is 21.
pub async fn concurrent_inserts_gapless(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let batch: Vec<NewMessage> = (0..20)
        .map(|i| {
            let author = if i % 2 == 0 { customer.id } else { agent.id };
            let mut m = fx::message(ticket.id, author, t + Duration::milliseconds(i));
            m.client_msg_id = Some(format!("k{i}-{}", fx::tag()));
            m
        })
        .collect();
    let results = join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let mut seqs = HashSet::new();
    for (sent, r) in batch.iter().zip(results) {
        let m = inserted(r.expect("concurrent insert"));
        assert_eq!(m, sent.with_seq(m.seq));
        assert!(seqs.insert(m.seq), "seq {} handed out twice", m.seq);
    }
    assert_eq!(seqs, (2..=21).collect::<HashSet<i64>>());
    let all = store
        .list_messages_after(ticket.id, 0, 100)
        .await
        .expect("list");
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=21).collect::<Vec<_>>()
    );
    let got = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(got.last_seq, 21);
}

/// Eight concurrent sends of one `client_msg_id`: exactly one `Inserted`, seven `Duplicate` of it.
pub async fn concurrent_duplicates_insert_once(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let key = format!("k-{}", fx::tag());
    let batch: Vec<NewMessage> = (0..8)
        .map(|_| {
            let mut m = fx::message(ticket.id, customer.id, t);
            m.client_msg_id = Some(key.clone());
            m
        })
        .collect();
    let results = join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let mut originals = Vec::new();
    let mut duplicates = Vec::new();
    for r in results {
        match r.expect("concurrent send") {
            InsertMessage::Inserted(m) => originals.push(m),
            InsertMessage::Duplicate(m) => duplicates.push(m),
        }
    }
    assert_eq!(originals.len(), 1, "exactly one insert wins");
    assert_eq!(originals[0].seq, 2);
    for d in duplicates {
        assert_eq!(d, originals[0]);
    }
    let got = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(got.last_seq, 2);
}

/// `list_messages_after` pages forward; `list_messages_before` returns the newest
/// `limit` below the cursor in ascending order.
pub async fn list_after_and_before(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let other = fx::insert_ticket(store, customer.id, t).await;
    for i in 0..9 {
        let m = fx::message(ticket.id, customer.id, t + Duration::milliseconds(i));
        store.insert_message(&m).await.expect("insert");
    }
    let seqs = |v: Vec<Message>| {
        assert!(v.iter().all(|m| m.ticket_id == ticket.id));
        v.iter().map(|m| m.seq).collect::<Vec<i64>>()
    };
    let after = |a: i64, l: u32| async move {
        seqs(
            store
                .list_messages_after(ticket.id, a, l)
                .await
                .expect("after"),
        )
    };
    let before = |b: i64, l: u32| async move {
        seqs(
            store
                .list_messages_before(ticket.id, b, l)
                .await
                .expect("before"),
        )
    };

    assert_eq!(after(0, 100).await, (1..=10).collect::<Vec<_>>());
    assert_eq!(after(3, 4).await, [4, 5, 6, 7]);
    assert_eq!(after(8, 4).await, [9, 10]);
    assert!(after(10, 4).await.is_empty());
    assert_eq!(before(8, 3).await, [5, 6, 7]);
    assert_eq!(before(11, 2).await, [9, 10]);
    assert_eq!(before(i64::MAX, 3).await, [8, 9, 10]);
    assert_eq!(before(3, 10).await, [1, 2]);
    assert!(before(1, 10).await.is_empty());

    let other_seqs: Vec<i64> = store
        .list_messages_after(other.id, 0, 100)
        .await
        .expect("other")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(
        other_seqs,
        [1],
        "tickets number their messages independently"
    );
    let ghost = TicketId(Uuid::now_v7());
    assert!(
        store
            .list_messages_after(ghost, 0, 10)
            .await
            .expect("ghost")
            .is_empty()
    );
    assert!(
        store
            .list_messages_before(ghost, 10, 10)
            .await
            .expect("ghost")
            .is_empty()
    );
}
