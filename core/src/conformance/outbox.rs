//! [`OutboxStore`](crate::ports::OutboxStore) scenarios.
//!
//! `claim_outbox` spans the whole table, so the claim scenarios work in a
//! private window of the past ([`random_past`]): fixture mails of other
//! scenarios are due only far in the future and are never leased here, and
//! every mail a claim scenario creates is marked sent before it returns.

use std::collections::HashSet;

use futures_util::future::join_all;
use time::{Duration, OffsetDateTime};

use super::fixtures::{self as fx, assert_not_found, now, random_past};
use crate::domain::{OutboxId, OutboxMessage};
use crate::ports::{Store, StoreError};

/// `claim_outbox` takes every due mail in the store, so two claim scenarios
/// running at once against a shared database would take each other's mails:
/// in one process they take turns.
static CLAIMS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A mail created at `created_at` and due at `due`.
fn mail_due(created_at: OffsetDateTime, due: OffsetDateTime) -> OutboxMessage {
    OutboxMessage {
        next_attempt_at: due,
        ..fx::mail(created_at)
    }
}

/// Marks every given mail sent, so nothing of the scenario stays claimable.
async fn mark_sent(store: &dyn Store, ids: &[OutboxId], at: OffsetDateTime) {
    for id in ids {
        store.update_outbox_sent(*id, at).await.expect("mark sent");
    }
}

/// A fresh mail and one with every optional field set round-trip; duplicate ids are rejected.
pub async fn insert_fetch_roundtrip(store: &dyn Store) {
    let t = now();
    let fresh = fx::mail(t);
    store.insert_outbox(&fresh).await.expect("insert");
    let mut worked = fx::mail(t - Duration::minutes(10));
    worked.attempts = 3;
    worked.last_error = Some("550 mailbox unavailable".to_owned());
    worked.sent_at = Some(t);
    worked.body = "Ünïcödé body ✉\r\nwith lines".to_owned();
    store.insert_outbox(&worked).await.expect("insert");

    let got = store
        .fetch_outbox(fresh.id)
        .await
        .expect("fetch")
        .expect("mail");
    // `OutboxMessage`'s Debug hides the body: compare it separately for a readable failure.
    assert_eq!(got.body, fresh.body);
    assert!(
        got == fresh,
        "round-trip changed the mail: {got:?} vs {fresh:?}"
    );
    let got = store
        .fetch_outbox(worked.id)
        .await
        .expect("fetch")
        .expect("mail");
    assert_eq!(got.body, worked.body);
    assert!(
        got == worked,
        "round-trip changed the mail: {got:?} vs {worked:?}"
    );
    assert!(
        store
            .fetch_outbox(OutboxId(uuid::Uuid::now_v7()))
            .await
            .expect("unknown")
            .is_none()
    );
    match store.insert_outbox(&fresh).await {
        Err(StoreError::UniqueViolation { .. }) => {}
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
}

/// `update_outbox_failed` records the error and retry time (attempts unchanged);
/// `update_outbox_sent` sets `sent_at`; both are NotFound for an unknown mail.
pub async fn update_failed_and_sent(store: &dyn Store) {
    let t = now();
    let mail = fx::mail(t);
    store.insert_outbox(&mail).await.expect("insert");

    let retry = t + fx::FAR_FUTURE + Duration::minutes(5);
    store
        .update_outbox_failed(mail.id, "connection refused", retry)
        .await
        .expect("failed");
    let got = store
        .fetch_outbox(mail.id)
        .await
        .expect("fetch")
        .expect("mail");
    let expected = OutboxMessage {
        last_error: Some("connection refused".to_owned()),
        next_attempt_at: retry,
        ..mail.clone()
    };
    assert!(got == expected, "{got:?} vs {expected:?}");

    let sent_at = t + Duration::seconds(30);
    store
        .update_outbox_sent(mail.id, sent_at)
        .await
        .expect("sent");
    let got = store
        .fetch_outbox(mail.id)
        .await
        .expect("fetch")
        .expect("mail");
    let expected = OutboxMessage {
        sent_at: Some(sent_at),
        ..expected
    };
    assert!(got == expected, "{got:?} vs {expected:?}");

    let ghost = OutboxId(uuid::Uuid::now_v7());
    assert_not_found(store.update_outbox_failed(ghost, "x", retry).await);
    assert_not_found(store.update_outbox_sent(ghost, t).await);
}

/// `claim_outbox` leases due, unsent mails oldest first (bumping attempts, moving
/// `next_attempt_at` to the lease end), respects `limit`, and hands a mail out again
/// only once the lease has run out.
pub async fn claim_due_oldest_first_with_lease(store: &dyn Store) {
    let _one_claimer = CLAIMS.lock().await;
    let base = random_past();
    let s = Duration::seconds;
    // Created out of order; `a` is the oldest.
    let b = mail_due(base + s(2), base);
    let a = mail_due(base + s(1), base + s(30));
    let c = mail_due(base + s(3), base + s(30));
    let not_due = mail_due(base, base + Duration::minutes(10));
    let sent = OutboxMessage {
        sent_at: Some(base),
        ..mail_due(base, base)
    };
    let ours = [a.id, b.id, c.id, not_due.id, sent.id];
    for m in [&c, &sent, &a, &not_due, &b] {
        store.insert_outbox(m).await.expect("insert");
    }
    let now1 = base + Duration::minutes(1);
    let lease1 = base + Duration::minutes(5);

    let first = store.claim_outbox(now1, lease1, 1).await.expect("claim 1");
    assert_eq!(first.len(), 1, "limit 1 with due mails returns exactly one");
    let rest = store
        .claim_outbox(now1, lease1, 1000)
        .await
        .expect("claim rest");
    let claimed: Vec<OutboxMessage> = first.into_iter().chain(rest).collect();
    assert!(
        claimed
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "claims come oldest first"
    );
    let mine: Vec<OutboxId> = claimed
        .iter()
        .filter(|m| ours.contains(&m.id))
        .map(|m| m.id)
        .collect();
    assert_eq!(
        mine,
        [a.id, b.id, c.id],
        "exactly the due unsent mails, oldest first"
    );
    for m in claimed.iter().filter(|m| ours.contains(&m.id)) {
        assert_eq!(m.attempts, 1);
        assert_eq!(m.next_attempt_at, lease1);
        let stored = store
            .fetch_outbox(m.id)
            .await
            .expect("fetch")
            .expect("mail");
        assert!(&stored == m, "claim returns the mail as stored");
    }

    // Leased: not handed out again before the lease ends.
    let again = store
        .claim_outbox(now1, lease1, 1000)
        .await
        .expect("claim again");
    assert!(
        again.iter().all(|m| !ours.contains(&m.id)),
        "a leased mail was claimed"
    );

    // After the lease (and once `not_due` is due) they come back, attempts bumped.
    let now2 = base + Duration::minutes(11);
    let lease2 = base + Duration::minutes(20);
    let back = store
        .claim_outbox(now2, lease2, 1000)
        .await
        .expect("claim after lease");
    let mut back_ours: Vec<&OutboxMessage> = back.iter().filter(|m| ours.contains(&m.id)).collect();
    back_ours.sort_by_key(|m| m.created_at);
    let ids: Vec<OutboxId> = back_ours.iter().map(|m| m.id).collect();
    assert_eq!(ids, [not_due.id, a.id, b.id, c.id]);
    let attempts: Vec<u32> = back_ours.iter().map(|m| m.attempts).collect();
    assert_eq!(attempts, [1, 2, 2, 2]);
    assert!(back_ours.iter().all(|m| m.next_attempt_at == lease2));

    let untouched = store
        .fetch_outbox(sent.id)
        .await
        .expect("fetch")
        .expect("mail");
    assert!(untouched == sent, "a sent mail is never claimed");
    mark_sent(store, &ours, now2).await;
}

/// Four concurrent claimers never receive the same mail.
pub async fn concurrent_claims_disjoint(store: &dyn Store) {
    let _one_claimer = CLAIMS.lock().await;
    let base = random_past();
    let mails: Vec<OutboxMessage> = (0..10)
        .map(|i| mail_due(base + Duration::milliseconds(i), base))
        .collect();
    for m in &mails {
        store.insert_outbox(m).await.expect("insert");
    }
    let ours: HashSet<OutboxId> = mails.iter().map(|m| m.id).collect();
    let now1 = base + Duration::minutes(1);
    let lease = base + Duration::minutes(5);
    let results = join_all((0..4).map(|_| store.claim_outbox(now1, lease, 3))).await;

    let mut seen = HashSet::new();
    for r in results {
        let batch = r.expect("concurrent claim");
        assert!(batch.len() <= 3, "limit exceeded");
        for m in batch {
            assert!(seen.insert(m.id), "mail {:?} handed to two claimers", m.id);
        }
    }
    for m in &mails {
        let stored = store
            .fetch_outbox(m.id)
            .await
            .expect("fetch")
            .expect("mail");
        let expected = u32::from(seen.contains(&m.id));
        assert_eq!(
            stored.attempts, expected,
            "attempts match the number of claims"
        );
    }
    assert!(
        seen.iter().any(|id| ours.contains(id)),
        "nothing of ours was claimed"
    );
    let ids: Vec<OutboxId> = ours.into_iter().collect();
    mark_sent(store, &ids, now1).await;
}
