//! [`TicketStore`](crate::ports::TicketStore) scenarios: creating a ticket with its
//! first message, fetching it back, and the first message's effects.
//!
//! The other ticket scenarios live in [`ticket_updates`](super::ticket_updates)
//! (updates, compare-and-set, claims), [`ticket_lists`](super::ticket_lists)
//! (filters and text search), [`ticket_sorts`](super::ticket_sorts) (sorts and
//! keyset paging) and [`ticket_queues`](super::ticket_queues) (the queue queries).
//! This module also holds the listing helpers they share.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::Duration;
use uuid::Uuid;

use super::fixtures::{
    self as fx, assert_foreign_key, fetch_ticket, insert_agent, insert_user, now,
};
use crate::domain::{
    InsertMessage, MessageKind, NewMessage, Priority, Ticket, TicketFilter, TicketId, TicketStatus,
    User,
};
use crate::ports::{Store, StoreError};

// The scenarios that moved to sibling modules stay reachable under their old paths.
#[doc(hidden)]
pub use super::ticket_lists::{
    list_filter_assignee, list_filter_category, list_filter_customer, list_filter_date_ranges,
    list_filter_priorities, list_filter_statuses, list_filters_combined, list_text_search,
    list_text_search_internal_notes,
};
#[doc(hidden)]
pub use super::ticket_queues::{
    escalation_candidates, escalation_once_per_breach, notifications_due, tickets_in_window,
    tickets_to_close,
};
#[doc(hidden)]
pub use super::ticket_sorts::{
    list_message_moves_ticket_first, list_sort_created_asc_paging, list_sort_created_desc_paging,
    list_sort_priority_desc_paging, list_sort_updated_desc_paging,
};
#[doc(hidden)]
pub use super::ticket_updates::{
    update_concurrent_claim_one_wins, update_roundtrip_keeps_store_maintained_fields,
    update_stale_version_conflicts, update_with_mail_enqueues_atomically,
};

/// Ticket ids, sorted: compares listings as sets.
pub(super) fn ids(tickets: &[Ticket]) -> Vec<TicketId> {
    let mut ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    ids.sort();
    ids
}

/// Lists with `filter` and returns the ids, sorted.
pub(super) async fn list_ids(store: &dyn Store, filter: TicketFilter) -> Vec<TicketId> {
    ids(&store.list_tickets(&filter).await.expect("list tickets"))
}

/// A filter for one customer's tickets, one page of up to 100.
pub(super) fn of_customer(customer: &User) -> TicketFilter {
    TicketFilter {
        customer_id: Some(customer.id),
        limit: 100,
        ..TicketFilter::default()
    }
}

/// Inserts a message and returns the ticket after its effects.
pub(super) async fn send(store: &dyn Store, m: &NewMessage) -> Ticket {
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
