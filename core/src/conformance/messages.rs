//! [`MessageStore`](crate::ports::MessageStore) scenarios: sequencing,
//! idempotency, the effects of a message on its ticket and paging (read
//! receipts: `receipts`). Each scenario works on its own fresh tickets.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::Duration;
use uuid::Uuid;

use super::fixtures::{
    self as fx, assert_conflict, assert_foreign_key, assert_not_found, insert_agent, insert_user,
    now,
};
use crate::domain::{
    InsertMessage, Message, MessageKind, NewMessage, Ticket, TicketId, TicketStatus,
};
use crate::ports::Store;

fn inserted(r: InsertMessage) -> Message {
    inserted_with_ticket(r).0
}

fn inserted_with_ticket(r: InsertMessage) -> (Message, Ticket) {
    let (message, ticket, _) = inserted_full(r);
    (message, ticket)
}

fn inserted_full(r: InsertMessage) -> (Message, Ticket, TicketStatus) {
    match r {
        InsertMessage::Inserted {
            message,
            ticket,
            previous_status,
        } => (message, ticket, previous_status),
        InsertMessage::Duplicate(m) => panic!("expected Inserted, got Duplicate({m:?})"),
    }
}

/// Inserts `m`, checks the stored message, that the returned ticket is the stored
/// one and that the returned previous status is the one before, and returns the ticket.
async fn send(store: &dyn Store, m: &NewMessage) -> Ticket {
    let before = fx::fetch_ticket(store, m.ticket_id).await;
    let (message, ticket, previous_status) =
        inserted_full(store.insert_message(m).await.expect("insert message"));
    assert_eq!(
        previous_status, before.status,
        "Inserted carries the status before the insert"
    );
    assert_eq!(message, m.with_seq(message.seq));
    assert_eq!(ticket.last_seq, message.seq);
    assert_eq!(
        fx::fetch_ticket(store, m.ticket_id).await,
        ticket,
        "Inserted carries the ticket as stored"
    );
    ticket
}

/// Messages of every kind (author and key set, and unset) get seq 2, 3, … and come back
/// with the ticket as stored after the insert.
pub async fn insert_roundtrip_returns_ticket(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;

    let t1 = t + Duration::seconds(1);
    let mut reply = fx::agent_message(ticket.id, agent.id, t1);
    reply.client_msg_id = Some(format!("k-{}", fx::tag()));
    let (m2, after2) =
        inserted_with_ticket(store.insert_message(&reply).await.expect("insert reply"));
    assert_eq!(m2, reply.with_seq(2));

    let t2 = t + Duration::seconds(2);
    let note = fx::message_of(MessageKind::InternalNote, ticket.id, Some(agent.id), t2);
    let (m3, after3) =
        inserted_with_ticket(store.insert_message(&note).await.expect("insert note"));
    assert_eq!(m3, note.with_seq(3));

    let t3 = t + Duration::seconds(3);
    let mut sys = fx::system_message(ticket.id, t3);
    sys.body = "Status changed to resolved".to_owned();
    let (m4, after4) =
        inserted_with_ticket(store.insert_message(&sys).await.expect("insert system"));
    assert_eq!(m4, sys.with_seq(4));

    let all = store
        .list_messages_after(ticket.id, 0, 100, true)
        .await
        .expect("list");
    assert_eq!(all.len(), 4);
    assert_eq!(all[1..], [m2, m3, m4]);
    assert_eq!((after2.last_seq, after3.last_seq), (2, 3));
    assert_eq!((after2.updated_at, after3.updated_at), (t1, t2));
    assert_eq!(fx::fetch_ticket(store, ticket.id).await, after4);
    assert_eq!((after4.last_seq, after4.updated_at), (4, t3));
}

/// A customer message sets `awaiting_since` only if unset; an agent message clears it,
/// sets `first_response_at` once and moves `last_agent_seq`/`last_agent_message_at`.
/// Neither bumps the version or changes the status of an open ticket.
pub async fn insert_customer_and_agent_effects(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    assert_eq!(ticket.awaiting_since, Some(t));
    let mut expected = ticket.clone();

    let got = send(store, &fx::message(ticket.id, customer.id, s(1))).await;
    expected.last_seq = 2;
    expected.updated_at = s(1);
    assert_eq!(
        got, expected,
        "customer again: still awaiting since the first"
    );

    let got = send(store, &fx::agent_message(ticket.id, agent.id, s(2))).await;
    expected.last_seq = 3;
    expected.updated_at = s(2);
    expected.awaiting_since = None;
    expected.first_response_at = Some(s(2));
    expected.last_agent_seq = 3;
    expected.last_agent_message_at = Some(s(2));
    assert_eq!(got, expected, "agent reply");

    let got = send(store, &fx::message(ticket.id, customer.id, s(3))).await;
    expected.last_seq = 4;
    expected.updated_at = s(3);
    expected.awaiting_since = Some(s(3));
    assert_eq!(got, expected, "customer after the reply");

    // An in-progress ticket stays in progress.
    let ticket = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::InProgress;
        tk.assignee_id = Some(agent.id);
    })
    .await;
    let mut expected = ticket.clone();
    let got = send(store, &fx::agent_message(ticket.id, agent.id, s(4))).await;
    expected.last_seq = 5;
    expected.updated_at = s(4);
    expected.awaiting_since = None;
    expected.last_agent_seq = 5;
    expected.last_agent_message_at = Some(s(4));
    assert_eq!(got, expected, "second reply: first_response_at kept");
    assert_eq!(got.first_response_at, Some(s(2)));

    let got = send(store, &fx::message(ticket.id, customer.id, s(5))).await;
    expected.last_seq = 6;
    expected.updated_at = s(5);
    expected.awaiting_since = Some(s(5));
    assert_eq!(got, expected, "customer on an in-progress ticket");
}

/// System messages and internal notes change only `last_seq` and `updated_at`: they do
/// not answer, await, or reopen. Neither does an agent message reopen a resolved ticket.
pub async fn insert_system_and_note_effects(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let mut expected = ticket.clone();

    let got = send(store, &fx::system_message(ticket.id, s(1))).await;
    expected.last_seq = 2;
    expected.updated_at = s(1);
    assert_eq!(got, expected, "system message");
    let note = fx::message_of(MessageKind::InternalNote, ticket.id, Some(agent.id), s(2));
    let got = send(store, &note).await;
    expected.last_seq = 3;
    expected.updated_at = s(2);
    assert_eq!(got, expected, "internal note");

    let resolved = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::Resolved;
        tk.assignee_id = Some(agent.id);
        tk.resolved_at = Some(s(3));
    })
    .await;
    let mut expected = resolved.clone();
    let got = send(store, &fx::system_message(ticket.id, s(4))).await;
    expected.last_seq = 4;
    expected.updated_at = s(4);
    assert_eq!(got, expected, "system message on a resolved ticket");
    let note = fx::message_of(MessageKind::InternalNote, ticket.id, Some(agent.id), s(5));
    let got = send(store, &note).await;
    expected.last_seq = 5;
    expected.updated_at = s(5);
    assert_eq!(got, expected, "note on a resolved ticket");
    let got = send(store, &fx::agent_message(ticket.id, agent.id, s(6))).await;
    expected.last_seq = 6;
    expected.updated_at = s(6);
    expected.awaiting_since = None;
    expected.first_response_at = Some(s(6));
    expected.last_agent_seq = 6;
    expected.last_agent_message_at = Some(s(6));
    assert_eq!(got, expected, "agent message on a resolved ticket");
}

/// A customer message on a resolved, assigned ticket reopens it as `in_progress` and bumps
/// the version once; `resolved_at` is kept; later messages bump nothing.
pub async fn insert_reopens_resolved_assigned(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    send(store, &fx::agent_message(ticket.id, agent.id, s(1))).await;
    let resolved = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::Resolved;
        tk.assignee_id = Some(agent.id);
        tk.resolved_at = Some(s(2));
        tk.updated_at = s(2);
    })
    .await;

    let got = send(store, &fx::message(ticket.id, customer.id, s(3))).await;
    let mut expected = resolved.clone();
    expected.status = TicketStatus::InProgress;
    expected.version = resolved.version + 1;
    expected.last_seq = 3;
    expected.updated_at = s(3);
    expected.awaiting_since = Some(s(3));
    assert_eq!(got, expected, "reopened in progress");

    let got = send(store, &fx::message(ticket.id, customer.id, s(4))).await;
    expected.last_seq = 4;
    expected.updated_at = s(4);
    assert_eq!(got, expected, "no second bump");
}

/// A customer message on a resolved, unassigned ticket reopens it as `new` (version + 1).
pub async fn insert_reopens_resolved_unassigned(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let resolved = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::Resolved;
        tk.resolved_at = Some(s(1));
    })
    .await;
    assert_eq!(resolved.awaiting_since, Some(t), "update_ticket keeps it");

    let got = send(store, &fx::message(ticket.id, customer.id, s(2))).await;
    let mut expected = resolved.clone();
    expected.status = TicketStatus::New;
    expected.version = resolved.version + 1;
    expected.last_seq = 2;
    expected.updated_at = s(2);
    assert_eq!(
        got, expected,
        "reopened as new; still awaiting since the first message"
    );
}

/// `insert_messages` gives each message, in order, what `insert_message` would have:
/// seqs in input order across two tickets, a repeat of a key used earlier in the same
/// call is a Duplicate of that message, a closed ticket is a Conflict and an unknown
/// one NotFound — and none of these failures stops the messages after it.
pub async fn insert_many_in_order(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let a = fx::insert_ticket(store, customer.id, t).await;
    let b = fx::insert_ticket(store, customer.id, t).await;
    let closed = fx::insert_ticket(store, customer.id, t).await;
    fx::modify_ticket(store, closed.id, |tk| {
        tk.status = TicketStatus::Closed;
        tk.closed_at = Some(s(1));
    })
    .await;
    let keyed = |ticket: TicketId, key: &str, n: i64| {
        let mut m = fx::message(ticket, customer.id, s(n));
        m.client_msg_id = Some(format!("{key}-{}", fx::tag()));
        m
    };
    let first = keyed(a.id, "one", 2);
    let mut repeat = fx::message(a.id, customer.id, s(3));
    repeat.client_msg_id = first.client_msg_id.clone();
    let batch = vec![
        first.clone(),
        fx::agent_message(b.id, agent.id, s(2)),
        fx::message(closed.id, customer.id, s(2)),
        repeat,
        fx::message(TicketId(Uuid::now_v7()), customer.id, s(2)),
        fx::agent_message(a.id, agent.id, s(4)),
        keyed(b.id, "two", 5),
    ];
    let mut got = store.insert_messages(&batch).await.into_iter();
    let mut next = || got.next().expect("one outcome per message");

    let (m, tk, before) = inserted_full(next().expect("first"));
    assert_eq!((m.seq, tk.last_seq, before), (2, 2, TicketStatus::New));
    assert_eq!(m, first.with_seq(2));
    let (m, _, _) = inserted_full(next().expect("to b"));
    assert_eq!(m.seq, 2);
    assert_conflict(next().map(drop));
    match next().expect("repeat") {
        InsertMessage::Duplicate(original) => assert_eq!(original.id, first.id),
        other => panic!("expected the first message back, got {other:?}"),
    }
    assert_not_found(next().map(drop));
    let (m, tk, _) = inserted_full(next().expect("agent on a"));
    assert_eq!((m.seq, tk.last_seq, tk.last_agent_seq), (3, 3, 3));
    let (m, _, _) = inserted_full(next().expect("second to b"));
    assert_eq!(m.seq, 3);
    assert!(got.next().is_none(), "no more outcomes than messages");

    let listed = store
        .list_messages_after(a.id, 0, 10, true)
        .await
        .expect("list");
    assert_eq!(listed.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        fx::fetch_ticket(store, closed.id).await.last_seq,
        closed.last_seq
    );
    assert!(
        store.insert_messages(&[]).await.is_empty(),
        "nothing in, nothing out"
    );
}

/// Any message on a closed ticket is a Conflict and stores nothing: no message, no seq
/// consumed, the ticket unchanged.
pub async fn insert_closed_conflict_stores_nothing(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let closed = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::Closed;
        tk.closed_at = Some(s(1));
    })
    .await;

    let mut keyed = fx::message(ticket.id, customer.id, s(2));
    keyed.client_msg_id = Some(format!("k-{}", fx::tag()));
    let attempts = [
        keyed.clone(),
        fx::agent_message(ticket.id, agent.id, s(3)),
        fx::system_message(ticket.id, s(4)),
        fx::message_of(MessageKind::InternalNote, ticket.id, Some(agent.id), s(5)),
    ];
    for m in &attempts {
        assert_conflict(store.insert_message(m).await);
    }
    assert_eq!(fx::fetch_ticket(store, ticket.id).await, closed);
    let all = store
        .list_messages_after(ticket.id, 0, 100, true)
        .await
        .expect("list");
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), [1]);

    // Reopened by an update (not something the service does): the next message gets seq 2,
    // and the key refused while closed was never stored.
    fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::InProgress;
        tk.closed_at = None;
    })
    .await;
    let m = inserted(store.insert_message(&keyed).await.expect("insert"));
    assert_eq!(m, keyed.with_seq(2));
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
    let snapshot = fx::fetch_ticket(store, ticket.id).await;
    assert_eq!(
        (snapshot.last_seq, snapshot.updated_at),
        (2, t),
        "a duplicate changes nothing"
    );

    // Not even on a resolved ticket: a resent customer message does not reopen it.
    let resolved = fx::modify_ticket(store, ticket.id, |tk| {
        tk.status = TicketStatus::Resolved;
        tk.resolved_at = Some(t);
    })
    .await;
    let mut late = fx::message(ticket.id, customer.id, t + Duration::seconds(5));
    late.client_msg_id = Some(key.clone());
    match store.insert_message(&late).await.expect("resend") {
        InsertMessage::Duplicate(m) => assert_eq!(m, original),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(
        fx::fetch_ticket(store, ticket.id).await,
        resolved,
        "a duplicate has no effects"
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
        .list_messages_after(ticket.id, 0, 100, true)
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
            .list_messages_after(ghost, 0, 10, true)
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
        .list_messages_after(ticket.id, 0, 100, true)
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
            InsertMessage::Inserted { message, .. } => originals.push(message),
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
                .list_messages_after(ticket.id, a, l, true)
                .await
                .expect("after"),
        )
    };
    let before = |b: i64, l: u32| async move {
        seqs(
            store
                .list_messages_before(ticket.id, b, l, true)
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
        .list_messages_after(other.id, 0, 100, true)
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
            .list_messages_after(ghost, 0, 10, true)
            .await
            .expect("ghost")
            .is_empty()
    );
    assert!(
        store
            .list_messages_before(ghost, 10, 10, true)
            .await
            .expect("ghost")
            .is_empty()
    );
}

/// Internal notes are listed only with `include_internal`, in both directions, and the
/// limit counts the messages returned.
pub async fn list_hides_internal_notes(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await; // 1: customer
    let ms = |n: i64| t + Duration::milliseconds(n);
    let note = |n| fx::message_of(MessageKind::InternalNote, ticket.id, Some(agent.id), ms(n));
    for m in [
        note(2),                                       // 2
        fx::agent_message(ticket.id, agent.id, ms(3)), // 3
        note(4),                                       // 4
        fx::system_message(ticket.id, ms(5)),          // 5
        note(6),                                       // 6
    ] {
        store.insert_message(&m).await.expect("insert");
    }
    let seqs = |v: Vec<Message>| v.iter().map(|m| m.seq).collect::<Vec<i64>>();
    let after = |a: i64, l: u32, internal: bool| async move {
        seqs(
            store
                .list_messages_after(ticket.id, a, l, internal)
                .await
                .expect("after"),
        )
    };
    let before = |b: i64, l: u32, internal: bool| async move {
        seqs(
            store
                .list_messages_before(ticket.id, b, l, internal)
                .await
                .expect("before"),
        )
    };
    assert_eq!(after(0, 100, true).await, [1, 2, 3, 4, 5, 6]);
    assert_eq!(after(0, 100, false).await, [1, 3, 5]);
    assert_eq!(after(0, 2, false).await, [1, 3]);
    assert_eq!(after(1, 2, false).await, [3, 5]);
    assert_eq!(after(1, 2, true).await, [2, 3]);
    assert!(after(5, 10, false).await.is_empty());
    assert_eq!(before(7, 2, false).await, [3, 5]);
    assert_eq!(before(7, 2, true).await, [5, 6]);
    assert_eq!(before(5, 2, false).await, [1, 3]);
    assert_eq!(before(i64::MAX, 100, false).await, [1, 3, 5]);
}
