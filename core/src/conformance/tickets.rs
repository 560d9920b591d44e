//! [`TicketStore`](crate::ports::TicketStore) scenarios.
//!
//! Listings are scoped by something unique to the scenario: a fresh customer,
//! category or assignee. The table-wide queue queries (escalation candidates,
//! tickets to close, notifications due, the metrics window) work on tickets
//! placed in a private window of the past ([`random_past`]), look only at
//! their own tickets in the answer (with a limit far above what one scenario
//! creates), and close every ticket they created before returning, so no
//! later run's queue query matches them again.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::fixtures::{
    self as fx, assert_conflict, assert_foreign_key, assert_not_found, fetch_ticket, insert_agent,
    insert_ticket_as, insert_user, modify_ticket, now, random_past,
};
use crate::domain::{
    AssigneeFilter, InsertMessage, MessageKind, NewMessage, OutboxMessage, Priority, Ticket,
    TicketCursor, TicketFilter, TicketId, TicketSort, TicketStatus, User, UserId,
};
use crate::ports::{Store, StoreError};

/// The limit the queue scenarios pass: far above the tickets one scenario creates.
const QUEUE_LIMIT: u32 = 10_000;

/// Ticket ids, sorted: compares listings as sets.
fn ids(tickets: &[Ticket]) -> Vec<TicketId> {
    let mut ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    ids.sort();
    ids
}

/// The ids of `answer` that are in `mine`, in the answer's order.
fn only_mine(answer: &[Ticket], mine: &[&Ticket]) -> Vec<TicketId> {
    let mine: HashSet<TicketId> = mine.iter().map(|t| t.id).collect();
    answer
        .iter()
        .filter(|t| mine.contains(&t.id))
        .map(|t| t.id)
        .collect()
}

/// Lists with `filter` and returns the ids, sorted.
async fn list_ids(store: &dyn Store, filter: TicketFilter) -> Vec<TicketId> {
    ids(&store.list_tickets(&filter).await.expect("list tickets"))
}

/// A filter for one customer's tickets, one page of up to 100.
fn of_customer(customer: &User) -> TicketFilter {
    TicketFilter {
        customer_id: Some(customer.id),
        limit: 100,
        ..TicketFilter::default()
    }
}

/// Closes every given ticket (queue scenarios clean up with it).
async fn close_all(store: &dyn Store, tickets: &[&Ticket]) {
    let at = now();
    for t in tickets {
        modify_ticket(store, t.id, |t| {
            t.status = TicketStatus::Closed;
            t.closed_at = Some(at);
        })
        .await;
    }
}

/// A ticket of `customer_id` created at `at` with a first message by the customer at `at`
/// (so it awaits an answer since `at`).
async fn insert_at(store: &dyn Store, customer_id: UserId, at: OffsetDateTime) -> Ticket {
    let t = fx::ticket(customer_id, at);
    let m = fx::message(t.id, customer_id, at);
    store
        .insert_ticket_with_first_message(&t, &m)
        .await
        .expect("insert ticket")
        .0
}

/// Inserts a message and returns the ticket after its effects.
async fn send(store: &dyn Store, m: &NewMessage) -> Ticket {
    match store.insert_message(m).await.expect("insert message") {
        InsertMessage::Inserted { ticket, .. } => ticket,
        other => panic!("expected Inserted, got {other:?}"),
    }
}

/// A ticket with every optional field set and one with none round-trip with their first
/// message. The store assigns `number`, gives the message `seq` 1 and derives the
/// message fields from it (`last_seq`, `awaiting_since`, `last_agent_seq`,
/// `last_agent_message_at`, `updated_at`), ignoring the values passed.
pub async fn insert_with_first_message_roundtrip(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");

    let mut full = fx::ticket(customer.id, t);
    full.category_id = Some(cat.id);
    full.priority = Priority::Urgent;
    full.status = TicketStatus::InProgress;
    full.assignee_id = Some(agent.id);
    full.created_at = t - Duration::hours(2);
    full.updated_at = t - Duration::minutes(3);
    full.first_response_at = Some(t - Duration::hours(1));
    full.resolved_at = Some(t - Duration::minutes(30));
    full.closed_at = Some(t - Duration::minutes(20));
    full.customer_notified_seq = 4;
    full.escalated_new_at = Some(t - Duration::minutes(90));
    full.escalated_awaiting_since = Some(t - Duration::minutes(100));
    full.version = 3;
    // Store-maintained: ignored.
    full.number = -7;
    full.last_seq = 99;
    full.awaiting_since = Some(t - Duration::days(5));
    full.last_agent_seq = 42;
    full.last_agent_message_at = Some(t - Duration::days(4));
    let mut first = fx::message(full.id, customer.id, full.created_at);
    first.client_msg_id = Some(format!("c-{}", fx::tag()));
    let (ticket, message) = store
        .insert_ticket_with_first_message(&full, &first)
        .await
        .expect("insert full ticket");
    assert!(ticket.number > 0, "numbers start at 1");
    let mut expected = full.clone();
    expected.number = ticket.number;
    expected.last_seq = 1;
    expected.updated_at = first.created_at;
    expected.awaiting_since = Some(first.created_at);
    expected.last_agent_seq = 0;
    expected.last_agent_message_at = None;
    assert_eq!(ticket, expected);
    assert_eq!(message, first.with_seq(1));
    assert_eq!(
        store.fetch_ticket(full.id).await.expect("fetch"),
        Some(expected)
    );
    assert_eq!(
        store
            .list_messages_after(full.id, 0, 10, true)
            .await
            .expect("messages"),
        vec![message]
    );

    let bare = fx::ticket(customer.id, t);
    let sys = fx::system_message(bare.id, t);
    let (ticket2, message2) = store
        .insert_ticket_with_first_message(&bare, &sys)
        .await
        .expect("insert bare ticket");
    assert!(ticket2.number > ticket.number);
    let mut expected2 = bare.clone();
    expected2.number = ticket2.number;
    expected2.last_seq = 1;
    assert_eq!(ticket2, expected2);
    assert_eq!(message2, sys.with_seq(1));
    assert_eq!(
        store.fetch_ticket(bare.id).await.expect("fetch"),
        Some(expected2)
    );

    assert_eq!(
        store
            .fetch_ticket(TicketId(Uuid::now_v7()))
            .await
            .expect("unknown"),
        None
    );
}

/// A ticket of an unknown customer is a ForeignKey error; neither ticket nor message is stored.
pub async fn insert_unknown_customer_foreign_key(store: &dyn Store) {
    let t = now();
    let ghost = fx::user_id();
    let ticket = fx::ticket(ghost, t);
    let first = fx::system_message(ticket.id, t);
    assert_foreign_key(
        store
            .insert_ticket_with_first_message(&ticket, &first)
            .await,
    );
    assert_eq!(store.fetch_ticket(ticket.id).await.expect("fetch"), None);
    assert!(
        store
            .list_messages_after(ticket.id, 0, 10, true)
            .await
            .expect("messages")
            .is_empty()
    );
}

/// The ticket and its first message are one transaction: a first message by an unknown
/// author is a ForeignKey error and leaves no ticket and no message (the number counter
/// may have advanced); the customer's next ticket is stored normally.
pub async fn insert_unknown_author_stores_nothing(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let before = fx::insert_ticket(store, customer.id, t).await;

    let ticket = fx::ticket(customer.id, t);
    let first = fx::message(ticket.id, fx::user_id(), t);
    assert_foreign_key(
        store
            .insert_ticket_with_first_message(&ticket, &first)
            .await,
    );
    assert_eq!(store.fetch_ticket(ticket.id).await.expect("fetch"), None);
    assert!(
        store
            .list_messages_after(ticket.id, 0, 10, true)
            .await
            .expect("messages")
            .is_empty()
    );
    assert_eq!(
        list_ids(store, of_customer(&customer)).await,
        vec![before.id],
        "no ticket without its first message"
    );

    let after = fx::insert_ticket(store, customer.id, t).await;
    assert!(after.number > before.number);
    assert_eq!(
        list_ids(store, of_customer(&customer)).await,
        ids(&[before, after])
    );
}

/// Opening is idempotent per author: a second ticket whose first message repeats the
/// author's `client_msg_id` is a `tickets.first_message` unique violation and stores
/// nothing; `fetch_ticket_by_first_message` finds the original. Other authors and
/// other ids are unaffected, and a reply reusing the id on the ticket is no conflict.
pub async fn first_message_client_id_is_unique_per_author(store: &dyn Store) {
    let t = now();
    let ann = insert_user(store, t).await;
    let bob = insert_user(store, t).await;
    let key = format!("open-{}", fx::tag());
    let open = |author: &User, key: &str| {
        let ticket = fx::ticket(author.id, t);
        let mut first = fx::message(ticket.id, author.id, t);
        first.client_msg_id = Some(key.to_owned());
        (ticket, first)
    };
    let (t1, m1) = open(&ann, &key);
    let (stored, first) = store
        .insert_ticket_with_first_message(&t1, &m1)
        .await
        .expect("first open");
    let (t2, m2) = open(&ann, &key);
    match store.insert_ticket_with_first_message(&t2, &m2).await {
        Err(StoreError::UniqueViolation { constraint }) => {
            assert_eq!(constraint, "tickets.first_message")
        }
        other => panic!("expected tickets.first_message violation, got {other:?}"),
    }
    assert_eq!(
        store.fetch_ticket(t2.id).await.expect("fetch"),
        None,
        "nothing stored"
    );
    assert_eq!(
        store
            .fetch_ticket_by_first_message(ann.id, &key)
            .await
            .expect("lookup"),
        Some((stored.clone(), first))
    );
    assert_eq!(
        store
            .fetch_ticket_by_first_message(bob.id, &key)
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(
        store
            .fetch_ticket_by_first_message(ann.id, "never-used")
            .await
            .expect("lookup"),
        None
    );
    let (t3, m3) = open(&bob, &key);
    store
        .insert_ticket_with_first_message(&t3, &m3)
        .await
        .expect("another author may use the same key");
    let mut reply = fx::message(stored.id, ann.id, t);
    reply.client_msg_id = Some(key.clone());
    assert!(
        matches!(
            store.insert_message(&reply).await.expect("reply"),
            InsertMessage::Duplicate(_)
        ),
        "on its own ticket the key is the first message's: a duplicate, not a new ticket"
    );
    let mut reply2 = fx::message(t3.id, ann.id, t);
    reply2.client_msg_id = Some(key);
    assert!(
        matches!(
            store
                .insert_message(&reply2)
                .await
                .expect("reply on another ticket"),
            InsertMessage::Inserted { .. }
        ),
        "seq > 1 messages never clash with first messages"
    );
}

/// The first message has the effects `insert_message` documents: a customer's makes the
/// ticket await an answer since then; an agent's is the first response; a system message
/// or internal note changes only `last_seq` and `updated_at`; a customer's on a ticket
/// created `resolved` reopens it (`in_progress` if assigned, else `new`; version + 1).
pub async fn first_message_effects(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let insert = |tk: Ticket, m: NewMessage| async move {
        let (stored, message) = store
            .insert_ticket_with_first_message(&tk, &m)
            .await
            .expect("insert ticket");
        assert_eq!(message, m.with_seq(1));
        assert_eq!(fetch_ticket(store, tk.id).await, stored);
        (tk, stored)
    };

    // Customer.
    let tk = fx::ticket(customer.id, t);
    let m = fx::message(tk.id, customer.id, t + Duration::seconds(1));
    let (tk, got) = insert(tk, m).await;
    let mut expected = tk.clone();
    expected.number = got.number;
    expected.last_seq = 1;
    expected.updated_at = t + Duration::seconds(1);
    expected.awaiting_since = Some(t + Duration::seconds(1));
    assert_eq!(got, expected, "customer first message");

    // Agent (a ticket opened on the customer's behalf).
    let mut tk = fx::ticket(customer.id, t);
    tk.status = TicketStatus::InProgress;
    tk.assignee_id = Some(agent.id);
    let m = fx::agent_message(tk.id, agent.id, t + Duration::seconds(2));
    let (tk, got) = insert(tk, m).await;
    let mut expected = tk.clone();
    expected.number = got.number;
    expected.last_seq = 1;
    expected.updated_at = t + Duration::seconds(2);
    expected.first_response_at = Some(t + Duration::seconds(2));
    expected.last_agent_seq = 1;
    expected.last_agent_message_at = Some(t + Duration::seconds(2));
    assert_eq!(got, expected, "agent first message");

    // System message and internal note.
    for kind in [MessageKind::System, MessageKind::InternalNote] {
        let tk = fx::ticket(customer.id, t);
        let author = (kind == MessageKind::InternalNote).then_some(agent.id);
        let m = fx::message_of(kind, tk.id, author, t + Duration::seconds(3));
        let (tk, got) = insert(tk, m).await;
        let mut expected = tk.clone();
        expected.number = got.number;
        expected.last_seq = 1;
        expected.updated_at = t + Duration::seconds(3);
        assert_eq!(got, expected, "{kind:?} first message");
    }

    // A customer message on a resolved ticket reopens it, even as the first message.
    for assignee in [Some(agent.id), None] {
        let mut tk = fx::ticket(customer.id, t);
        tk.status = TicketStatus::Resolved;
        tk.assignee_id = assignee;
        tk.resolved_at = Some(t);
        let m = fx::message(tk.id, customer.id, t + Duration::seconds(4));
        let (tk, got) = insert(tk, m).await;
        let mut expected = tk.clone();
        expected.number = got.number;
        expected.last_seq = 1;
        expected.updated_at = t + Duration::seconds(4);
        expected.awaiting_since = Some(t + Duration::seconds(4));
        expected.status = if assignee.is_some() {
            TicketStatus::InProgress
        } else {
            TicketStatus::New
        };
        expected.version = tk.version + 1;
        assert_eq!(
            got, expected,
            "reopened on creation (assignee {assignee:?})"
        );
    }
}

/// Ticket numbers are unique under concurrent creates and grow with creation order.
pub async fn numbers_unique_and_increasing(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let a = fx::insert_ticket(store, customer.id, t).await;
    let b = fx::insert_ticket(store, customer.id, t).await;
    assert!(b.number > a.number, "{} then {}", a.number, b.number);

    let batch: Vec<(Ticket, NewMessage)> = (0..10)
        .map(|_| {
            let tk = fx::ticket(customer.id, t);
            let m = fx::message(tk.id, customer.id, t);
            (tk, m)
        })
        .collect();
    let created = join_all(
        batch
            .iter()
            .map(|(tk, m)| store.insert_ticket_with_first_message(tk, m)),
    )
    .await;
    let mut numbers = HashSet::new();
    for r in created {
        let (tk, m) = r.expect("concurrent create");
        assert!(tk.number > b.number, "{} not after {}", tk.number, b.number);
        assert!(
            numbers.insert(tk.number),
            "number {} handed out twice",
            tk.number
        );
        assert_eq!((tk.last_seq, m.seq), (1, 1));
    }
    let max = numbers.iter().copied().max().expect("ten numbers");
    let c = fx::insert_ticket(store, customer.id, t).await;
    assert!(c.number > max);
}

/// `update_ticket` sets every mutable field (Options set and cleared) but never `number`,
/// `subject`, `customer_id`, `created_at` or the store-maintained message fields.
pub async fn update_roundtrip_keeps_store_maintained_fields(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let other_customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");
    let stored = fx::insert_ticket(store, customer.id, t).await;
    send(
        store,
        &fx::agent_message(stored.id, agent.id, t + Duration::seconds(1)),
    )
    .await;
    send(
        store,
        &fx::message(stored.id, customer.id, t + Duration::seconds(2)),
    )
    .await;
    let stored = fetch_ticket(store, stored.id).await;
    assert_eq!(
        (
            stored.last_seq,
            stored.last_agent_seq,
            stored.awaiting_since,
            stored.last_agent_message_at
        ),
        (
            3,
            2,
            Some(t + Duration::seconds(2)),
            Some(t + Duration::seconds(1))
        )
    );

    let mut next = stored.clone();
    next.status = TicketStatus::Resolved;
    next.priority = Priority::High;
    next.category_id = Some(cat.id);
    next.assignee_id = Some(agent.id);
    next.updated_at = t + Duration::seconds(5);
    next.first_response_at = Some(t + Duration::seconds(3));
    next.resolved_at = Some(t + Duration::seconds(5));
    next.closed_at = Some(t + Duration::seconds(6));
    next.customer_notified_seq = 2;
    next.escalated_new_at = Some(t + Duration::seconds(4));
    next.escalated_awaiting_since = Some(t + Duration::seconds(2));
    next.version = stored.version + 1;
    // Never changed by update_ticket.
    next.number = stored.number + 1000;
    next.subject = format!("Changed {}", fx::tag());
    next.customer_id = other_customer.id;
    next.created_at = t - Duration::days(1);
    next.last_seq = 77;
    next.awaiting_since = None;
    next.last_agent_seq = 0;
    next.last_agent_message_at = Some(t - Duration::days(2));
    store
        .update_ticket(&next, stored.version, None)
        .await
        .expect("update");
    let mut expected = next.clone();
    expected.number = stored.number;
    expected.subject = stored.subject.clone();
    expected.customer_id = stored.customer_id;
    expected.created_at = stored.created_at;
    expected.last_seq = stored.last_seq;
    expected.awaiting_since = stored.awaiting_since;
    expected.last_agent_seq = stored.last_agent_seq;
    expected.last_agent_message_at = stored.last_agent_message_at;
    assert_eq!(fetch_ticket(store, stored.id).await, expected);

    let mut cleared = expected.clone();
    cleared.status = TicketStatus::InProgress;
    cleared.priority = Priority::Low;
    cleared.category_id = None;
    cleared.assignee_id = None;
    cleared.resolved_at = None;
    cleared.first_response_at = None;
    cleared.closed_at = None;
    cleared.customer_notified_seq = 0;
    cleared.escalated_new_at = None;
    cleared.escalated_awaiting_since = None;
    cleared.updated_at = t + Duration::seconds(9);
    cleared.version = expected.version + 1;
    store
        .update_ticket(&cleared, expected.version, None)
        .await
        .expect("update");
    assert_eq!(fetch_ticket(store, stored.id).await, cleared);
}

/// `update_ticket` with a stale version is a Conflict (one of eight concurrent updates
/// wins); an unknown ticket is NotFound.
pub async fn update_stale_version_conflicts(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let stored = fx::insert_ticket(store, customer.id, t).await;

    let candidates: Vec<Ticket> = [Priority::Low, Priority::High, Priority::Urgent]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
        .map(|(i, p)| {
            let mut c = stored.clone();
            c.priority = *p;
            c.updated_at = t + Duration::milliseconds(i as i64 + 1);
            c.version = stored.version + 1;
            c
        })
        .collect();
    let results = join_all(
        candidates
            .iter()
            .map(|c| store.update_ticket(c, stored.version, None)),
    )
    .await;
    let mut winner = None;
    for (c, r) in candidates.iter().zip(results) {
        match r {
            Ok(()) => {
                assert!(winner.is_none(), "two concurrent updates won");
                winner = Some(c.clone());
            }
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    let winner = winner.expect("one concurrent update must win");
    assert_eq!(fetch_ticket(store, stored.id).await, winner);

    // Sequential stale write.
    let mut stale = stored.clone();
    stale.status = TicketStatus::Closed;
    stale.version = stored.version + 1;
    assert_conflict(store.update_ticket(&stale, stored.version, None).await);
    assert_eq!(fetch_ticket(store, stored.id).await, winner);

    let mut ghost = fx::ticket(customer.id, t);
    ghost.version = 2;
    assert_not_found(store.update_ticket(&ghost, 1, None).await);
}

/// Sixteen agents claim one new ticket at once with the same expected version: exactly
/// one claim succeeds, the other fifteen are Conflicts, and the winner is the assignee.
pub async fn update_concurrent_claim_one_wins(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let mut claims = Vec::new();
    for i in 0..16 {
        let agent = insert_agent(store, t).await;
        let mut c = ticket.clone();
        c.status = TicketStatus::InProgress;
        c.assignee_id = Some(agent.id);
        c.updated_at = t + Duration::milliseconds(i + 1);
        c.version = ticket.version + 1;
        claims.push(c);
    }
    let results = join_all(
        claims
            .iter()
            .map(|c| store.update_ticket(c, ticket.version, None)),
    )
    .await;
    let mut winners = Vec::new();
    for (c, r) in claims.iter().zip(results) {
        match r {
            Ok(()) => winners.push(c.clone()),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(fetch_ticket(store, ticket.id).await, winners[0]);
}

/// `update_ticket` with a mail enqueues it with the update; a Conflict, a ForeignKey or
/// a NotFound enqueues nothing; of eight concurrent updates with their own mails only the
/// winner's mail is enqueued.
pub async fn update_with_mail_enqueues_atomically(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let stored = fx::insert_ticket(store, customer.id, t).await;

    let mut next = stored.clone();
    next.status = TicketStatus::Resolved;
    next.resolved_at = Some(t + Duration::seconds(1));
    next.updated_at = t + Duration::seconds(1);
    next.version = stored.version + 1;
    let mail = fx::mail(t);
    store
        .update_ticket(&next, stored.version, Some(&mail))
        .await
        .expect("update with mail");
    assert_eq!(fetch_ticket(store, stored.id).await, next);
    assert_eq!(
        store.fetch_outbox(mail.id).await.expect("fetch mail"),
        Some(mail)
    );

    // Stale version.
    let mut stale = next.clone();
    stale.priority = Priority::Urgent;
    stale.version = stored.version + 1;
    let lost = fx::mail(t);
    assert_conflict(
        store
            .update_ticket(&stale, stored.version, Some(&lost))
            .await,
    );
    // Unknown assignee.
    let mut bad = next.clone();
    bad.assignee_id = Some(fx::user_id());
    bad.version = next.version + 1;
    let dangling = fx::mail(t);
    assert_foreign_key(
        store
            .update_ticket(&bad, next.version, Some(&dangling))
            .await,
    );
    // Unknown ticket.
    let mut ghost = fx::ticket(customer.id, t);
    ghost.version = 2;
    let orphan = fx::mail(t);
    assert_not_found(store.update_ticket(&ghost, 1, Some(&orphan)).await);
    for m in [&lost, &dangling, &orphan] {
        assert_eq!(store.fetch_outbox(m.id).await.expect("fetch"), None);
    }
    assert_eq!(fetch_ticket(store, stored.id).await, next);

    // Concurrent: one winner, one mail.
    let candidates: Vec<(Ticket, OutboxMessage)> = (0..8)
        .map(|i| {
            let mut c = next.clone();
            c.status = TicketStatus::Closed;
            c.closed_at = Some(t + Duration::seconds(2) + Duration::milliseconds(i));
            c.version = next.version + 1;
            (c, fx::mail(t))
        })
        .collect();
    let results = join_all(
        candidates
            .iter()
            .map(|(c, m)| store.update_ticket(c, next.version, Some(m))),
    )
    .await;
    let mut winners = 0;
    for ((c, m), r) in candidates.iter().zip(results) {
        let queued = store.fetch_outbox(m.id).await.expect("fetch");
        match r {
            Ok(()) => {
                winners += 1;
                assert_eq!(queued.as_ref(), Some(m), "the winner's mail is enqueued");
                assert_eq!(&fetch_ticket(store, stored.id).await, c);
            }
            Err(StoreError::Conflict) => assert_eq!(queued, None, "a loser's mail is not"),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners, 1);
}

/// `customer_id` narrows a listing to one customer's tickets.
pub async fn list_filter_customer(store: &dyn Store) {
    let t = now();
    let c1 = insert_user(store, t).await;
    let c2 = insert_user(store, t).await;
    let c3 = insert_user(store, t).await;
    let a = fx::insert_ticket(store, c1.id, t).await;
    let b = fx::insert_ticket(store, c1.id, t).await;
    let x = fx::insert_ticket(store, c2.id, t).await;
    assert_eq!(list_ids(store, of_customer(&c1)).await, ids(&[a, b]));
    assert_eq!(list_ids(store, of_customer(&c2)).await, ids(&[x]));
    assert!(list_ids(store, of_customer(&c3)).await.is_empty());
}

/// `statuses` is any-of; empty means every status.
pub async fn list_filter_statuses(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let mut tickets = Vec::new();
    for status in [
        TicketStatus::New,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.status = status;
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let with = |statuses: Vec<TicketStatus>| TicketFilter {
        statuses,
        ..of_customer(&customer)
    };
    use TicketStatus::*;
    assert_eq!(list_ids(store, with(vec![])).await, pick(&[0, 1, 2, 3]));
    assert_eq!(
        list_ids(store, with(vec![InProgress, Resolved])).await,
        pick(&[1, 2])
    );
    assert_eq!(list_ids(store, with(vec![Closed])).await, pick(&[3]));
    assert_eq!(
        list_ids(store, with(vec![New, Closed])).await,
        pick(&[0, 3])
    );
    assert_eq!(
        list_ids(store, with(vec![New, InProgress, Resolved, Closed])).await,
        pick(&[0, 1, 2, 3])
    );
}

/// `category_id` narrows to one category across customers.
pub async fn list_filter_category(store: &dyn Store) {
    let t = now();
    let c1 = insert_user(store, t).await;
    let c2 = insert_user(store, t).await;
    let cat1 = fx::category(&format!("cat{}", fx::tag()), t);
    let cat2 = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat1).await.expect("insert category");
    store.insert_category(&cat2).await.expect("insert category");
    let mut make = Vec::new();
    for (customer, cat) in [
        (c1.id, Some(cat1.id)),
        (c2.id, Some(cat1.id)),
        (c1.id, Some(cat2.id)),
        (c1.id, None),
    ] {
        let mut tk = fx::ticket(customer, t);
        tk.category_id = cat;
        make.push(insert_ticket_as(store, &tk).await);
    }
    let by = |cat| TicketFilter {
        category_id: Some(cat),
        limit: 100,
        ..TicketFilter::default()
    };
    assert_eq!(
        list_ids(store, by(cat1.id)).await,
        ids(&make[0..2]),
        "across customers"
    );
    assert_eq!(list_ids(store, by(cat2.id)).await, ids(&make[2..3]));
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                customer_id: Some(c1.id),
                ..by(cat1.id)
            }
        )
        .await,
        ids(&make[0..1])
    );
    assert_eq!(
        list_ids(store, of_customer(&c1)).await,
        ids(&[make[0].clone(), make[2].clone(), make[3].clone()]),
        "no category filter"
    );
}

/// `priorities` is any-of; empty means every priority.
pub async fn list_filter_priorities(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let mut tickets = Vec::new();
    for p in [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.priority = p;
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let with = |priorities: Vec<Priority>| TicketFilter {
        priorities,
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, with(vec![])).await, pick(&[0, 1, 2, 3]));
    assert_eq!(
        list_ids(store, with(vec![Priority::High, Priority::Urgent])).await,
        pick(&[2, 3])
    );
    assert_eq!(list_ids(store, with(vec![Priority::Low])).await, pick(&[0]));
    assert_eq!(
        list_ids(store, with(vec![Priority::Normal, Priority::Low])).await,
        pick(&[0, 1])
    );
}

/// `assignee`: any, unassigned only, or one user's (across customers when unscoped).
pub async fn list_filter_assignee(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let other_customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let agent2 = insert_agent(store, t).await;
    let mut make = Vec::new();
    for (status, assignee) in [
        (TicketStatus::New, None),
        (TicketStatus::InProgress, Some(agent.id)),
        (TicketStatus::Resolved, Some(agent.id)),
        (TicketStatus::Closed, None),
        (TicketStatus::InProgress, Some(agent2.id)),
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.status = status;
        tk.assignee_id = assignee;
        make.push(insert_ticket_as(store, &tk).await);
    }
    let mut foreign = fx::ticket(other_customer.id, t);
    foreign.assignee_id = Some(agent.id);
    let foreign = insert_ticket_as(store, &foreign).await;

    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| make[i].clone()).collect::<Vec<_>>());
    let with = |assignee| TicketFilter {
        assignee,
        ..of_customer(&customer)
    };
    assert_eq!(
        list_ids(store, with(AssigneeFilter::Any)).await,
        pick(&[0, 1, 2, 3, 4])
    );
    assert_eq!(
        list_ids(store, with(AssigneeFilter::User(agent.id))).await,
        pick(&[1, 2])
    );
    assert_eq!(
        list_ids(store, with(AssigneeFilter::Unassigned)).await,
        pick(&[0, 3])
    );
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                statuses: vec![TicketStatus::New],
                ..with(AssigneeFilter::Unassigned)
            }
        )
        .await,
        pick(&[0])
    );
    let mut by_agent = pick(&[1, 2]);
    by_agent.push(foreign.id);
    by_agent.sort();
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                assignee: AssigneeFilter::User(agent.id),
                limit: 100,
                ..TicketFilter::default()
            }
        )
        .await,
        by_agent,
        "assignee filter across customers"
    );
}

/// `created_from`/`updated_from` are inclusive, `created_to`/`updated_to` exclusive;
/// the ranges combine with each other.
pub async fn list_filter_date_ranges(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let base = t - Duration::days(1);
    let h = |n: i64| base + Duration::hours(n);
    // (created, updated) in hours after base.
    let mut tickets = Vec::new();
    for (created, updated) in [(0, 5), (1, 4), (2, 6), (3, 7)] {
        let mut tk = fx::ticket(customer.id, h(created));
        tk.updated_at = h(updated);
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let range = |cf: Option<i64>, ct: Option<i64>, uf: Option<i64>, ut: Option<i64>| TicketFilter {
        created_from: cf.map(h),
        created_to: ct.map(h),
        updated_from: uf.map(h),
        updated_to: ut.map(h),
        ..of_customer(&customer)
    };
    let check = |f: TicketFilter, want: Vec<TicketId>, what: &'static str| async move {
        assert_eq!(list_ids(store, f).await, want, "{what}");
    };
    check(
        range(Some(1), None, None, None),
        pick(&[1, 2, 3]),
        "created_from inclusive",
    )
    .await;
    check(
        range(None, Some(2), None, None),
        pick(&[0, 1]),
        "created_to exclusive",
    )
    .await;
    check(
        range(Some(1), Some(2), None, None),
        pick(&[1]),
        "created [1h, 2h)",
    )
    .await;
    check(
        range(Some(2), Some(2), None, None),
        vec![],
        "empty created range",
    )
    .await;
    check(
        range(None, None, Some(5), None),
        pick(&[0, 2, 3]),
        "updated_from inclusive",
    )
    .await;
    check(
        range(None, None, None, Some(6)),
        pick(&[0, 1]),
        "updated_to exclusive",
    )
    .await;
    check(
        range(None, None, Some(5), Some(7)),
        pick(&[0, 2]),
        "updated [5h, 7h)",
    )
    .await;
    check(
        range(Some(1), None, None, Some(7)),
        pick(&[1, 2]),
        "created and updated combined",
    )
    .await;
    check(
        range(None, Some(10), Some(0), None),
        pick(&[0, 1, 2, 3]),
        "ranges covering everything",
    )
    .await;
}

/// Every filter at once selects exactly the ticket matching all of them; relaxing one
/// filter lets in exactly the ticket that differs from the target in that respect.
pub async fn list_filters_combined(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");

    let mut target = fx::ticket(customer.id, t - Duration::hours(1));
    target.subject = "Printer jammed again".to_owned();
    target.status = TicketStatus::InProgress;
    target.priority = Priority::High;
    target.assignee_id = Some(agent.id);
    target.category_id = Some(cat.id);
    target.updated_at = t;
    let variant = |change: fn(&mut Ticket)| {
        let mut v = target.clone();
        v.id = TicketId(Uuid::now_v7());
        change(&mut v);
        v
    };
    let decoys = [
        variant(|v| v.status = TicketStatus::New),
        variant(|v| v.priority = Priority::Low),
        variant(|v| v.assignee_id = None),
        variant(|v| v.category_id = None),
        variant(|v| v.subject = "Scanner offline".to_owned()),
        variant(|v| v.created_at -= Duration::hours(3)),
        variant(|v| v.updated_at -= Duration::hours(3)),
    ];
    let target = insert_ticket_as(store, &target).await;
    let mut stored = Vec::new();
    for d in &decoys {
        stored.push(insert_ticket_as(store, d).await);
    }

    let all = TicketFilter {
        statuses: vec![TicketStatus::InProgress, TicketStatus::Resolved],
        category_id: Some(cat.id),
        priorities: vec![Priority::High, Priority::Urgent],
        assignee: AssigneeFilter::User(agent.id),
        text: Some("printer".to_owned()),
        created_from: Some(t - Duration::hours(2)),
        created_to: Some(t),
        updated_from: Some(t - Duration::hours(2)),
        updated_to: Some(t + Duration::hours(1)),
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, all.clone()).await, vec![target.id]);

    let relaxed: [TicketFilter; 7] = [
        TicketFilter {
            statuses: vec![],
            ..all.clone()
        },
        TicketFilter {
            priorities: vec![],
            ..all.clone()
        },
        TicketFilter {
            assignee: AssigneeFilter::Any,
            ..all.clone()
        },
        TicketFilter {
            category_id: None,
            ..all.clone()
        },
        TicketFilter {
            text: None,
            ..all.clone()
        },
        TicketFilter {
            created_from: None,
            ..all.clone()
        },
        TicketFilter {
            updated_from: None,
            ..all.clone()
        },
    ];
    for (i, f) in relaxed.into_iter().enumerate() {
        assert_eq!(
            list_ids(store, f).await,
            ids(&[target.clone(), stored[i].clone()]),
            "relaxing filter #{i}"
        );
    }
}

/// `text`: every word must be a (case-insensitive) prefix of a word of the subject or
/// of one message; punctuation separates words; an empty word list is no filter.
pub async fn list_text_search(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let subject = |s: &str| {
        let mut tk = fx::ticket(customer.id, t);
        tk.subject = s.to_owned();
        tk
    };
    let refund = insert_ticket_as(store, &subject("Refunds pending for order")).await;
    let invoice = insert_ticket_as(store, &subject("Login trouble")).await;
    let mut m = fx::message(invoice.id, customer.id, t + Duration::seconds(1));
    m.body = "My INVOICE shows the wrong amount.".to_owned();
    send(store, &m).await;
    let parcel = insert_ticket_as(store, &subject("Damaged parcel")).await;
    let mut m = fx::message(parcel.id, customer.id, t + Duration::seconds(1));
    m.body = "The box was crushed".to_owned();
    send(store, &m).await;
    let mut m = fx::agent_message(parcel.id, agent.id, t + Duration::seconds(2));
    m.body = "Sorry, we will send a replacement".to_owned();
    send(store, &m).await;
    let all = ids(&[refund.clone(), invoice.clone(), parcel.clone()]);

    let search = |text: &str| TicketFilter {
        text: Some(text.to_owned()),
        ..of_customer(&customer)
    };
    let cases: &[(&str, Vec<TicketId>)] = &[
        ("refund", vec![refund.id]),
        ("REFUNDS", vec![refund.id]),
        ("Refunds, pending!", vec![refund.id]),
        ("pend ord", vec![refund.id]),
        ("fund", vec![]),
        ("refundsx", vec![]),
        ("invoice", vec![invoice.id]),
        ("wrong invoice", vec![invoice.id]),
        ("invoice refund", vec![]),
        ("parcel damaged", vec![parcel.id]),
        ("box crushed", vec![parcel.id]),
        ("replacement", vec![parcel.id]),
        // Every word in one place: the subject or one message.
        ("damaged crushed", vec![]),
        ("crushed replacement", vec![]),
        ("zebra", vec![]),
        ("", all.clone()),
        ("  ,;!  ", all.clone()),
    ];
    for (text, want) in cases {
        let mut want = want.clone();
        want.sort();
        assert_eq!(list_ids(store, search(text)).await, want, "text {text:?}");
    }
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                text: None,
                ..search("")
            }
        )
        .await,
        all
    );
}

/// Internal notes match `text` only with `include_internal`; other messages match either way.
pub async fn list_text_search_internal_notes(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let noted = fx::insert_ticket(store, customer.id, t).await;
    let mut note = fx::message_of(
        MessageKind::InternalNote,
        noted.id,
        Some(agent.id),
        t + Duration::seconds(1),
    );
    note.body = "Suspected fraud, check the card".to_owned();
    send(store, &note).await;
    let open = fx::insert_ticket(store, customer.id, t).await;
    let mut m = fx::message(open.id, customer.id, t + Duration::seconds(1));
    m.body = "Is this a fraudulent charge?".to_owned();
    send(store, &m).await;

    let search = |text: &str, include_internal: bool| TicketFilter {
        text: Some(text.to_owned()),
        include_internal,
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, search("fraud", false)).await, vec![open.id]);
    assert_eq!(
        list_ids(store, search("fraud", true)).await,
        ids(&[noted.clone(), open.clone()])
    );
    assert!(list_ids(store, search("suspected", false)).await.is_empty());
    assert_eq!(
        list_ids(store, search("suspected card", true)).await,
        vec![noted.id]
    );
}

/// The expected order of `tickets` under `sort`, computed independently of the store.
fn expected_order(mut tickets: Vec<Ticket>, sort: TicketSort) -> Vec<Ticket> {
    match sort {
        TicketSort::UpdatedDesc => {
            tickets.sort_by_key(|t| std::cmp::Reverse((t.updated_at, t.id)));
        }
        TicketSort::CreatedDesc => {
            tickets.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        }
        TicketSort::PriorityDesc => {
            tickets.sort_by_key(|t| std::cmp::Reverse((t.priority, t.id)));
        }
        TicketSort::CreatedAsc => tickets.sort_by_key(|t| (t.created_at, t.id)),
    }
    tickets
}

/// Inserts `tickets` and checks that one customer's listing in `sort` order is right,
/// and that keyset paging with page sizes 1, 2, 3 and 5 visits every ticket once, in
/// order, ending with a short (or empty) page.
async fn check_sort(store: &dyn Store, customer: &User, tickets: Vec<Ticket>, sort: TicketSort) {
    let mut stored = Vec::new();
    for tk in &tickets {
        stored.push(insert_ticket_as(store, tk).await);
    }
    let expected = expected_order(stored, sort);
    let filter = TicketFilter {
        sort,
        ..of_customer(customer)
    };
    assert_eq!(
        store.list_tickets(&filter).await.expect("list"),
        expected,
        "{sort:?} order"
    );
    for limit in [1_u32, 2, 3, 5] {
        let mut seen: Vec<Ticket> = Vec::new();
        let mut after = None;
        for _ in 0..=expected.len() + 1 {
            let page = store
                .list_tickets(&TicketFilter {
                    after,
                    limit,
                    ..filter.clone()
                })
                .await
                .expect("page");
            assert!(page.len() <= limit as usize, "page over limit {limit}");
            let short = page.len() < limit as usize;
            after = page.last().map(|t| TicketCursor::of(t, sort)).or(after);
            seen.extend(page);
            if short {
                break;
            }
        }
        let unique: HashSet<TicketId> = seen.iter().map(|t| t.id).collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort:?} pages of {limit}: duplicates"
        );
        assert_eq!(seen, expected, "{sort:?} pages of {limit}");
    }
}

/// `UpdatedDesc` (the default): most recently updated first, ties on `updated_at` broken by
/// id descending; keyset pages of every size visit each ticket once. A cursor between two
/// tied tickets continues strictly after it.
pub async fn list_sort_updated_desc_paging(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    // Four share an updated_at, to exercise the id tie-break; created_at runs the other way.
    let offsets = [0, 10, 10, 20, 10, 5, 10];
    let tickets: Vec<Ticket> = offsets
        .iter()
        .enumerate()
        .map(|(i, off)| {
            let mut tk = fx::ticket(customer.id, t - Duration::seconds(i as i64));
            tk.updated_at = t + Duration::seconds(*off);
            tk
        })
        .collect();
    check_sort(store, &customer, tickets, TicketSort::UpdatedDesc).await;

    // Synthetic cursors at the tied key: id max keeps all four, id nil none of them.
    let key = (t + Duration::seconds(10)).unix_timestamp_nanos() / 1_000_000;
    let at = |id: Uuid| TicketFilter {
        after: Some(TicketCursor {
            key: key as i64,
            id: TicketId(id),
        }),
        ..of_customer(&customer)
    };
    let updated = |v: Vec<Ticket>| v.iter().map(|t| t.updated_at).collect::<Vec<_>>();
    let s = |n: i64| t + Duration::seconds(n);
    assert_eq!(
        updated(
            store
                .list_tickets(&at(Uuid::from_u128(u128::MAX)))
                .await
                .expect("list")
        ),
        [s(10), s(10), s(10), s(10), s(5), s(0)]
    );
    assert_eq!(
        updated(store.list_tickets(&at(Uuid::nil())).await.expect("list")),
        [s(5), s(0)]
    );
}

/// `CreatedDesc`: newest first, ties on `created_at` broken by id descending; keyset pages
/// of every size visit each ticket once.
pub async fn list_sort_created_desc_paging(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let offsets = [0, -10, -10, -20, -10, -5, -10, -20];
    let tickets: Vec<Ticket> = offsets
        .iter()
        .enumerate()
        .map(|(i, off)| {
            let mut tk = fx::ticket(customer.id, t + Duration::minutes(*off));
            tk.updated_at = t + Duration::seconds(i as i64);
            tk
        })
        .collect();
    check_sort(store, &customer, tickets, TicketSort::CreatedDesc).await;
}

/// `PriorityDesc`: most urgent first, newest (id descending) first within a priority;
/// keyset pages of every size visit each ticket once.
pub async fn list_sort_priority_desc_paging(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    use Priority::*;
    let priorities = [Low, Urgent, Normal, Urgent, High, Normal, Normal, Low, High];
    let tickets: Vec<Ticket> = priorities
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut tk = fx::ticket(customer.id, t - Duration::minutes(i as i64));
            tk.updated_at = t + Duration::seconds(i as i64);
            tk.priority = *p;
            tk
        })
        .collect();
    check_sort(store, &customer, tickets, TicketSort::PriorityDesc).await;
}

/// `CreatedAsc`: oldest first, ties on `created_at` broken by id ascending; keyset pages
/// of every size visit each ticket once.
pub async fn list_sort_created_asc_paging(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let offsets = [0, -10, -10, -20, -10, -5, -10, 0];
    let tickets: Vec<Ticket> = offsets
        .iter()
        .enumerate()
        .map(|(i, off)| {
            let mut tk = fx::ticket(customer.id, t + Duration::minutes(*off));
            tk.updated_at = t - Duration::seconds(i as i64);
            tk
        })
        .collect();
    check_sort(store, &customer, tickets, TicketSort::CreatedAsc).await;
}

/// A new message sets `updated_at` to its time: the ticket moves to the front of the
/// `UpdatedDesc` listing.
pub async fn list_message_moves_ticket_first(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let mut tickets = Vec::new();
    for i in 0..4 {
        let mut tk = fx::ticket(customer.id, t);
        tk.updated_at = t + Duration::seconds(i);
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let oldest = tickets[0].clone();
    let filter = TicketFilter {
        limit: 1,
        ..of_customer(&customer)
    };
    let first = store.list_tickets(&filter).await.expect("list");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, tickets[3].id);

    let late = fx::message(oldest.id, customer.id, t + Duration::seconds(60));
    send(store, &late).await;
    let page = store.list_tickets(&filter).await.expect("list");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, oldest.id);
    assert_eq!(page[0].updated_at, t + Duration::seconds(60));
    assert_eq!(page[0].last_seq, 2);
}

/// Escalation candidates, oldest first: `new` tickets created at or before `new_before`
/// not yet escalated as new, and `new`/`in_progress` tickets awaiting an answer since at
/// or before `awaiting_before` whose `escalated_awaiting_since` differs (a NULL differs).
/// Resolved and closed tickets are never candidates; `limit` caps the page.
pub async fn escalation_candidates(store: &dyn Store) {
    let base = random_past();
    let s = |n: i64| base + Duration::seconds(n);
    let (new_before, awaiting_before) = (s(60), s(30));
    let customer = insert_user(store, base).await;
    let agent = insert_agent(store, base).await;
    let c = customer.id;

    // New, awaiting since s(0), nothing escalated: a candidate.
    let still_new = insert_at(store, c, s(0)).await;
    // New and awaiting, both escalated already.
    let escalated = insert_at(store, c, s(1)).await;
    let escalated = modify_ticket(store, escalated.id, |t| {
        t.escalated_new_at = Some(s(61));
        t.escalated_awaiting_since = t.awaiting_since;
    })
    .await;
    // In progress, awaiting since s(2), never escalated: a candidate.
    let unanswered = insert_at(store, c, s(2)).await;
    let unanswered = modify_ticket(store, unanswered.id, |t| {
        t.status = TicketStatus::InProgress;
        t.assignee_id = Some(agent.id);
    })
    .await;
    // In progress and answered.
    let answered = insert_at(store, c, s(3)).await;
    send(store, &fx::agent_message(answered.id, agent.id, s(4))).await;
    let answered = modify_ticket(store, answered.id, |t| {
        t.status = TicketStatus::InProgress;
        t.assignee_id = Some(agent.id);
    })
    .await;
    // In progress, awaiting only since after awaiting_before.
    let mut recent = fx::ticket(c, s(5));
    recent.status = TicketStatus::InProgress;
    recent.assignee_id = Some(agent.id);
    let (recent, _) = store
        .insert_ticket_with_first_message(&recent, &fx::message(recent.id, c, s(31)))
        .await
        .expect("insert");
    // In progress, awaiting since exactly awaiting_before: a candidate.
    let mut boundary = fx::ticket(c, s(6));
    boundary.status = TicketStatus::InProgress;
    boundary.assignee_id = Some(agent.id);
    let (boundary, _) = store
        .insert_ticket_with_first_message(&boundary, &fx::message(boundary.id, c, s(30)))
        .await
        .expect("insert");
    // Resolved and closed tickets, awaiting since long ago and never escalated.
    let resolved = insert_at(store, c, s(7)).await;
    let resolved = modify_ticket(store, resolved.id, |t| {
        t.status = TicketStatus::Resolved;
        t.resolved_at = Some(s(8));
    })
    .await;
    let closed = insert_at(store, c, s(8)).await;
    let closed = modify_ticket(store, closed.id, |t| {
        t.status = TicketStatus::Closed;
        t.closed_at = Some(s(9));
    })
    .await;
    // New, escalated as new, awaiting since s(9) but an older breach was escalated: a candidate.
    let rebreach = insert_at(store, c, s(9)).await;
    let rebreach = modify_ticket(store, rebreach.id, |t| {
        t.escalated_new_at = Some(s(20));
        t.escalated_awaiting_since = Some(s(0));
    })
    .await;
    // New without a customer message, created exactly at new_before: a candidate.
    let new_boundary = insert_ticket_as(store, &fx::ticket(c, s(60))).await;
    // New without a customer message, created after new_before.
    let new_recent = insert_ticket_as(store, &fx::ticket(c, s(61))).await;

    let mine = [
        &still_new,
        &escalated,
        &unanswered,
        &answered,
        &recent,
        &boundary,
        &resolved,
        &closed,
        &rebreach,
        &new_boundary,
        &new_recent,
    ];
    let answer = store
        .list_escalation_candidates(new_before, awaiting_before, QUEUE_LIMIT)
        .await
        .expect("candidates");
    assert_eq!(
        only_mine(&answer, &mine),
        vec![
            still_new.id,
            unanswered.id,
            boundary.id,
            rebreach.id,
            new_boundary.id
        ],
        "candidates, oldest first"
    );
    for got in &answer {
        if got.id == still_new.id {
            assert_eq!(got, &fetch_ticket(store, still_new.id).await);
        }
    }
    let first = store
        .list_escalation_candidates(new_before, awaiting_before, 1)
        .await
        .expect("candidates");
    assert_eq!(first.len(), 1, "limit 1");
    assert!(
        (first[0].created_at, first[0].id) <= (still_new.created_at, still_new.id),
        "limit keeps the oldest"
    );

    close_all(store, &mine).await;
    let answer = store
        .list_escalation_candidates(new_before, awaiting_before, QUEUE_LIMIT)
        .await
        .expect("candidates");
    assert!(
        only_mine(&answer, &mine).is_empty(),
        "closed tickets are no candidates"
    );
}

/// Each breach escalates once: recording `escalated_new_at` and `escalated_awaiting_since =
/// awaiting_since` takes a ticket off the list; an agent answer clears the breach; a new
/// customer message opens a new breach (a new `awaiting_since`), which is a candidate again.
pub async fn escalation_once_per_breach(store: &dyn Store) {
    let base = random_past();
    let s = |n: i64| base + Duration::seconds(n);
    let bound = s(1000);
    let customer = insert_user(store, base).await;
    let agent = insert_agent(store, base).await;
    let ticket = insert_at(store, customer.id, s(0)).await;
    let mine = &ticket;
    let candidate = move || async move {
        let answer = store
            .list_escalation_candidates(bound, bound, QUEUE_LIMIT)
            .await
            .expect("candidates");
        !only_mine(&answer, &[mine]).is_empty()
    };
    assert!(candidate().await, "new and unanswered");

    modify_ticket(store, ticket.id, |t| t.escalated_new_at = Some(s(10))).await;
    assert!(
        candidate().await,
        "still unanswered, not yet escalated as such"
    );
    let now_t = modify_ticket(store, ticket.id, |t| {
        t.escalated_awaiting_since = t.awaiting_since;
    })
    .await;
    assert_eq!(now_t.escalated_awaiting_since, Some(s(0)));
    assert!(!candidate().await, "both breaches escalated");

    send(store, &fx::agent_message(ticket.id, agent.id, s(20))).await;
    assert!(!candidate().await, "answered");
    let t2 = send(store, &fx::message(ticket.id, customer.id, s(30))).await;
    assert_eq!(t2.awaiting_since, Some(s(30)));
    assert!(candidate().await, "a new breach");
    send(store, &fx::message(ticket.id, customer.id, s(40))).await;
    modify_ticket(store, ticket.id, |t| {
        t.escalated_awaiting_since = t.awaiting_since;
    })
    .await;
    assert!(!candidate().await, "the new breach escalated");

    close_all(store, &[&ticket]).await;
}

/// Tickets to close: `resolved` ones resolved at or before the bound, oldest resolution
/// first; other statuses never, whatever their `resolved_at`.
pub async fn tickets_to_close(store: &dyn Store) {
    let base = random_past();
    let s = |n: i64| base + Duration::seconds(n);
    let customer = insert_user(store, base).await;
    let make = |status: TicketStatus, resolved: i64| {
        let mut tk = fx::ticket(customer.id, base);
        tk.status = status;
        tk.resolved_at = Some(s(resolved));
        tk
    };
    let specs = [
        make(TicketStatus::Resolved, 10),
        make(TicketStatus::Resolved, 5),
        make(TicketStatus::Resolved, 20),
        make(TicketStatus::InProgress, 1),
        make(TicketStatus::Closed, 2),
        make(TicketStatus::Resolved, 15),
        make(TicketStatus::New, 3),
    ];
    let mut stored = Vec::new();
    for tk in &specs {
        stored.push(insert_ticket_as(store, tk).await);
    }
    let mine: Vec<&Ticket> = stored.iter().collect();
    let answer = store
        .list_tickets_to_close(s(15), QUEUE_LIMIT)
        .await
        .expect("to close");
    assert_eq!(
        only_mine(&answer, &mine),
        vec![stored[1].id, stored[0].id, stored[5].id],
        "resolved at or before the bound, oldest first"
    );
    let got = answer
        .iter()
        .find(|t| t.id == stored[0].id)
        .expect("listed");
    assert_eq!(got, &stored[0]);
    let first = store
        .list_tickets_to_close(s(15), 1)
        .await
        .expect("to close");
    assert_eq!(first.len(), 1, "limit 1");
    assert!(
        (first[0].resolved_at, first[0].id) <= (stored[1].resolved_at, stored[1].id),
        "limit keeps the oldest"
    );
    assert!(
        only_mine(
            &store
                .list_tickets_to_close(s(4), QUEUE_LIMIT)
                .await
                .expect("to close"),
            &mine
        )
        .is_empty()
    );

    close_all(store, &mine).await;
    let answer = store
        .list_tickets_to_close(s(100), QUEUE_LIMIT)
        .await
        .expect("to close");
    assert!(only_mine(&answer, &mine).is_empty());
}

/// Notifications due: open tickets with an agent reply at or before the bound that is
/// newer than both `customer_notified_seq` and the customer's own `read_seq`; oldest
/// reply first. Other participants' receipts do not count.
pub async fn notifications_due(store: &dyn Store) {
    let base = random_past();
    let s = |n: i64| base + Duration::seconds(n);
    let before = s(30);
    let customer = insert_user(store, base).await;
    let agent = insert_agent(store, base).await;
    let c = customer.id;
    let reply = |tk: &Ticket, at: i64| fx::agent_message(tk.id, agent.id, s(at));

    // Agent reply at s(1), nobody notified: due.
    let unread = insert_at(store, c, s(0)).await;
    send(store, &reply(&unread, 1)).await;
    // Reply at s(2), customer already emailed about it.
    let notified = insert_at(store, c, s(0)).await;
    send(store, &reply(&notified, 2)).await;
    let notified = modify_ticket(store, notified.id, |t| t.customer_notified_seq = 2).await;
    // Reply at s(3), customer has read it.
    let read = insert_at(store, c, s(0)).await;
    send(store, &reply(&read, 3)).await;
    store
        .update_receipt(read.id, c, 2, 2, s(4))
        .await
        .expect("receipt");
    // Reply at s(5); only the agent's receipt is past it: due.
    let agent_read = insert_at(store, c, s(0)).await;
    send(store, &reply(&agent_read, 5)).await;
    store
        .update_receipt(agent_read.id, agent.id, 9, 9, s(6))
        .await
        .expect("receipt");
    // Reply at s(6), but the ticket is closed.
    let closed = insert_at(store, c, s(0)).await;
    send(store, &reply(&closed, 6)).await;
    let closed = modify_ticket(store, closed.id, |t| {
        t.status = TicketStatus::Closed;
        t.closed_at = Some(s(7));
    })
    .await;
    // No agent reply at all.
    let silent = insert_at(store, c, s(0)).await;
    send(store, &fx::message(silent.id, c, s(8))).await;
    // Reply exactly at the bound: due. Reply after it: not yet.
    let boundary = insert_at(store, c, s(0)).await;
    send(store, &reply(&boundary, 30)).await;
    let late = insert_at(store, c, s(0)).await;
    send(store, &reply(&late, 31)).await;
    // Read up to an older reply only, notified of none: due.
    let partly = insert_at(store, c, s(0)).await;
    send(store, &reply(&partly, 9)).await;
    send(store, &reply(&partly, 10)).await;
    store
        .update_receipt(partly.id, c, 2, 2, s(11))
        .await
        .expect("receipt");

    let mine = [
        &unread,
        &notified,
        &read,
        &agent_read,
        &closed,
        &silent,
        &boundary,
        &late,
        &partly,
    ];
    let due = |at| async move {
        only_mine(
            &store
                .list_notifications_due(at, QUEUE_LIMIT)
                .await
                .expect("notifications due"),
            &mine,
        )
    };
    assert_eq!(
        due(before).await,
        vec![unread.id, agent_read.id, partly.id, boundary.id],
        "due, oldest reply first"
    );
    let first = store
        .list_notifications_due(before, 1)
        .await
        .expect("notifications due");
    assert_eq!(first.len(), 1, "limit 1");
    assert!(
        first[0].last_agent_message_at <= Some(s(1)),
        "limit keeps the oldest reply"
    );

    // Emailed about, then read: off the list; a newer reply puts it back.
    modify_ticket(store, unread.id, |t| t.customer_notified_seq = 2).await;
    store
        .update_receipt(agent_read.id, c, 2, 2, s(12))
        .await
        .expect("receipt");
    assert_eq!(due(before).await, vec![partly.id, boundary.id]);
    send(store, &reply(&unread, 12)).await;
    assert_eq!(due(before).await, vec![partly.id, unread.id, boundary.id]);
    let got = store
        .list_notifications_due(before, QUEUE_LIMIT)
        .await
        .expect("notifications due")
        .into_iter()
        .find(|t| t.id == unread.id)
        .expect("listed");
    assert_eq!(got, fetch_ticket(store, unread.id).await);
    assert_eq!((got.last_agent_seq, got.customer_notified_seq), (3, 2));

    close_all(store, &mine).await;
    assert!(due(s(1000)).await.is_empty());
}

/// The metrics window: tickets created in `[from, to)` or resolved in `[from, to)`, each
/// once.
pub async fn tickets_in_window(store: &dyn Store) {
    let base = random_past();
    let s = |n: i64| base + Duration::seconds(n);
    let ms = |n: i64| base + Duration::milliseconds(n);
    let customer = insert_user(store, base).await;
    let make = |created: OffsetDateTime, resolved: Option<OffsetDateTime>| {
        let mut tk = fx::ticket(customer.id, created);
        if let Some(r) = resolved {
            tk.status = TicketStatus::Resolved;
            tk.resolved_at = Some(r);
        }
        tk
    };
    let specs = [
        make(s(10), None),                // 0: created at from: in
        make(ms(19_999), None),           // 1: created just before to: in
        make(s(20), None),                // 2: created at to: out
        make(s(5), Some(s(15))),          // 3: resolved inside: in
        make(s(5), Some(s(20))),          // 4: resolved at to: out
        make(s(5), None),                 // 5: before: out
        make(s(12), Some(s(13))),         // 6: both inside: in, once
        make(ms(9_999), Some(ms(9_999))), // 7: just before from: out
    ];
    let mut stored = Vec::new();
    for tk in &specs {
        stored.push(insert_ticket_as(store, tk).await);
    }
    let mine: Vec<&Ticket> = stored.iter().collect();
    let answer = store
        .list_tickets_in_window(s(10), s(20))
        .await
        .expect("window");
    let mut got = only_mine(&answer, &mine);
    got.sort();
    assert_eq!(
        got,
        ids(&[
            stored[0].clone(),
            stored[1].clone(),
            stored[3].clone(),
            stored[6].clone()
        ])
    );
    let unique: HashSet<TicketId> = answer.iter().map(|t| t.id).collect();
    assert_eq!(unique.len(), answer.len(), "each ticket once");
    let listed = answer
        .iter()
        .find(|t| t.id == stored[3].id)
        .expect("listed");
    assert_eq!(listed, &stored[3]);

    close_all(store, &mine).await;
}
