//! [`TicketStore`](crate::ports::TicketStore) scenarios. Lists are scoped by a
//! fresh customer (or assignee) per scenario.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::Duration;
use uuid::Uuid;

use super::fixtures::{
    self as fx, assert_conflict, assert_foreign_key, assert_not_found, insert_agent, insert_user,
    now,
};
use crate::domain::{MessageKind, Priority, Ticket, TicketFilter, TicketId, TicketStatus};
use crate::ports::{Store, StoreError};

/// A ticket with every optional field set and one with none round-trip with their first
/// message; the store assigns `number` and `last_seq = 1`, ignoring the values passed.
pub async fn insert_with_first_message_roundtrip(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");

    let mut full = fx::ticket(customer.id, t);
    full.number = -7;
    full.last_seq = 99;
    full.category_id = Some(cat.id);
    full.priority = Priority::Urgent;
    full.status = TicketStatus::Resolved;
    full.assignee_id = Some(agent.id);
    full.created_at = t - Duration::hours(2);
    full.updated_at = t - Duration::minutes(3);
    full.first_response_at = Some(t - Duration::hours(1));
    full.resolved_at = Some(t - Duration::minutes(30));
    full.version = 3;
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
    assert_eq!(ticket, expected);
    assert_eq!(message, first.with_seq(1));
    assert_eq!(
        store.fetch_ticket(full.id).await.expect("fetch"),
        Some(expected)
    );
    assert_eq!(
        store
            .list_messages_after(full.id, 0, 10)
            .await
            .expect("messages"),
        vec![message]
    );

    let bare = fx::ticket(customer.id, t);
    let mut sys = fx::message(bare.id, customer.id, t);
    sys.author_id = None;
    sys.kind = MessageKind::System;
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
    let mut first = fx::message(ticket.id, ghost, t);
    first.author_id = None;
    assert_foreign_key(
        store
            .insert_ticket_with_first_message(&ticket, &first)
            .await,
    );
    assert_eq!(store.fetch_ticket(ticket.id).await.expect("fetch"), None);
    assert!(
        store
            .list_messages_after(ticket.id, 0, 10)
            .await
            .expect("messages")
            .is_empty()
    );
}

/// Ticket numbers are unique under concurrent creates and grow with creation order.
pub async fn numbers_unique_and_increasing(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let a = fx::insert_ticket(store, customer.id, t).await;
    let b = fx::insert_ticket(store, customer.id, t).await;
    assert!(b.number > a.number, "{} then {}", a.number, b.number);

    let batch: Vec<(Ticket, crate::domain::NewMessage)> = (0..10)
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

/// `update_ticket` sets every mutable field (Options set and cleared) but never `number` or `last_seq`.
pub async fn update_roundtrip_keeps_number_and_last_seq(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");
    let stored = fx::insert_ticket(store, customer.id, t).await;
    let reply = fx::message(stored.id, agent.id, t + Duration::seconds(1));
    store.insert_message(&reply).await.expect("reply");
    let stored = store
        .fetch_ticket(stored.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(stored.last_seq, 2);

    let mut next = stored.clone();
    next.number = stored.number + 1000;
    next.last_seq = 77;
    next.status = TicketStatus::Resolved;
    next.priority = Priority::High;
    next.category_id = Some(cat.id);
    next.assignee_id = Some(agent.id);
    next.updated_at = t + Duration::seconds(5);
    next.first_response_at = Some(t + Duration::seconds(1));
    next.resolved_at = Some(t + Duration::seconds(5));
    next.version = stored.version + 1;
    store
        .update_ticket(&next, stored.version)
        .await
        .expect("update");
    let mut expected = next.clone();
    expected.number = stored.number;
    expected.last_seq = stored.last_seq;
    assert_eq!(
        store.fetch_ticket(stored.id).await.expect("fetch"),
        Some(expected.clone())
    );

    let mut cleared = expected.clone();
    cleared.status = TicketStatus::InProgress;
    cleared.priority = Priority::Low;
    cleared.category_id = None;
    cleared.assignee_id = None;
    cleared.resolved_at = None;
    cleared.first_response_at = None;
    cleared.updated_at = t + Duration::seconds(9);
    cleared.version = expected.version + 1;
    store
        .update_ticket(&cleared, expected.version)
        .await
        .expect("update");
    assert_eq!(
        store.fetch_ticket(stored.id).await.expect("fetch"),
        Some(cleared)
    );
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
            .map(|c| store.update_ticket(c, stored.version)),
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
    assert_eq!(
        store.fetch_ticket(stored.id).await.expect("fetch"),
        Some(winner.clone())
    );

    // Sequential stale write.
    let mut stale = stored.clone();
    stale.status = TicketStatus::Closed;
    stale.version = stored.version + 1;
    assert_conflict(store.update_ticket(&stale, stored.version).await);
    assert_eq!(
        store.fetch_ticket(stored.id).await.expect("fetch"),
        Some(winner)
    );

    let mut ghost = fx::ticket(customer.id, t);
    ghost.version = 2;
    assert_not_found(store.update_ticket(&ghost, 1).await);
}

/// `list_tickets` filters by customer, any-of statuses, assignee and unassigned.
pub async fn list_filters(store: &dyn Store) {
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
        let m = fx::message(tk.id, customer.id, t);
        let (tk, _) = store
            .insert_ticket_with_first_message(&tk, &m)
            .await
            .expect("insert");
        make.push(tk);
    }
    // Same agent on another customer's ticket.
    let mut foreign = fx::ticket(other_customer.id, t);
    foreign.assignee_id = Some(agent.id);
    let m = fx::message(foreign.id, other_customer.id, t);
    let (foreign, _) = store
        .insert_ticket_with_first_message(&foreign, &m)
        .await
        .expect("insert");

    let ids = |v: Vec<Ticket>| {
        let mut ids: Vec<TicketId> = v.into_iter().map(|t| t.id).collect();
        ids.sort();
        ids
    };
    let pick = |idx: &[usize]| {
        let mut ids: Vec<TicketId> = idx.iter().map(|&i| make[i].id).collect();
        ids.sort();
        ids
    };
    let of_customer = TicketFilter {
        customer_id: Some(customer.id),
        limit: 100,
        ..TicketFilter::default()
    };
    let list = |f: TicketFilter| async move { ids(store.list_tickets(&f).await.expect("list")) };

    assert_eq!(list(of_customer.clone()).await, pick(&[0, 1, 2, 3, 4]));
    assert_eq!(
        list(TicketFilter {
            statuses: vec![TicketStatus::InProgress, TicketStatus::Resolved],
            ..of_customer.clone()
        })
        .await,
        pick(&[1, 2, 4])
    );
    assert_eq!(
        list(TicketFilter {
            statuses: vec![TicketStatus::Closed],
            ..of_customer.clone()
        })
        .await,
        pick(&[3])
    );
    assert_eq!(
        list(TicketFilter {
            assignee_id: Some(agent.id),
            ..of_customer.clone()
        })
        .await,
        pick(&[1, 2])
    );
    assert_eq!(
        list(TicketFilter {
            unassigned: true,
            ..of_customer.clone()
        })
        .await,
        pick(&[0, 3])
    );
    assert_eq!(
        list(TicketFilter {
            unassigned: true,
            statuses: vec![TicketStatus::New],
            ..of_customer.clone()
        })
        .await,
        pick(&[0])
    );
    let mut by_agent = pick(&[1, 2]);
    by_agent.push(foreign.id);
    by_agent.sort();
    assert_eq!(
        list(TicketFilter {
            assignee_id: Some(agent.id),
            limit: 100,
            ..TicketFilter::default()
        })
        .await,
        by_agent,
        "assignee filter across customers"
    );
}

/// `list_tickets` orders by `(updated_at, id)` descending (ties broken by id) and
/// pages with the `before` cursor; a new message moves its ticket to the front.
pub async fn list_order_and_paging(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    // Seven tickets: four share an updated_at, to exercise the id tie-break.
    let offsets = [0, 10, 10, 20, 10, 5, 10];
    let mut tickets = Vec::new();
    for off in offsets {
        let mut tk = fx::ticket(customer.id, t);
        tk.updated_at = t + Duration::seconds(off);
        let m = fx::message(tk.id, customer.id, t);
        let (tk, _) = store
            .insert_ticket_with_first_message(&tk, &m)
            .await
            .expect("insert");
        tickets.push(tk);
    }
    let mut expected = tickets.clone();
    expected.sort_by_key(|t| std::cmp::Reverse((t.updated_at, t.id)));

    let filter = TicketFilter {
        customer_id: Some(customer.id),
        limit: 100,
        ..TicketFilter::default()
    };
    assert_eq!(store.list_tickets(&filter).await.expect("list"), expected);

    let mut seen = Vec::new();
    let mut before = None;
    for expected_len in [2, 2, 2, 1, 0] {
        let page = store
            .list_tickets(&TicketFilter {
                before,
                limit: 2,
                ..filter.clone()
            })
            .await
            .expect("page");
        assert_eq!(page.len(), expected_len);
        before = page.last().map(|t| (t.updated_at, t.id)).or(before);
        seen.extend(page);
    }
    assert_eq!(seen, expected);

    // A message bumps updated_at: the oldest ticket comes first.
    let oldest = expected.last().expect("seven tickets").clone();
    let late = fx::message(oldest.id, customer.id, t + Duration::seconds(60));
    store.insert_message(&late).await.expect("message");
    let page = store
        .list_tickets(&TicketFilter {
            limit: 1,
            ..filter.clone()
        })
        .await
        .expect("list");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, oldest.id);
    assert_eq!(page[0].updated_at, t + Duration::seconds(60));
    assert_eq!(page[0].last_seq, 2);
}
