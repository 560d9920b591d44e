//! [`TicketStore`](crate::ports::TicketStore) update scenarios: `update_ticket`
//! round trips, compare-and-set conflicts, concurrent claims and mails enqueued
//! with an update.

use futures_util::future::join_all;
use time::Duration;

use super::fixtures::{
    self as fx, assert_conflict, assert_foreign_key, assert_not_found, fetch_ticket, insert_agent,
    insert_user, now,
};
use super::tickets::send;
use crate::domain::{OutboxMessage, Priority, Ticket, TicketStatus};
use crate::ports::{Store, StoreError};

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
