//! [`UserStore`](crate::ports::UserStore) scenarios.

use futures_util::future::join_all;
use time::Duration;

use super::fixtures::{
    self as fx, assert_conflict, assert_not_found, assert_unique, insert_session, now, tag,
};
use crate::domain::{
    AgentLoad, AuditAction, AuditFilter, Availability, Role, TicketFilter, TicketStatus, User,
    UserFilter, UserId,
};
use crate::ports::{Store, StoreError};

/// A user with every optional field set and one with none round-trip through insert and every fetch.
pub async fn insert_fetch_roundtrip(store: &dyn Store) {
    let t = now();
    let full = fx::user_full(t);
    let bare = fx::visitor(t);
    store.insert_user(&full).await.expect("insert full user");
    store.insert_user(&bare).await.expect("insert bare user");

    assert_eq!(
        store.fetch_user(full.id).await.expect("fetch"),
        Some(full.clone())
    );
    assert_eq!(
        store.fetch_user(bare.id).await.expect("fetch"),
        Some(bare.clone())
    );
    let email = full.email_normalized.clone().expect("fixture has an email");
    assert_eq!(
        store.fetch_user_by_email(&email).await.expect("by email"),
        Some(full.clone())
    );
    let ext = full
        .external_id
        .clone()
        .expect("fixture has an external id");
    assert_eq!(
        store
            .fetch_user_by_external_id(&ext)
            .await
            .expect("by external id"),
        Some(full.clone())
    );

    assert_eq!(
        store
            .fetch_user(fx::user_id())
            .await
            .expect("fetch unknown"),
        None
    );
    let unknown = format!("nobody-{}@example.com", tag());
    assert_eq!(
        store
            .fetch_user_by_email(&unknown)
            .await
            .expect("unknown email"),
        None
    );
    assert_eq!(
        store
            .fetch_user_by_external_id(&tag())
            .await
            .expect("unknown external id"),
        None
    );
}

/// Two emails differing only in case collide on `users.email`; the loser is not stored.
pub async fn insert_duplicate_email_case_insensitive(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let mut a = fx::user(t);
    a.email = Some(format!("A-{tg}@X.com"));
    a.email_normalized = Some(format!("a-{tg}@x.com"));
    store.insert_user(&a).await.expect("insert first");

    let mut b = fx::user(t);
    b.email = Some(format!("a-{tg}@x.com"));
    b.email_normalized = Some(format!("a-{tg}@x.com"));
    assert_unique(store.insert_user(&b).await, "users.email");
    assert_eq!(store.fetch_user(b.id).await.expect("fetch loser"), None);
    assert_eq!(
        store
            .fetch_user_by_email(&format!("a-{tg}@x.com"))
            .await
            .expect("by email"),
        Some(a)
    );
}

/// A second user with the same external id violates `users.external_id`.
pub async fn insert_duplicate_external_id(store: &dyn Store) {
    let t = now();
    let ext = format!("ext-{}", tag());
    let mut a = fx::user(t);
    a.external_id = Some(ext.clone());
    store.insert_user(&a).await.expect("insert first");
    let mut b = fx::user(t);
    b.external_id = Some(ext.clone());
    assert_unique(store.insert_user(&b).await, "users.external_id");
    assert_eq!(store.fetch_user(b.id).await.expect("fetch loser"), None);
}

/// Inserting the same user twice is a unique violation (whichever constraint is named).
pub async fn insert_duplicate_id(store: &dyn Store) {
    let u = fx::insert_user(store, now()).await;
    match store.insert_user(&u).await {
        Err(StoreError::UniqueViolation { .. }) => {}
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
}

/// Many users may have no email and no external id (NULLs are not unique).
pub async fn null_keys_not_unique(store: &dyn Store) {
    let t = now();
    for _ in 0..3 {
        let v = fx::visitor(t);
        store
            .insert_user(&v)
            .await
            .expect("insert visitor without keys");
        assert_eq!(store.fetch_user(v.id).await.expect("fetch"), Some(v));
    }
}

/// `update_user` replaces every field (Options set and cleared) and moves the email key.
pub async fn update_roundtrip(store: &dyn Store) {
    let t = now();
    let before = fx::user_full(t);
    store.insert_user(&before).await.expect("insert");
    let old_email = before.email_normalized.clone().expect("email");
    let old_ext = before.external_id.clone().expect("external id");

    let tg = tag();
    let mut after = before.clone();
    after.email = Some(format!("New-{tg}@Example.com"));
    after.email_normalized = Some(format!("new-{tg}@example.com"));
    after.display_name = format!("Renamed {tg}");
    after.password_hash = None;
    after.role = Role::Customer;
    after.disabled = true;
    after.external_id = None;
    after.verified = false;
    after.contact_email = None;
    after.availability = Availability::Away;
    after.capacity = 0;
    after.updated_at = t + Duration::seconds(5);
    after.version = before.version + 1;
    store
        .update_user(&after, before.version)
        .await
        .expect("update with current version");
    assert_eq!(
        store.fetch_user(after.id).await.expect("fetch"),
        Some(after.clone())
    );
    assert_eq!(
        store
            .fetch_user_by_email(&old_email)
            .await
            .expect("old email"),
        None
    );
    assert_eq!(
        store
            .fetch_user_by_external_id(&old_ext)
            .await
            .expect("old ext"),
        None
    );
    assert_eq!(
        store
            .fetch_user_by_email(&format!("new-{tg}@example.com"))
            .await
            .expect("new email"),
        Some(after.clone())
    );

    // Set the optional fields again, keeping the (own) email: no self-collision.
    let mut again = after.clone();
    again.password_hash = Some("$argon2id$v=19$new".to_owned());
    again.external_id = Some(format!("ext-{}", tag()));
    again.contact_email = Some(format!("c-{}@example.org", tag()));
    again.version = after.version + 1;
    store
        .update_user(&again, after.version)
        .await
        .expect("second update");
    assert_eq!(
        store.fetch_user(again.id).await.expect("fetch"),
        Some(again)
    );
}

/// `update_user` with a stale expected version is a Conflict and changes nothing.
pub async fn update_stale_version_conflicts(store: &dyn Store) {
    let u = fx::insert_user(store, now()).await;
    let mut v2 = u.clone();
    v2.display_name = format!("v2 {}", tag());
    v2.version = 2;
    store.update_user(&v2, 1).await.expect("first update");

    let mut stale = u.clone();
    stale.display_name = format!("stale {}", tag());
    stale.version = 2;
    assert_conflict(store.update_user(&stale, 1).await);
    assert_eq!(store.fetch_user(u.id).await.expect("fetch"), Some(v2));
}

/// `update_user` and `update_user_disabled` on an unknown id are NotFound.
pub async fn update_unknown_not_found(store: &dyn Store) {
    let mut u = fx::user(now());
    u.version = 2;
    assert_not_found(store.update_user(&u, 1).await);
    assert_not_found(store.update_user_disabled(u.id, true, now()).await);
    assert_eq!(store.fetch_user(u.id).await.expect("fetch"), None);
}

/// `update_user` onto another user's email or external id is a unique violation.
pub async fn update_unique_violations(store: &dyn Store) {
    let t = now();
    let mut a = fx::user(t);
    a.external_id = Some(format!("ext-{}", tag()));
    store.insert_user(&a).await.expect("insert a");
    let b = fx::insert_user(store, t).await;

    let mut b_email = b.clone();
    b_email.email = a.email.as_deref().map(str::to_uppercase);
    b_email.email_normalized = a.email_normalized.clone();
    b_email.version = 2;
    assert_unique(store.update_user(&b_email, 1).await, "users.email");

    let mut b_ext = b.clone();
    b_ext.external_id = a.external_id.clone();
    b_ext.version = 2;
    assert_unique(store.update_user(&b_ext, 1).await, "users.external_id");

    assert_eq!(store.fetch_user(b.id).await.expect("fetch"), Some(b));
}

/// Eight concurrent updates expecting the same version: exactly one wins, the rest Conflict.
pub async fn update_concurrent_one_wins(store: &dyn Store) {
    let u = fx::insert_user(store, now()).await;
    let candidates: Vec<User> = (0..8)
        .map(|i| {
            let mut c = u.clone();
            c.display_name = format!("candidate {i} {}", tag());
            c.version = u.version + 1;
            c
        })
        .collect();
    let results = join_all(candidates.iter().map(|c| store.update_user(c, u.version))).await;
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
    assert_eq!(store.fetch_user(u.id).await.expect("fetch"), Some(winner));
}

/// Disabling bumps version/updated_at and revokes only the user's unrevoked sessions
/// (reason `disabled`); enabling bumps again and leaves sessions revoked.
pub async fn disable_revokes_sessions(store: &dyn Store) {
    let t0 = now();
    let u = fx::insert_user(store, t0).await;
    let other = fx::insert_user(store, t0).await;
    let (s1, _) = insert_session(store, u.id, t0).await;
    let (s2, _) = insert_session(store, u.id, t0).await;
    let (s3, _) = insert_session(store, u.id, t0).await;
    let (so, _) = insert_session(store, other.id, t0).await;
    let t_logout = t0 + Duration::seconds(1);
    assert!(
        store
            .revoke_session(s3.id, t_logout, "logout")
            .await
            .expect("logout")
    );

    let t1 = t0 + Duration::seconds(10);
    let disabled = store
        .update_user_disabled(u.id, true, t1)
        .await
        .expect("disable");
    let mut expected = u.clone();
    expected.disabled = true;
    expected.version = u.version + 1;
    expected.updated_at = t1;
    assert_eq!(disabled, expected);
    assert_eq!(
        store.fetch_user(u.id).await.expect("fetch"),
        Some(expected.clone())
    );

    for s in [&s1, &s2] {
        let got = store
            .fetch_session(s.id)
            .await
            .expect("fetch")
            .expect("session");
        assert_eq!(got.revoked_at, Some(t1));
        assert_eq!(got.revoke_reason.as_deref(), Some("disabled"));
    }
    let got = store
        .fetch_session(s3.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(
        got.revoked_at,
        Some(t_logout),
        "an earlier revocation is kept"
    );
    assert_eq!(got.revoke_reason.as_deref(), Some("logout"));
    let got = store
        .fetch_session(so.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(got, so, "another user's session is untouched");

    let t2 = t0 + Duration::seconds(20);
    let enabled = store
        .update_user_disabled(u.id, false, t2)
        .await
        .expect("enable");
    let mut expected2 = expected.clone();
    expected2.disabled = false;
    expected2.version = expected.version + 1;
    expected2.updated_at = t2;
    assert_eq!(enabled, expected2);
    let got = store
        .fetch_session(s1.id)
        .await
        .expect("fetch")
        .expect("session");
    assert_eq!(
        got.revoked_at,
        Some(t1),
        "enabling does not revive sessions"
    );
}

/// `list_users` finds by case-insensitive substring of email or display name and pages by id.
pub async fn list_users_search_paging(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let mut ids: Vec<UserId> = Vec::new();
    for i in 0..5 {
        let mut u = fx::user(t);
        if i % 2 == 0 {
            u.display_name = format!("Person {} {i}", tg.to_uppercase());
        } else {
            let email = format!("x{i}-{tg}@Example.com");
            u.email_normalized = Some(email.to_lowercase());
            u.email = Some(email);
        }
        store.insert_user(&u).await.expect("insert");
        ids.push(u.id);
    }
    // A user not matching the search.
    fx::insert_user(store, t).await;
    ids.sort();

    let search = |after: Option<UserId>, limit: u32, s: String| UserFilter {
        search: Some(s),
        after,
        limit,
        ..UserFilter::default()
    };
    let all = store
        .list_users(&search(None, 100, tg.clone()))
        .await
        .expect("list");
    assert_eq!(all.iter().map(|u| u.id).collect::<Vec<_>>(), ids);
    let upper = store
        .list_users(&search(None, 100, tg.to_uppercase()))
        .await
        .expect("list");
    assert_eq!(
        upper.iter().map(|u| u.id).collect::<Vec<_>>(),
        ids,
        "case-insensitive"
    );

    let mut seen = Vec::new();
    let mut after = None;
    for expected_len in [2, 2, 1, 0] {
        let page = store
            .list_users(&search(after, 2, tg.clone()))
            .await
            .expect("page");
        assert_eq!(page.len(), expected_len);
        seen.extend(page.iter().map(|u| u.id));
        after = page.last().map(|u| u.id).or(after);
    }
    assert_eq!(seen, ids);

    let one = store
        .list_users(&search(None, 100, format!("x1-{tg}@")))
        .await
        .expect("list");
    assert_eq!(one.len(), 1, "substring of the email");
}

/// `list_users` filters by role and disabled flag.
pub async fn list_users_filters(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let make = |role: Role, disabled: bool| {
        let mut u = fx::user(t);
        u.display_name = format!("{tg} {}", u.display_name);
        u.role = role;
        u.disabled = disabled;
        u
    };
    let customer = make(Role::Customer, false);
    let agent = make(Role::Agent, false);
    let disabled_agent = make(Role::Agent, true);
    for u in [&customer, &agent, &disabled_agent] {
        store.insert_user(u).await.expect("insert");
    }
    let list = |role: Option<Role>, disabled: Option<bool>| UserFilter {
        search: Some(tg.clone()),
        role,
        disabled,
        limit: 100,
        ..UserFilter::default()
    };
    let ids = |v: Vec<User>| {
        let mut ids: Vec<UserId> = v.into_iter().map(|u| u.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<UserId>| {
        v.sort();
        v
    };
    let got = ids(store
        .list_users(&list(Some(Role::Agent), None))
        .await
        .expect("list"));
    assert_eq!(got, sorted(vec![agent.id, disabled_agent.id]));
    let got = ids(store
        .list_users(&list(Some(Role::Agent), Some(false)))
        .await
        .expect("list"));
    assert_eq!(got, vec![agent.id]);
    let got = ids(store
        .list_users(&list(None, Some(true)))
        .await
        .expect("list"));
    assert_eq!(got, vec![disabled_agent.id]);
    let got = ids(store
        .list_users(&list(None, Some(false)))
        .await
        .expect("list"));
    assert_eq!(got, sorted(vec![customer.id, agent.id]));
    let got = ids(store
        .list_users(&list(Some(Role::Admin), None))
        .await
        .expect("list"));
    assert!(got.is_empty());
}

/// `list_users` search is a literal substring: `%` and `_` are not wildcards.
pub async fn list_users_search_is_literal(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let mut names = Vec::new();
    for n in ["100%off", "100xoff", "a_b", "axb"] {
        let mut u = fx::user(t);
        u.display_name = format!("{tg} {n}");
        store.insert_user(&u).await.expect("insert");
        names.push((n, u.id));
    }
    for (n, id) in &names {
        if n.contains('%') || n.contains('_') {
            let got = store
                .list_users(&UserFilter {
                    search: Some(format!("{tg} {n}")),
                    limit: 100,
                    ..UserFilter::default()
                })
                .await
                .expect("list");
            assert_eq!(
                got.iter().map(|u| u.id).collect::<Vec<_>>(),
                vec![*id],
                "{n}"
            );
        }
    }
}

/// `count_users_with_role` counts enabled users of that role only.
pub async fn count_users_with_role_counts_enabled(store: &dyn Store) {
    // The count spans the whole table, which other runs may change at the same
    // time: retry a few times; a wrong count fails every attempt.
    let t = now();
    let mut last = String::new();
    for _ in 0..5 {
        let before = store
            .count_users_with_role(Role::Admin)
            .await
            .expect("count");
        let mut admins = Vec::new();
        for disabled in [false, false, true] {
            let mut u = fx::user(t);
            u.role = Role::Admin;
            u.disabled = disabled;
            store.insert_user(&u).await.expect("insert admin");
            admins.push(u);
        }
        let after = store
            .count_users_with_role(Role::Admin)
            .await
            .expect("count");
        store
            .update_user_disabled(admins[0].id, true, t)
            .await
            .expect("disable");
        let after_disable = store
            .count_users_with_role(Role::Admin)
            .await
            .expect("count");
        // Leave nothing that counts for later runs.
        store
            .update_user_disabled(admins[1].id, true, t)
            .await
            .expect("disable");
        if after == before + 2 && after_disable == after - 1 {
            return;
        }
        last = format!(
            "before {before}, after inserting 2 enabled + 1 disabled admins {after}, after disabling one {after_disable}"
        );
    }
    panic!("count_users_with_role is wrong: {last}");
}

/// `list_agent_loads` lists every enabled agent and admin by user id with the number of
/// tickets assigned to them in `new` or `in_progress`; disabled staff and customers are
/// left out. (Other rows of a shared database may be listed too: only this scenario's
/// users are checked.)
pub async fn agent_loads_count_open_assigned(store: &dyn Store) {
    let t = now();
    let customer = fx::insert_user(store, t).await;
    let busy = fx::insert_agent(store, t).await;
    let idle = fx::insert_agent(store, t).await;
    let mut disabled = fx::user(t);
    disabled.role = Role::Agent;
    disabled.disabled = true;
    store.insert_user(&disabled).await.expect("insert agent");
    let mut admin = fx::user(t);
    admin.role = Role::Admin;
    store.insert_user(&admin).await.expect("insert admin");

    let mut resolvable = None;
    for (assignee, status) in [
        (busy.id, TicketStatus::New),
        (busy.id, TicketStatus::InProgress),
        (busy.id, TicketStatus::InProgress),
        (busy.id, TicketStatus::Resolved),
        (busy.id, TicketStatus::Closed),
        (admin.id, TicketStatus::InProgress),
        (admin.id, TicketStatus::Resolved),
        (disabled.id, TicketStatus::InProgress),
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.assignee_id = Some(assignee);
        tk.status = status;
        let stored = fx::insert_ticket_as(store, &tk).await;
        if assignee == busy.id && status == TicketStatus::InProgress {
            resolvable = Some(stored.id);
        }
    }
    let loads = |label: &'static str| async move {
        let loads = store.list_agent_loads().await.expect("agent loads");
        assert!(
            loads.windows(2).all(|w| w[0].user.id < w[1].user.id),
            "{label}: ordered by user id"
        );
        assert!(
            loads
                .iter()
                .all(|l| l.user.role.is_staff() && !l.user.disabled && l.open_tickets >= 0),
            "{label}: enabled staff only"
        );
        loads
    };
    let find = |loads: &[AgentLoad], id: UserId| loads.iter().find(|l| l.user.id == id).cloned();

    let got = loads("first").await;
    let load = find(&got, busy.id).expect("busy agent listed");
    assert_eq!(load.user, busy);
    assert_eq!(load.open_tickets, 3, "new and in_progress only");
    assert_eq!(find(&got, idle.id).map(|l| l.open_tickets), Some(0));
    let admin_load = find(&got, admin.id).expect("admin listed");
    assert_eq!(admin_load.user, admin);
    assert_eq!(admin_load.open_tickets, 1);
    assert_eq!(
        find(&got, disabled.id),
        None,
        "disabled agents are left out"
    );
    assert_eq!(find(&got, customer.id), None, "customers are left out");

    let id = resolvable.expect("an in-progress ticket");
    fx::modify_ticket(store, id, |tk| tk.status = TicketStatus::Resolved).await;
    let got = loads("after resolving one").await;
    assert_eq!(find(&got, busy.id).map(|l| l.open_tickets), Some(2));

    // Leave no enabled admin behind (see `count_users_with_role_counts_enabled`).
    store
        .update_user_disabled(admin.id, true, t)
        .await
        .expect("disable admin");
    let got = loads("after disabling the admin").await;
    assert_eq!(find(&got, admin.id), None);
}

/// `update_user_erased` anonymises the profile (id kept, disabled, version bumped), revokes
/// the active sessions with reason `erased`, replaces the bodies of the user's messages and
/// the subjects of the user's tickets (so a text search no longer finds the old words),
/// leaves other authors' messages and the audit log alone.
pub async fn erase_anonymises_user_and_content(store: &dyn Store) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    let mut user = fx::user(t);
    user.external_id = Some(format!("ext-{}", tag()));
    user.contact_email = Some(format!("c-{}@example.org", tag()));
    store.insert_user(&user).await.expect("insert user");
    let agent = fx::insert_agent(store, t).await;
    let (active, _) = insert_session(store, user.id, t).await;
    let (logged_out, _) = insert_session(store, user.id, t).await;
    assert!(
        store
            .revoke_session(logged_out.id, s(1), "logout")
            .await
            .expect("logout")
    );
    let (agent_session, _) = insert_session(store, agent.id, t).await;

    let (w_subject, w_body, w_reply) = (
        format!("subj{}", tag()),
        format!("body{}", tag()),
        format!("reply{}", tag()),
    );
    let mut tk = fx::ticket(user.id, t);
    tk.subject = format!("Help with {w_subject}");
    let mut first = fx::message(tk.id, user.id, t);
    first.body = format!("Please look at {w_body}");
    let (ticket, _) = store
        .insert_ticket_with_first_message(&tk, &first)
        .await
        .expect("insert ticket");
    let mut reply = fx::agent_message(ticket.id, agent.id, s(2));
    reply.body = format!("Looking into {w_reply}");
    store.insert_message(&reply).await.expect("reply");
    let mut again = fx::message(ticket.id, user.id, s(3));
    again.body = format!("Thanks, {w_body} again");
    store.insert_message(&again).await.expect("message");
    let entry = fx::audit(Some(user.id), AuditAction::LoginSucceeded, t);
    store.insert_audit(&entry).await.expect("audit");

    let placeholder = "[erased]";
    let at = s(10);
    store
        .update_user_erased(user.id, placeholder, at)
        .await
        .expect("erase");

    let mut expected = user.clone();
    expected.display_name = placeholder.to_owned();
    expected.email = None;
    expected.email_normalized = None;
    expected.contact_email = None;
    expected.external_id = None;
    expected.password_hash = None;
    expected.disabled = true;
    expected.version = user.version + 1;
    expected.updated_at = at;
    assert_eq!(
        store.fetch_user(user.id).await.expect("fetch"),
        Some(expected)
    );
    let email = user.email_normalized.clone().expect("fixture email");
    assert_eq!(
        store.fetch_user_by_email(&email).await.expect("by email"),
        None
    );
    let ext = user.external_id.clone().expect("external id");
    assert_eq!(
        store
            .fetch_user_by_external_id(&ext)
            .await
            .expect("by external id"),
        None
    );

    let session = |id| async move {
        store
            .fetch_session(id)
            .await
            .expect("fetch session")
            .expect("session")
    };
    let got = session(active.id).await;
    assert_eq!(
        (got.revoked_at, got.revoke_reason.as_deref()),
        (Some(at), Some("erased"))
    );
    let got = session(logged_out.id).await;
    assert_eq!(
        (got.revoked_at, got.revoke_reason.as_deref()),
        (Some(s(1)), Some("logout")),
        "an earlier revocation is kept"
    );
    assert_eq!(session(agent_session.id).await.revoked_at, None);

    let stored = store
        .fetch_ticket(ticket.id)
        .await
        .expect("fetch")
        .expect("ticket");
    assert_eq!(stored.subject, placeholder);
    let bodies: Vec<(i64, String)> = store
        .list_messages_after(ticket.id, 0, 100, true)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.seq, m.body))
        .collect();
    assert_eq!(
        bodies,
        vec![
            (1, placeholder.to_owned()),
            (2, reply.body.clone()),
            (3, placeholder.to_owned()),
        ]
    );

    let search = |text: String| TicketFilter {
        customer_id: Some(user.id),
        text: Some(text),
        include_internal: true,
        limit: 100,
        ..TicketFilter::default()
    };
    for gone in [&w_subject, &w_body] {
        assert!(
            store
                .list_tickets(&search(gone.clone()))
                .await
                .expect("search")
                .is_empty(),
            "{gone} still found"
        );
    }
    let found = store
        .list_tickets(&search(w_reply.clone()))
        .await
        .expect("search");
    assert_eq!(
        found.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ticket.id],
        "other authors' messages are kept"
    );

    let audit = store
        .list_audit(&AuditFilter {
            actor_id: Some(user.id),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit, vec![entry], "audit entries are kept");
}

/// Erasing an unknown user is NotFound.
pub async fn erase_unknown_not_found(store: &dyn Store) {
    assert_not_found(
        store
            .update_user_erased(fx::user_id(), "[erased]", now())
            .await,
    );
}
