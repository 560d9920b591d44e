//! [`TicketStore`](crate::ports::TicketStore) queue scenarios: escalation
//! candidates, tickets to close, notifications due and the metrics window.
//!
//! These table-wide queries work on tickets placed in a private window of the
//! past ([`random_past`]), look only at their own tickets in the answer (with a
//! limit far above what one scenario creates), and close every ticket they
//! created before returning, so no later run's queue query matches them again.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use super::fixtures::{
    self as fx, fetch_ticket, insert_agent, insert_ticket_as, insert_user, modify_ticket, now,
    random_past,
};
use super::tickets::{ids, send};
use crate::domain::{Ticket, TicketId, TicketStatus, UserId};
use crate::ports::Store;

/// The limit the queue scenarios pass: far above the tickets one scenario creates.
const QUEUE_LIMIT: u32 = 10_000;

/// The ids of `answer` that are in `mine`, in the answer's order.
fn only_mine(answer: &[Ticket], mine: &[&Ticket]) -> Vec<TicketId> {
    let mine: HashSet<TicketId> = mine.iter().map(|t| t.id).collect();
    answer
        .iter()
        .filter(|t| mine.contains(&t.id))
        .map(|t| t.id)
        .collect()
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
