//! [`MessageStore`](crate::ports::MessageStore) read receipts: created from
//! 0, moving forward only, per participant. Each scenario works on its own
//! fresh tickets.

use time::Duration;
use uuid::Uuid;

use super::fixtures::{self as fx, assert_foreign_key, insert_agent, insert_user, now};
use crate::domain::{Receipt, TicketId};
use crate::ports::Store;

/// A receipt is created from 0 and only moves forward: `delivered_seq` is raised by
/// `read_seq`, lower values keep the higher stored ones, and `updated_at` changes only
/// when something moved.
pub async fn receipts_move_forward_only(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let receipt = |delivered_seq, read_seq, updated_at| Receipt {
        ticket_id: ticket.id,
        user_id: customer.id,
        delivered_seq,
        read_seq,
        updated_at,
    };
    let update = |d: i64, r: i64, at| async move {
        store
            .update_receipt(ticket.id, customer.id, d, r, at)
            .await
            .expect("update receipt")
    };
    assert_eq!(update(3, 1, s(1)).await, receipt(3, 1, s(1)), "created");
    assert_eq!(
        update(2, 0, s(2)).await,
        receipt(3, 1, s(1)),
        "lower values move nothing"
    );
    assert_eq!(
        update(3, 5, s(3)).await,
        receipt(5, 5, s(3)),
        "reading raises delivered"
    );
    assert_eq!(
        update(7, 2, s(4)).await,
        receipt(7, 5, s(4)),
        "read is kept"
    );
    assert_eq!(update(0, 0, s(5)).await, receipt(7, 5, s(4)));
    assert_eq!(
        store.list_receipts(ticket.id).await.expect("list"),
        vec![receipt(7, 5, s(4))]
    );

    // Only reading, on a fresh receipt: delivered follows.
    let other = fx::insert_ticket(store, customer.id, t).await;
    let got = store
        .update_receipt(other.id, customer.id, 0, 1, s(6))
        .await
        .expect("update receipt");
    assert_eq!(
        (got.delivered_seq, got.read_seq, got.updated_at),
        (1, 1, s(6))
    );
}

/// A receipt on an unknown ticket or of an unknown user is a ForeignKey error and stores nothing.
pub async fn receipts_unknown_foreign_key(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let ghost_ticket = TicketId(Uuid::now_v7());
    assert_foreign_key(
        store
            .update_receipt(ghost_ticket, customer.id, 1, 1, t)
            .await,
    );
    assert_foreign_key(
        store
            .update_receipt(ticket.id, fx::user_id(), 1, 1, t)
            .await,
    );
    assert!(
        store
            .list_receipts(ticket.id)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        store
            .list_receipts(ghost_ticket)
            .await
            .expect("list")
            .is_empty()
    );
}

/// `list_receipts` returns every participant's receipt on one ticket, by user id.
pub async fn list_receipts_ordered_by_user(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let agent2 = insert_agent(store, t).await;
    let ticket = fx::insert_ticket(store, customer.id, t).await;
    let other = fx::insert_ticket(store, customer.id, t).await;
    let mut expected = Vec::new();
    for (i, user) in [agent2.id, customer.id, agent.id].into_iter().enumerate() {
        let n = i as i64 + 1;
        expected.push(
            store
                .update_receipt(ticket.id, user, n + 1, n, t + Duration::seconds(n))
                .await
                .expect("receipt"),
        );
    }
    store
        .update_receipt(other.id, customer.id, 9, 9, t)
        .await
        .expect("receipt");
    expected.sort_by_key(|r| r.user_id);
    assert_eq!(
        store.list_receipts(ticket.id).await.expect("list"),
        expected
    );
    let others = store.list_receipts(other.id).await.expect("list");
    assert_eq!(others.len(), 1);
    assert_eq!(
        (
            others[0].user_id,
            others[0].delivered_seq,
            others[0].read_seq
        ),
        (customer.id, 9, 9)
    );
}
