//! Profiles, email changes, agent settings and the audit trail they leave.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{AuditAction, AuditFilter, Availability, Role};
use neurochat_core::events::{Event, Topic};
use neurochat_core::ports::Delivery;
use neurochat_protocol::v1::ErrorCode;
use support::{PASSWORD, ctx, env};

#[tokio::test]
async fn email_change_needs_the_password_and_a_free_address() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("uma@example.com").await;
    env.register("taken@example.com").await;
    let p = env.principal(&s).await;
    let d = &env.desk;
    assert_eq!(
        d.change_email(&p, "new@example.com", "wrong password", &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidCredentials
    );
    assert_eq!(
        d.change_email(&p, "TAKEN@example.com", PASSWORD, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::EmailTaken
    );
    let err = d
        .change_email(&p, "not an email", "", &ctx())
        .await
        .unwrap_err();
    let fields: Vec<_> = err.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["new_email", "password"]);
    let u = d
        .change_email(&p, "Uma.New@Example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    assert_eq!(u.email_normalized.as_deref(), Some("uma.new@example.com"));
    d.login("uma.new@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    assert_eq!(
        d.login("uma@example.com", PASSWORD, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidCredentials
    );
    let audit = d
        .list_audit(
            &admin,
            AuditFilter {
                action: Some(AuditAction::EmailChanged),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, Some(s.user.id));
}

#[tokio::test]
async fn profile_changes_are_validated_and_stored() {
    let env = env();
    let s = env.register("vic@example.com").await;
    let p = env.principal(&s).await;
    let err = env
        .desk
        .update_profile(&p, s.user.id, &"v".repeat(81))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "display_name");
    env.desk
        .update_profile(&p, s.user.id, "  Victoria ")
        .await
        .unwrap();
    let u = env.desk.get_user(&p, s.user.id).await.unwrap();
    assert_eq!(u.display_name, "Victoria");
    assert_eq!(u.version, s.user.version + 1);
}

#[tokio::test]
async fn agent_settings_are_stored_and_availability_is_published() {
    let env = env();
    let (_, admin) = env.admin().await;
    let (_, agent) = env.with_role(&admin, "wes@example.com", Role::Agent).await;
    let mut presence = env.desk.bus().subscribe(Topic::Presence).await.unwrap();
    let u = env
        .desk
        .set_agent_settings(&agent, agent.user_id(), Some(Availability::Online), Some(7))
        .await
        .unwrap();
    assert_eq!((u.availability, u.capacity), (Availability::Online, 7));
    let stored = env.desk.get_user(&admin, agent.user_id()).await.unwrap();
    assert_eq!(
        (stored.availability, stored.capacity),
        (Availability::Online, 7)
    );
    let next = futures_util::StreamExt::next(&mut presence).await;
    assert_eq!(
        next,
        Some(Delivery::Event(Event::AvailabilityChanged {
            user_id: agent.user_id(),
            availability: Availability::Online
        }))
    );
}

#[tokio::test]
async fn logout_and_session_revocations_are_audited_and_published() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("xia@example.com").await;
    let p = env.principal(&s).await;
    let mut mine = env
        .desk
        .bus()
        .subscribe(Topic::User(s.user.id))
        .await
        .unwrap();
    env.desk.logout(&p, &ctx()).await.unwrap();
    assert_eq!(
        futures_util::StreamExt::next(&mut mine).await,
        Some(Delivery::Event(Event::SessionsRevoked {
            user_id: s.user.id,
            session_id: Some(s.tokens.session_id)
        }))
    );
    let audit = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                actor_id: Some(s.user.id),
                action: Some(AuditAction::Logout),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].source_ip.as_deref(), Some("203.0.113.7"));
    // Time-range filter: nothing after now.
    let later = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                from: Some(env.desk.now() + time::Duration::seconds(1)),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(later.is_empty());
}

/// The staff directory: staff (agents and admins) see every enabled agent
/// and admin with their settings and open load; customers are refused;
/// disabled staff and customers are not listed.
#[tokio::test]
async fn staff_directory_lists_enabled_staff_with_their_load() {
    use neurochat_core::domain::TicketStatus;

    let env = env();
    let (_, admin) = env.admin().await;
    let ana = env.agent(&admin, "ana@example.com").await;
    let bob = env.agent(&admin, "bob@example.com").await;
    let gone = env.agent(&admin, "gone@example.com").await;
    let customer = env.customer("cara@example.com").await;
    env.desk
        .set_agent_settings(&bob, bob.user_id(), Some(Availability::Away), Some(3))
        .await
        .unwrap();
    env.desk
        .set_disabled(&admin, gone.user_id(), true, &ctx())
        .await
        .unwrap();
    // Bob: two open tickets and a resolved one; Ana: none.
    for (subject, status) in [
        ("One", None),
        ("Two", Some(TicketStatus::InProgress)),
        ("Three", Some(TicketStatus::Resolved)),
    ] {
        let t = env.open_ticket(&customer, subject).await;
        env.desk
            .assign_ticket(&admin, t.id, Some(bob.user_id()), &ctx())
            .await
            .unwrap();
        if let Some(s) = status {
            env.desk
                .set_ticket_status(&bob, t.id, s, &ctx())
                .await
                .unwrap();
        }
    }

    for viewer in [&ana, &admin] {
        let loads = env.desk.list_agents(viewer).await.unwrap();
        let ids: Vec<_> = loads.iter().map(|l| l.user.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "by id");
        assert_eq!(loads.len(), 3, "admin, Ana, Bob: {ids:?}");
        for who in [&admin, &ana, &bob] {
            assert!(ids.contains(&who.user_id()));
        }
        assert!(!ids.contains(&gone.user_id()), "disabled staff are absent");
        assert!(!ids.contains(&customer.user_id()), "customers are absent");
        let bob_row = loads.iter().find(|l| l.user.id == bob.user_id()).unwrap();
        assert_eq!(bob_row.open_tickets, 2);
        assert_eq!(bob_row.user.role, Role::Agent);
        assert_eq!(
            (bob_row.user.availability, bob_row.user.capacity),
            (Availability::Away, 3)
        );
        let ana_row = loads.iter().find(|l| l.user.id == ana.user_id()).unwrap();
        assert_eq!(ana_row.open_tickets, 0);
        let admin_row = loads.iter().find(|l| l.user.id == admin.user_id()).unwrap();
        assert_eq!(admin_row.user.role, Role::Admin);
    }
    assert_eq!(
        env.desk.list_agents(&customer).await.unwrap_err().code(),
        ErrorCode::Forbidden
    );
}
