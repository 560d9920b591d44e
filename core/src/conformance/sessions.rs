//! [`SessionStore`](crate::ports::SessionStore) scenarios: sessions, refresh
//! token rotation, revocation, reset tokens and expiry.

use futures_util::future::join_all;
use time::Duration;

use super::fixtures::{
    self as fx, assert_conflict, assert_foreign_key, assert_not_found, insert_session, now,
};
use crate::domain::{RefreshToken, RotateOutcome, SessionId, TokenId};
use crate::ports::Store;

/// A password session with its first refresh token and a visitor session without one round-trip.
pub async fn insert_session_roundtrip(store: &dyn Store) {
    let t = now();
    let u = fx::insert_user(store, t).await;
    let s = fx::session(u.id, t);
    let rt = fx::refresh_token(&s, t);
    store
        .insert_session(&s, Some(&rt))
        .await
        .expect("insert password session");
    let v = fx::visitor_session(u.id, t);
    store
        .insert_session(&v, None)
        .await
        .expect("insert visitor session");

    assert_eq!(
        store.fetch_session(s.id).await.expect("fetch"),
        Some(s.clone())
    );
    assert_eq!(store.fetch_session(v.id).await.expect("fetch"), Some(v));
    assert_eq!(
        store.fetch_refresh_token(rt.id).await.expect("fetch token"),
        Some(rt)
    );
    assert_eq!(
        store
            .fetch_session(SessionId(uuid::Uuid::now_v7()))
            .await
            .expect("unknown"),
        None
    );
    assert_eq!(
        store
            .fetch_refresh_token(TokenId(uuid::Uuid::now_v7()))
            .await
            .expect("unknown"),
        None
    );

    // A revoked session round-trips its revocation fields too.
    let t1 = t + Duration::seconds(1);
    assert!(
        store
            .revoke_session(s.id, t1, "logout")
            .await
            .expect("revoke")
    );
    let mut revoked = s.clone();
    revoked.revoked_at = Some(t1);
    revoked.revoke_reason = Some("logout".to_owned());
    assert_eq!(
        store.fetch_session(s.id).await.expect("fetch"),
        Some(revoked)
    );
}

/// A session of an unknown user is a ForeignKey error and stores nothing.
pub async fn insert_session_unknown_user_foreign_key(store: &dyn Store) {
    let t = now();
    let s = fx::session(fx::user_id(), t);
    let rt = fx::refresh_token(&s, t);
    assert_foreign_key(store.insert_session(&s, Some(&rt)).await);
    assert_eq!(store.fetch_session(s.id).await.expect("fetch"), None);
    assert_eq!(store.fetch_refresh_token(rt.id).await.expect("fetch"), None);

    let v = fx::visitor_session(fx::user_id(), t);
    assert_foreign_key(store.insert_session(&v, None).await);
    assert_eq!(store.fetch_session(v.id).await.expect("fetch"), None);
}

/// Rotating a current token stores the successor; presenting the old one again is
/// `Reused` and revokes the session with reason `refresh_token_reused`.
pub async fn rotate_then_reuse_revokes_session(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let (s, old) = insert_session(store, u.id, t0).await;

    let t1 = t0 + Duration::seconds(1);
    let next = fx::refresh_token(&s, t1);
    let out = store
        .rotate_refresh_token(old.id, &next, t1)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::Rotated);
    let mut rotated = old.clone();
    rotated.rotated_at = Some(t1);
    assert_eq!(
        store.fetch_refresh_token(old.id).await.expect("fetch"),
        Some(rotated)
    );
    assert_eq!(
        store.fetch_refresh_token(next.id).await.expect("fetch"),
        Some(next.clone())
    );
    assert_eq!(
        store.fetch_session(s.id).await.expect("fetch"),
        Some(s.clone()),
        "rotation leaves the session alone"
    );

    // The successor rotates in turn.
    let t2 = t0 + Duration::seconds(2);
    let next2 = fx::refresh_token(&s, t2);
    let out = store
        .rotate_refresh_token(next.id, &next2, t2)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::Rotated);

    // Theft: the first token again.
    let t3 = t0 + Duration::seconds(3);
    let thief = fx::refresh_token(&s, t3);
    let out = store
        .rotate_refresh_token(old.id, &thief, t3)
        .await
        .expect("reuse");
    assert_eq!(
        out,
        RotateOutcome::Reused {
            session_id: s.id,
            user_id: u.id
        }
    );
    assert_eq!(
        store.fetch_refresh_token(thief.id).await.expect("fetch"),
        None
    );
    let got = store
        .fetch_session(s.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoked_at, Some(t3));
    assert_eq!(got.revoke_reason.as_deref(), Some("refresh_token_reused"));

    // The legitimate holder's current token no longer rotates.
    let t4 = t0 + Duration::seconds(4);
    let late = fx::refresh_token(&s, t4);
    let out = store
        .rotate_refresh_token(next2.id, &late, t4)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::SessionInactive);
    assert_eq!(
        store.fetch_refresh_token(late.id).await.expect("fetch"),
        None
    );
    let cur = store
        .fetch_refresh_token(next2.id)
        .await
        .expect("fetch")
        .expect("token");
    assert_eq!(cur.rotated_at, None);
}

/// Rotating an unknown token is NotFound.
pub async fn rotate_unknown_not_found(store: &dyn Store) {
    let t = now();
    let u = fx::insert_user(store, t).await;
    let s = fx::session(u.id, t);
    let successor = fx::refresh_token(&s, t);
    assert_not_found(
        store
            .rotate_refresh_token(TokenId(uuid::Uuid::now_v7()), &successor, t)
            .await,
    );
}

/// Rotation on a revoked or expired session is `SessionInactive` and changes nothing.
pub async fn rotate_inactive_session(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;

    // Revoked.
    let (s, tok) = insert_session(store, u.id, t0).await;
    assert!(
        store
            .revoke_session(s.id, t0, "logout")
            .await
            .expect("revoke")
    );
    let next = fx::refresh_token(&s, t0);
    let out = store
        .rotate_refresh_token(tok.id, &next, t0)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::SessionInactive);
    assert_eq!(
        store.fetch_refresh_token(tok.id).await.expect("fetch"),
        Some(tok)
    );
    assert_eq!(
        store.fetch_refresh_token(next.id).await.expect("fetch"),
        None
    );
    let got = store
        .fetch_session(s.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoke_reason.as_deref(), Some("logout"));

    // Expired: `now` at the session's hard end.
    let (s, tok) = insert_session(store, u.id, t0).await;
    let at_end = s.expires_at;
    let next = fx::refresh_token(&s, at_end);
    let out = store
        .rotate_refresh_token(tok.id, &next, at_end)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::SessionInactive);
    assert_eq!(
        store.fetch_refresh_token(tok.id).await.expect("fetch"),
        Some(tok.clone())
    );
    assert_eq!(
        store.fetch_refresh_token(next.id).await.expect("fetch"),
        None
    );
    assert_eq!(
        store.fetch_session(s.id).await.expect("fetch"),
        Some(s.clone())
    );

    // One millisecond before the end it still rotates.
    let before_end = at_end - Duration::milliseconds(1);
    let next = fx::refresh_token(&s, before_end);
    let out = store
        .rotate_refresh_token(tok.id, &next, before_end)
        .await
        .expect("rotate");
    assert_eq!(out, RotateOutcome::Rotated);
}

/// Eight concurrent rotations of one token: exactly one `Rotated`, the others `Reused`,
/// only the winner's successor stored, and the session ends revoked.
pub async fn rotate_race_exactly_one_wins(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let (s, old) = insert_session(store, u.id, t0).await;
    let t1 = t0 + Duration::seconds(1);
    let successors: Vec<RefreshToken> = (0..8).map(|_| fx::refresh_token(&s, t1)).collect();
    let outcomes = join_all(
        successors
            .iter()
            .map(|next| store.rotate_refresh_token(old.id, next, t1)),
    )
    .await;

    let mut winners = Vec::new();
    for (next, out) in successors.iter().zip(outcomes) {
        match out.expect("rotate") {
            RotateOutcome::Rotated => winners.push(next.clone()),
            RotateOutcome::Reused {
                session_id,
                user_id,
            } => {
                assert_eq!((session_id, user_id), (s.id, u.id));
            }
            RotateOutcome::SessionInactive => panic!("a racer saw SessionInactive"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent rotation wins");
    for next in &successors {
        let stored = store.fetch_refresh_token(next.id).await.expect("fetch");
        if next.id == winners[0].id {
            assert_eq!(stored.as_ref(), Some(next));
        } else {
            assert_eq!(stored, None, "a loser's successor was stored");
        }
    }
    let got = store
        .fetch_session(s.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoked_at, Some(t1));
    assert_eq!(got.revoke_reason.as_deref(), Some("refresh_token_reused"));
}

/// `revoke_session` is true once, false afterwards (keeping the first reason), false when unknown.
pub async fn revoke_session_once(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let (s, _) = insert_session(store, u.id, t0).await;
    let t1 = t0 + Duration::seconds(1);
    assert!(
        store
            .revoke_session(s.id, t1, "logout")
            .await
            .expect("revoke")
    );
    let t2 = t0 + Duration::seconds(2);
    assert!(
        !store
            .revoke_session(s.id, t2, "admin")
            .await
            .expect("revoke again")
    );
    let got = store
        .fetch_session(s.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoked_at, Some(t1));
    assert_eq!(got.revoke_reason.as_deref(), Some("logout"));
    assert!(
        !store
            .revoke_session(SessionId(uuid::Uuid::now_v7()), t1, "logout")
            .await
            .expect("revoke unknown")
    );
}

/// `revoke_user_sessions` revokes the user's unrevoked sessions except `keep` and counts them.
pub async fn revoke_user_sessions_keep(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let other = fx::insert_user(store, t0).await;
    let (keep, _) = insert_session(store, u.id, t0).await;
    let (a, _) = insert_session(store, u.id, t0).await;
    let (b, _) = insert_session(store, u.id, t0).await;
    let (old, _) = insert_session(store, u.id, t0).await;
    let (foreign, _) = insert_session(store, other.id, t0).await;
    assert!(
        store
            .revoke_session(old.id, t0, "logout")
            .await
            .expect("revoke")
    );

    let t1 = t0 + Duration::seconds(1);
    let n = store
        .revoke_user_sessions(u.id, Some(keep.id), t1, "password_changed")
        .await
        .expect("revoke all but keep");
    assert_eq!(n, 2);
    for s in [&a, &b] {
        let got = store
            .fetch_session(s.id)
            .await
            .expect("fetch")
            .expect("session");
        assert_eq!(got.revoked_at, Some(t1));
        assert_eq!(got.revoke_reason.as_deref(), Some("password_changed"));
    }
    assert_eq!(
        store.fetch_session(keep.id).await.expect("fetch"),
        Some(keep.clone())
    );
    assert_eq!(
        store.fetch_session(foreign.id).await.expect("fetch"),
        Some(foreign)
    );
    let got = store
        .fetch_session(old.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoke_reason.as_deref(), Some("logout"));

    let n = store
        .revoke_user_sessions(u.id, Some(keep.id), t1, "again")
        .await
        .expect("again");
    assert_eq!(n, 0);
    let n = store
        .revoke_user_sessions(u.id, None, t1, "logout_all")
        .await
        .expect("all");
    assert_eq!(n, 1);
    let got = store
        .fetch_session(keep.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got.revoke_reason.as_deref(), Some("logout_all"));
    let n = store
        .revoke_user_sessions(fx::user_id(), None, t1, "nobody")
        .await
        .expect("unknown user");
    assert_eq!(n, 0);
}

/// A reset token and its mail are stored together and round-trip.
pub async fn reset_token_roundtrip_with_mail(store: &dyn Store) {
    let t = now();
    let u = fx::insert_user(store, t).await;
    let tok = fx::reset_token(u.id, t);
    let mail = fx::mail(t);
    store.insert_reset_token(&tok, &mail).await.expect("insert");
    assert_eq!(
        store.fetch_reset_token(tok.id).await.expect("fetch"),
        Some(tok)
    );
    assert_eq!(
        store.fetch_outbox(mail.id).await.expect("fetch mail"),
        Some(mail)
    );
    assert_eq!(
        store
            .fetch_reset_token(TokenId(uuid::Uuid::now_v7()))
            .await
            .expect("unknown"),
        None
    );
}

/// A reset token of an unknown user is a ForeignKey error; neither token nor mail is stored.
pub async fn reset_token_unknown_user_foreign_key(store: &dyn Store) {
    let t = now();
    let tok = fx::reset_token(fx::user_id(), t);
    let mail = fx::mail(t);
    assert_foreign_key(store.insert_reset_token(&tok, &mail).await);
    assert_eq!(store.fetch_reset_token(tok.id).await.expect("fetch"), None);
    assert_eq!(store.fetch_outbox(mail.id).await.expect("fetch mail"), None);
}

/// Using a reset token sets the password (version+1), marks it used, revokes every
/// session with reason `password_reset`; a second use is a Conflict.
pub async fn reset_token_use(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let other = fx::insert_user(store, t0).await;
    let (s1, _) = insert_session(store, u.id, t0).await;
    let (s2, _) = insert_session(store, u.id, t0).await;
    let (so, _) = insert_session(store, other.id, t0).await;
    let tok = fx::reset_token(u.id, t0);
    store
        .insert_reset_token(&tok, &fx::mail(t0))
        .await
        .expect("insert");

    let t1 = t0 + Duration::minutes(5);
    let who = store
        .update_reset_token_used(tok.id, "$argon2id$new-hash", t1)
        .await
        .expect("use");
    assert_eq!(who, u.id);
    let mut expected = u.clone();
    expected.password_hash = Some("$argon2id$new-hash".to_owned());
    expected.version = u.version + 1;
    expected.updated_at = t1;
    assert_eq!(
        store.fetch_user(u.id).await.expect("fetch"),
        Some(expected.clone())
    );
    let mut used = tok.clone();
    used.used_at = Some(t1);
    assert_eq!(
        store.fetch_reset_token(tok.id).await.expect("fetch"),
        Some(used.clone())
    );
    for s in [&s1, &s2] {
        let got = store
            .fetch_session(s.id)
            .await
            .expect("fetch")
            .expect("session");
        assert_eq!(got.revoked_at, Some(t1));
        assert_eq!(got.revoke_reason.as_deref(), Some("password_reset"));
    }
    assert_eq!(store.fetch_session(so.id).await.expect("fetch"), Some(so));

    let t2 = t0 + Duration::minutes(6);
    assert_conflict(
        store
            .update_reset_token_used(tok.id, "$argon2id$other", t2)
            .await,
    );
    assert_eq!(store.fetch_user(u.id).await.expect("fetch"), Some(expected));
    assert_eq!(
        store.fetch_reset_token(tok.id).await.expect("fetch"),
        Some(used)
    );
}

/// A reset token used at or after `expires_at` is a Conflict and changes nothing;
/// one millisecond before, it works.
pub async fn reset_token_expired_conflict(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let (s, _) = insert_session(store, u.id, t0).await;
    let tok = fx::reset_token(u.id, t0);
    store
        .insert_reset_token(&tok, &fx::mail(t0))
        .await
        .expect("insert");

    assert_conflict(
        store
            .update_reset_token_used(tok.id, "$argon2id$late", tok.expires_at)
            .await,
    );
    assert_eq!(
        store.fetch_user(u.id).await.expect("fetch"),
        Some(u.clone())
    );
    assert_eq!(
        store.fetch_reset_token(tok.id).await.expect("fetch"),
        Some(tok.clone())
    );
    assert_eq!(store.fetch_session(s.id).await.expect("fetch"), Some(s));

    let just_in_time = tok.expires_at - Duration::milliseconds(1);
    let who = store
        .update_reset_token_used(tok.id, "$argon2id$in-time", just_in_time)
        .await
        .expect("use just in time");
    assert_eq!(who, u.id);
}

/// Using an unknown reset token is NotFound.
pub async fn reset_token_unknown_not_found(store: &dyn Store) {
    assert_not_found(
        store
            .update_reset_token_used(TokenId(uuid::Uuid::now_v7()), "$argon2id$x", now())
            .await,
    );
}

/// `delete_expired_tokens` deletes refresh and reset tokens with `expires_at < now`, and only those.
pub async fn delete_expired_tokens(store: &dyn Store) {
    let t = now();
    let u = fx::insert_user(store, t).await;
    let s = fx::session(u.id, t - Duration::hours(2));
    let mut expired_refresh = fx::refresh_token(&s, t - Duration::hours(2));
    expired_refresh.expires_at = t - Duration::hours(1);
    store
        .insert_session(&s, Some(&expired_refresh))
        .await
        .expect("insert session");
    // A live token in a second session of the same user.
    let s2 = fx::session(u.id, t);
    let live_refresh = fx::refresh_token(&s2, t);
    store
        .insert_session(&s2, Some(&live_refresh))
        .await
        .expect("insert session");

    let mut expired_reset = fx::reset_token(u.id, t - Duration::hours(3));
    expired_reset.expires_at = t - Duration::hours(2);
    store
        .insert_reset_token(&expired_reset, &fx::mail(t))
        .await
        .expect("insert reset");
    let live_reset = fx::reset_token(u.id, t);
    store
        .insert_reset_token(&live_reset, &fx::mail(t))
        .await
        .expect("insert reset");

    let n = store.delete_expired_tokens(t).await.expect("delete");
    // Other runs sharing the database may contribute expired rows too (and
    // only another run of this very scenario could take ours first).
    assert!(n >= 2, "deleted {n}, expected at least 2");
    assert_eq!(
        store
            .fetch_refresh_token(expired_refresh.id)
            .await
            .expect("fetch"),
        None
    );
    assert_eq!(
        store
            .fetch_reset_token(expired_reset.id)
            .await
            .expect("fetch"),
        None
    );
    assert_eq!(
        store
            .fetch_refresh_token(live_refresh.id)
            .await
            .expect("fetch"),
        Some(live_refresh)
    );
    assert_eq!(
        store.fetch_reset_token(live_reset.id).await.expect("fetch"),
        Some(live_reset)
    );
    assert!(
        store.fetch_session(s.id).await.expect("fetch").is_some(),
        "sessions stay"
    );
}
