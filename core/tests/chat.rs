//! Messages: idempotent sends, ordering, internal notes, reopening, closed
//! tickets, history pages, receipts, delivery status and typing.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration as StdDuration;

use neurochat_core::domain::{MessageKind, TicketStatus};
use neurochat_core::events::{Event, TicketChange, Topic};
use neurochat_core::ports::Delivery;
use neurochat_core::service::chat::{DeliveryStatus, HistoryPage, PostMessage, delivery_status};
use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use support::{ctx, env};

fn post(ticket_id: neurochat_core::domain::TicketId, body: &str, id: &str) -> PostMessage {
    PostMessage {
        ticket_id,
        body: body.into(),
        client_msg_id: id.into(),
        internal: false,
    }
}

#[tokio::test]
async fn sends_are_idempotent_ordered_and_gapless() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "chat.agent@example.com").await;
    let c = env.customer("chat.cust@example.com").await;
    let t = env.open_ticket(&c, "chatty").await;
    let d = &env.desk;
    let first = d
        .post_message(&c, post(t.id, "hello?", "m-1"))
        .await
        .unwrap();
    assert_eq!((first.message.seq, first.duplicate), (2, false));
    let again = d
        .post_message(&c, post(t.id, "hello? (resent)", "m-1"))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.message, first.message,
        "a resend returns the original"
    );
    // The same client id from another author is a different message.
    let other = d
        .post_message(&agent, post(t.id, "hi!", "m-1"))
        .await
        .unwrap();
    assert_eq!(other.message.seq, 3);
    assert_eq!(other.message.kind, MessageKind::Agent);
    // Many concurrent senders: seqs stay gapless and unique.
    let sends: Vec<_> = (0..20)
        .map(|i| post(t.id, "burst", &format!("b-{i}")))
        .collect();
    let results =
        futures_util::future::join_all(sends.into_iter().map(|p| d.post_message(&c, p))).await;
    let mut seqs: Vec<i64> = results
        .into_iter()
        .map(|r| r.unwrap().message.seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (4..=23).collect::<Vec<_>>());
    let history = d
        .list_messages(&agent, t.id, HistoryPage::Latest, 200)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=23).collect::<Vec<_>>()
    );
    // Pages before and after a seq.
    let before = d
        .list_messages(&c, t.id, HistoryPage::Before(10), 3)
        .await
        .unwrap();
    assert_eq!(before.iter().map(|m| m.seq).collect::<Vec<_>>(), [7, 8, 9]);
    let after = d
        .list_messages(&c, t.id, HistoryPage::After(20), 50)
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [21, 22, 23]
    );
}

#[tokio::test]
async fn bodies_are_validated_and_bad_input_writes_nothing() {
    let env = env();
    let c = env.customer("val@example.com").await;
    let t = env.open_ticket(&c, "validation").await;
    let d = &env.desk;
    for (body, id, field, code) in [
        ("   ", "a-1", "body", FieldErrorCode::Required),
        (
            &"x".repeat(4001) as &str,
            "a-2",
            "body",
            FieldErrorCode::TooLong,
        ),
        (
            "nul\u{0}byte",
            "a-3",
            "body",
            FieldErrorCode::InvalidCharacters,
        ),
        ("fine", "", "client_msg_id", FieldErrorCode::Required),
        (
            "fine",
            &"i".repeat(65),
            "client_msg_id",
            FieldErrorCode::InvalidFormat,
        ),
    ] {
        let err = d.post_message(&c, post(t.id, body, id)).await.unwrap_err();
        assert_eq!(err.violations()[0].field, field);
        assert_eq!(err.violations()[0].code, code);
    }
    let ok = d
        .post_message(
            &c,
            post(t.id, &format!("  {}\n\tend  ", "y".repeat(3990)), "a-4"),
        )
        .await
        .unwrap();
    assert!(ok.message.body.ends_with("\n\tend"));
    assert_eq!(
        d.get_ticket(&c, t.id).await.unwrap().last_seq,
        2,
        "only the valid message was stored"
    );
    let unknown = neurochat_core::domain::TicketId(uuid::Uuid::now_v7());
    assert_eq!(
        d.post_message(&c, post(unknown, "hi", "a-5"))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn internal_notes_never_reach_customers() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "note.agent@example.com").await;
    let c = env.customer("note.cust@example.com").await;
    let t = env.open_ticket(&c, "notes").await;
    let d = &env.desk;
    let note = d
        .post_message(
            &agent,
            PostMessage {
                internal: true,
                ..post(t.id, "VIP customer, be nice", "n-1")
            },
        )
        .await
        .unwrap();
    assert_eq!(note.message.kind, MessageKind::InternalNote);
    env.say(&agent, t.id, "How can I help?").await;
    let seen = d
        .list_messages(&c, t.id, HistoryPage::Latest, 50)
        .await
        .unwrap();
    assert!(seen.iter().all(|m| m.kind != MessageKind::InternalNote));
    assert_eq!(
        seen.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 3],
        "customers see a gap where the note is"
    );
    let staff_view = d
        .list_messages(&admin, t.id, HistoryPage::Latest, 50)
        .await
        .unwrap();
    assert_eq!(staff_view.len(), 3);
    // A note does not count as an answer.
    let after_note = d.get_ticket(&agent, t.id).await.unwrap();
    assert_eq!(after_note.last_agent_seq, 3);
}

#[tokio::test]
async fn a_customer_message_reopens_a_resolved_ticket_and_closed_tickets_are_read_only() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "reopen.agent@example.com").await;
    let c = env.customer("reopen.cust@example.com").await;
    let d = &env.desk;
    let t = env.open_ticket(&c, "reopen").await;
    d.claim_ticket(&agent, t.id, &ctx()).await.unwrap();
    d.set_ticket_status(&agent, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    let mut events = d.bus().subscribe(Topic::Inbox).await.unwrap();
    let p = d
        .post_message(&c, post(t.id, "it broke again", "r-1"))
        .await
        .unwrap();
    assert_eq!(p.ticket.status, TicketStatus::InProgress);
    match futures_util::StreamExt::next(&mut events).await {
        Some(Delivery::Event(Event::TicketChanged { ticket, .. })) => {
            assert_eq!(ticket.status, TicketStatus::InProgress)
        }
        other => panic!("expected a status event, got {other:?}"),
    }
    // Unassigned resolved ticket reopens to new.
    let t2 = env.open_ticket(&c, "reopen unassigned").await;
    d.set_ticket_status(&c, t2.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    assert_eq!(
        d.post_message(&c, post(t2.id, "again", "r-2"))
            .await
            .unwrap()
            .ticket
            .status,
        TicketStatus::New
    );
    // Closed: read-only for everyone.
    d.set_ticket_status(&agent, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    d.set_ticket_status(&agent, t.id, TicketStatus::Closed, &ctx())
        .await
        .unwrap();
    assert_eq!(
        d.post_message(&c, post(t.id, "hello?", "r-3"))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::TicketClosed
    );
    assert_eq!(
        d.post_message(&agent, post(t.id, "hello?", "r-4"))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::TicketClosed
    );
    assert_eq!(
        d.set_typing(&c, t.id, true).await.unwrap_err().code(),
        ErrorCode::TicketClosed
    );
}

#[tokio::test]
async fn receipts_only_move_forward_and_drive_delivery_status() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "rcpt.agent@example.com").await;
    let c = env.customer("rcpt.cust@example.com").await;
    let t = env.open_ticket(&c, "receipts").await;
    let d = &env.desk;
    let reply = env.say(&agent, t.id, "answer 1").await;
    env.say(&agent, t.id, "answer 2").await;
    let mut topic = d.bus().subscribe(Topic::Ticket(t.id)).await.unwrap();
    let r = d.mark_receipt(&c, t.id, Some(2), None).await.unwrap();
    assert_eq!((r.delivered_seq, r.read_seq), (2, 0));
    let receipts = d.list_receipts(&agent, t.id).await.unwrap();
    assert_eq!(
        delivery_status(&reply, &receipts),
        DeliveryStatus::Delivered
    );
    let r = d.mark_receipt(&c, t.id, None, Some(3)).await.unwrap();
    assert_eq!(
        (r.delivered_seq, r.read_seq),
        (3, 3),
        "reading implies delivery"
    );
    // Never back, and never past the newest message.
    let r = d.mark_receipt(&c, t.id, Some(1), Some(1)).await.unwrap();
    assert_eq!((r.delivered_seq, r.read_seq), (3, 3));
    let r = d
        .mark_receipt(&c, t.id, Some(999), Some(999))
        .await
        .unwrap();
    assert_eq!((r.delivered_seq, r.read_seq), (3, 3));
    let receipts = d.list_receipts(&c, t.id).await.unwrap();
    assert_eq!(delivery_status(&reply, &receipts), DeliveryStatus::Read);
    let own_first = d
        .list_messages(&c, t.id, HistoryPage::After(0), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        delivery_status(&own_first, &receipts),
        DeliveryStatus::Sent,
        "own receipts don't count"
    );
    assert_eq!(
        d.mark_receipt(&c, t.id, Some(-1), None)
            .await
            .unwrap_err()
            .violations()[0]
            .field,
        "delivered_seq"
    );
    // Only moves are published.
    let mut moves = 0;
    while let Ok(Some(Delivery::Event(Event::Receipt { .. }))) = tokio::time::timeout(
        StdDuration::from_millis(50),
        futures_util::StreamExt::next(&mut topic),
    )
    .await
    {
        moves += 1;
    }
    assert_eq!(moves, 2);
}

#[tokio::test]
async fn typing_is_published_never_stored_and_expires_by_itself() {
    let mut cfg = support::config();
    cfg.tickets.typing_ttl = time::Duration::milliseconds(150);
    let env = support::env_with(cfg);
    let c = env.customer("typing@example.com").await;
    let t = env.open_ticket(&c, "typing").await;
    let d = &env.desk;
    let mut topic = d.bus().subscribe(Topic::Ticket(t.id)).await.unwrap();
    let typing = |active| {
        Some(Delivery::Event(Event::Typing {
            ticket_id: t.id,
            user_id: c.user_id(),
            active,
        }))
    };
    d.set_typing(&c, t.id, true).await.unwrap();
    assert_eq!(next(&mut topic).await, typing(true));
    assert_eq!(d.typing_indicators(), 1);
    // Refreshing keeps it alive past the first deadline.
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    d.set_typing(&c, t.id, true).await.unwrap();
    assert_eq!(next(&mut topic).await, typing(true));
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    assert_eq!(d.typing_indicators(), 1, "refreshed indicator still on");
    assert_eq!(next(&mut topic).await, typing(false), "expires by itself");
    assert_eq!(d.typing_indicators(), 0);
    // Sending a message ends it at once.
    d.set_typing(&c, t.id, true).await.unwrap();
    assert_eq!(next(&mut topic).await, typing(true));
    env.say(&c, t.id, "done typing").await;
    assert!(matches!(
        next(&mut topic).await,
        Some(Delivery::Event(Event::MessagePosted(_)))
    ));
    assert_eq!(next(&mut topic).await, typing(false));
    assert_eq!(d.typing_indicators(), 0);
}

async fn next(topic: &mut neurochat_core::ports::Subscription) -> Option<Delivery> {
    tokio::time::timeout(
        StdDuration::from_secs(2),
        futures_util::StreamExt::next(topic),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn subscriptions_are_authorized_and_internal_notes_use_the_staff_topic() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "sub.agent@example.com").await;
    let c = env.customer("sub.cust@example.com").await;
    let other = env.customer("sub.other@example.com").await;
    let t = env.open_ticket(&c, "subscriptions").await;
    let d = &env.desk;
    let refused = |r: Result<neurochat_core::ports::Subscription, neurochat_core::Error>| {
        r.err().map(|e| e.code())
    };
    assert_eq!(
        refused(d.subscribe(&other, Topic::Ticket(t.id)).await),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        refused(d.subscribe(&c, Topic::TicketStaff(t.id)).await),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        refused(d.subscribe(&c, Topic::Inbox).await),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        refused(d.subscribe(&c, Topic::Presence).await),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        refused(d.subscribe(&c, Topic::User(other.user_id())).await),
        Some(ErrorCode::Forbidden)
    );
    let mut customer_view = d.subscribe(&c, Topic::Ticket(t.id)).await.unwrap();
    let mut staff_view = d.subscribe(&agent, Topic::TicketStaff(t.id)).await.unwrap();
    let _inbox = d.subscribe(&agent, Topic::Inbox).await.unwrap();
    let _own = d.subscribe(&c, Topic::User(c.user_id())).await.unwrap();
    d.post_message(
        &agent,
        PostMessage {
            internal: true,
            ..post(t.id, "secret note", "sn-1")
        },
    )
    .await
    .unwrap();
    env.say(&agent, t.id, "public reply").await;
    match next(&mut staff_view).await {
        Some(Delivery::Event(Event::MessagePosted(m))) => {
            assert_eq!(m.kind, MessageKind::InternalNote)
        }
        other => panic!("staff should get the note, got {other:?}"),
    }
    match next(&mut customer_view).await {
        Some(Delivery::Event(Event::MessagePosted(m))) => assert_eq!(
            m.body, "public reply",
            "the note never reaches the customer's topic"
        ),
        other => panic!("expected the public reply, got {other:?}"),
    }
}

/// The next inbox event: a ticket and what changed.
async fn next_ticket_event(
    events: &mut neurochat_core::ports::Subscription,
) -> (neurochat_core::domain::Ticket, TicketChange) {
    match tokio::time::timeout(
        StdDuration::from_secs(5),
        futures_util::StreamExt::next(events),
    )
    .await
    {
        Ok(Some(Delivery::Event(Event::TicketChanged { ticket, change }))) => (ticket, change),
        other => panic!("expected a ticket event, got {other:?}"),
    }
}

/// The queue moves live: a message on an unassigned ticket goes to the
/// inbox as an `activity` change carrying the new `last_seq`; once the
/// ticket is assigned its messages reach the assignee's own channel only.
#[tokio::test]
async fn messages_on_unassigned_tickets_reach_the_inbox_assigned_ones_do_not() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "activity.agent@example.com").await;
    let c = env.customer("activity.cust@example.com").await;
    let d = &env.desk;
    let t = env.open_ticket(&c, "activity").await;
    let mut events = d.bus().subscribe(Topic::Inbox).await.unwrap();
    d.post_message(&c, post(t.id, "anyone there?", "a-1"))
        .await
        .unwrap();
    let (ticket, change) = next_ticket_event(&mut events).await;
    assert_eq!((ticket.id, change), (t.id, TicketChange::Activity));
    assert_eq!(ticket.last_seq, 2);
    // An agent's note on the unassigned ticket moves it too (staff see notes).
    let mut note = post(t.id, "looking", "a-2");
    note.internal = true;
    d.post_message(&agent, note).await.unwrap();
    let (ticket, change) = next_ticket_event(&mut events).await;
    assert_eq!((change, ticket.last_seq), (TicketChange::Activity, 3));
    d.claim_ticket(&agent, t.id, &ctx()).await.unwrap();
    assert_eq!(
        next_ticket_event(&mut events).await.1,
        TicketChange::Claimed
    );
    d.post_message(&c, post(t.id, "thanks", "a-3"))
        .await
        .unwrap();
    d.post_message(&agent, post(t.id, "you're welcome", "a-4"))
        .await
        .unwrap();
    // The next inbox event is the next ticket's creation: nothing of the
    // assigned ticket's messages came in between.
    let t2 = env.open_ticket(&c, "activity two").await;
    let (ticket, change) = next_ticket_event(&mut events).await;
    assert_eq!((ticket.id, change), (t2.id, TicketChange::Created));
}
