//! [`TicketStore`](crate::ports::TicketStore) listing order scenarios: every
//! [`TicketSort`] and keyset paging through it.

use std::collections::HashSet;

use time::Duration;
use uuid::Uuid;

use super::fixtures::{self as fx, insert_ticket_as, insert_user, now};
use super::tickets::{of_customer, send};
use crate::domain::{Priority, Ticket, TicketCursor, TicketFilter, TicketId, TicketSort, User};
use crate::ports::Store;

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
