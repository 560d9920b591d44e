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
