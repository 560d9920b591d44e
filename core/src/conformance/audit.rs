//! [`AuditStore`](crate::ports::AuditStore) scenarios. Every scenario uses a
//! fresh actor id (the audit log does not check it against users) so its
//! entries can be told apart in a shared database.

use time::Duration;
use uuid::Uuid;

use super::fixtures::{self as fx, now, random_past};
use crate::domain::audit::TARGET_TICKET;
use crate::domain::{AuditAction, AuditEntry, AuditFilter, AuditId, TicketId, UserId};
use crate::ports::Store;

/// Builds `n` entries of `actor` with ascending ids and times one second apart from `t0`.
fn entries(actor: UserId, actions: &[AuditAction], t0: time::OffsetDateTime) -> Vec<AuditEntry> {
    let mut ids: Vec<AuditId> = actions.iter().map(|_| AuditId(Uuid::now_v7())).collect();
    ids.sort();
    actions
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (action, id))| AuditEntry {
            id,
            ..fx::audit(Some(actor), *action, t0 + Duration::seconds(i as i64))
        })
        .collect()
}

fn by_actor(actor: UserId) -> AuditFilter {
    AuditFilter {
        actor_id: Some(actor),
        limit: 100,
        ..AuditFilter::default()
    }
}

/// Entries with every optional field set and unset round-trip; the actor is not checked.
pub async fn insert_list_roundtrip(store: &dyn Store) {
    let t = now();
    let actor = fx::user_id(); // deliberately not a stored user
    let full = AuditEntry {
        id: AuditId(Uuid::now_v7()),
        at: t,
        actor_id: Some(actor),
        action: AuditAction::RoleChanged,
        target_type: Some("user".to_owned()),
        target_id: Some(Uuid::now_v7().to_string()),
        source_ip: Some("2001:db8::1".to_owned()),
        detail: Some("agent -> admin".to_owned()),
    };
    store.insert_audit(&full).await.expect("insert full entry");
    let got = store.list_audit(&by_actor(actor)).await.expect("list");
    assert_eq!(got, vec![full]);

    // An anonymous entry, found by a private time window.
    let at = random_past();
    let bare = fx::audit(None, AuditAction::LoginFailed, at);
    store.insert_audit(&bare).await.expect("insert bare entry");
    let got = store
        .list_audit(&AuditFilter {
            action: Some(AuditAction::LoginFailed),
            from: Some(at),
            to: Some(at + Duration::milliseconds(1)),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("list");
    assert!(got.contains(&bare), "anonymous entry not found: {got:?}");
}

/// Entries come newest first (id descending) and page with the `before` cursor.
pub async fn list_newest_first_with_cursor(store: &dyn Store) {
    let actor = fx::user_id();
    let es = entries(actor, &[AuditAction::Logout; 5], now());
    // Insert out of order: the order must come from the ids.
    for i in [2, 0, 4, 1, 3] {
        store.insert_audit(&es[i]).await.expect("insert");
    }
    let mut expected = es.clone();
    expected.reverse();
    assert_eq!(
        store.list_audit(&by_actor(actor)).await.expect("list"),
        expected
    );

    let mut seen = Vec::new();
    let mut before = None;
    for expected_len in [2, 2, 1, 0] {
        let page = store
            .list_audit(&AuditFilter {
                before,
                limit: 2,
                ..by_actor(actor)
            })
            .await
            .expect("page");
        assert_eq!(page.len(), expected_len);
        before = page.last().map(|e| e.id).or(before);
        seen.extend(page);
    }
    assert_eq!(seen, expected);
}

/// `actor_id`, `action`, `from` (inclusive) and `to` (exclusive) filter, combined.
pub async fn list_filters(store: &dyn Store) {
    let actor = fx::user_id();
    let other = fx::user_id();
    let t0 = now();
    use AuditAction::*;
    let es = entries(
        actor,
        &[
            LoginSucceeded,
            Logout,
            LoginSucceeded,
            Logout,
            LoginSucceeded,
        ],
        t0,
    );
    for e in &es {
        store.insert_audit(e).await.expect("insert");
    }
    let foreign = fx::audit(Some(other), LoginSucceeded, t0 + Duration::seconds(2));
    store.insert_audit(&foreign).await.expect("insert");

    let list = |f: AuditFilter| async move { store.list_audit(&f).await.expect("list") };
    let base = by_actor(actor);

    let got = list(AuditFilter {
        action: Some(LoginSucceeded),
        ..base.clone()
    })
    .await;
    assert_eq!(got, vec![es[4].clone(), es[2].clone(), es[0].clone()]);

    let got = list(AuditFilter {
        from: Some(t0 + Duration::seconds(1)),
        to: Some(t0 + Duration::seconds(3)),
        ..base.clone()
    })
    .await;
    assert_eq!(
        got,
        vec![es[2].clone(), es[1].clone()],
        "from inclusive, to exclusive"
    );

    let got = list(AuditFilter {
        action: Some(Logout),
        from: Some(t0 + Duration::seconds(2)),
        ..base.clone()
    })
    .await;
    assert_eq!(got, vec![es[3].clone()]);

    let got = list(AuditFilter {
        action: Some(RoleChanged),
        ..base.clone()
    })
    .await;
    assert!(got.is_empty());

    let got = list(by_actor(other)).await;
    assert_eq!(got, vec![foreign]);
}

/// `target_ticket` keeps the entries whose target is that ticket
/// (`target_type` `ticket`, `target_id` its id): newest first, paged with
/// `before`, combined with the other filters. Another ticket's entries, a
/// non-ticket target with the same id text and untargeted entries stay out.
pub async fn list_by_target_ticket(store: &dyn Store) {
    let actor = fx::user_id();
    let ticket = TicketId(Uuid::now_v7());
    let other_ticket = TicketId(Uuid::now_v7());
    let about = |e: AuditEntry, kind: &str, id: String| AuditEntry {
        target_type: Some(kind.to_owned()),
        target_id: Some(id),
        ..e
    };
    use AuditAction::*;
    let es = entries(
        actor,
        &[
            TicketClaimed,
            TicketPriorityChanged,
            TicketStatusChanged,
            TicketStatusChanged,
            TicketUnassigned,
        ],
        now(),
    );
    let mine: Vec<AuditEntry> = es
        .into_iter()
        .map(|e| about(e, TARGET_TICKET, ticket.to_string()))
        .collect();
    let t = now();
    let foreign = [
        about(
            fx::audit(Some(actor), TicketClaimed, t),
            TARGET_TICKET,
            other_ticket.to_string(),
        ),
        // Same id text, another kind of target.
        about(
            fx::audit(Some(actor), RoleChanged, t),
            "user",
            ticket.to_string(),
        ),
        fx::audit(Some(actor), Logout, t),
    ];
    // Insert out of order, interleaved with the others.
    for i in [3, 0, 4] {
        store.insert_audit(&mine[i]).await.expect("insert");
    }
    for e in &foreign {
        store.insert_audit(e).await.expect("insert");
    }
    for i in [1, 2] {
        store.insert_audit(&mine[i]).await.expect("insert");
    }
    let trail = AuditFilter {
        target_ticket: Some(ticket),
        limit: 100,
        ..AuditFilter::default()
    };
    let mut expected = mine.clone();
    expected.reverse();
    assert_eq!(
        store.list_audit(&trail).await.expect("list"),
        expected,
        "the ticket's entries, newest first"
    );

    let mut seen = Vec::new();
    let mut before = None;
    for expected_len in [2, 2, 1, 0] {
        let page = store
            .list_audit(&AuditFilter {
                before,
                limit: 2,
                ..trail.clone()
            })
            .await
            .expect("page");
        assert_eq!(page.len(), expected_len);
        before = page.last().map(|e| e.id).or(before);
        seen.extend(page);
    }
    assert_eq!(seen, expected, "pages");

    let got = store
        .list_audit(&AuditFilter {
            action: Some(TicketStatusChanged),
            ..trail.clone()
        })
        .await
        .expect("list");
    assert_eq!(got, vec![mine[3].clone(), mine[2].clone()], "with action");
    let got = store
        .list_audit(&AuditFilter {
            actor_id: Some(fx::user_id()),
            ..trail.clone()
        })
        .await
        .expect("list");
    assert!(got.is_empty(), "with another actor: {got:?}");

    let got = store
        .list_audit(&AuditFilter {
            target_ticket: Some(other_ticket),
            ..trail.clone()
        })
        .await
        .expect("list");
    assert_eq!(got, vec![foreign[0].clone()], "the other ticket");
    let got = store
        .list_audit(&AuditFilter {
            target_ticket: Some(TicketId(Uuid::now_v7())),
            ..trail
        })
        .await
        .expect("list");
    assert!(got.is_empty(), "a ticket without entries: {got:?}");
}

/// `count_audit_by_actor` counts one action per actor in `[from, to)`, ordered by actor id;
/// other actions, entries outside the window and entries without an actor do not count.
pub async fn count_by_actor_window(store: &dyn Store) {
    let base = random_past();
    let (from, to) = (base, base + Duration::seconds(10));
    let mut actors = [fx::user_id(), fx::user_id(), fx::user_id()];
    actors.sort();
    let [a1, a2, a3] = actors;
    use AuditAction::*;
    let ms = |n: i64| base + Duration::milliseconds(n);
    for (actor, action, at) in [
        (Some(a1), LoginFailed, ms(0)),      // at from: counts
        (Some(a1), LoginFailed, ms(5_000)),  // counts
        (Some(a1), LoginFailed, ms(10_000)), // at to: does not
        (Some(a1), LoginFailed, ms(-1)),     // before: does not
        (Some(a1), Logout, ms(1_000)),       // other action
        (Some(a2), LoginFailed, ms(9_999)),  // counts
        (Some(a3), Logout, ms(2_000)),       // other action only
        (None, LoginFailed, ms(2_000)),      // no actor
    ] {
        store
            .insert_audit(&fx::audit(actor, action, at))
            .await
            .expect("insert");
    }
    let counts = store
        .count_audit_by_actor(LoginFailed, from, to)
        .await
        .expect("count");
    assert!(
        counts.windows(2).all(|w| w[0].0 < w[1].0),
        "ordered by actor id: {counts:?}"
    );
    assert!(counts.iter().all(|(_, n)| *n > 0));
    let mine: Vec<(UserId, u64)> = counts
        .into_iter()
        .filter(|(a, _)| actors.contains(a))
        .collect();
    assert_eq!(mine, vec![(a1, 2), (a2, 1)]);

    let logouts = store
        .count_audit_by_actor(Logout, from, to)
        .await
        .expect("count");
    let mine: Vec<(UserId, u64)> = logouts
        .into_iter()
        .filter(|(a, _)| actors.contains(a))
        .collect();
    assert_eq!(mine, vec![(a1, 1), (a3, 1)]);
    let empty = store
        .count_audit_by_actor(LoginFailed, to, to)
        .await
        .expect("count");
    assert!(!empty.iter().any(|(a, _)| actors.contains(a)));
}
