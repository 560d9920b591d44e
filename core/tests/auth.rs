//! Registration, login, logout, refresh rotation and reuse detection,
//! password reset and change.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::Error;
use neurochat_core::domain::{AuditAction, AuditFilter, Role};
use neurochat_core::service::auth::Registration;
use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use support::{PASSWORD, ctx, env};
use time::Duration;

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

#[tokio::test]
async fn registration_validates_every_field_and_writes_nothing_on_error() {
    let env = env();
    let err = env
        .desk
        .register(
            Registration {
                email: "not-an-email".into(),
                password: "short".into(),
                display_name: "x".repeat(81),
            },
            &ctx(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    let fields: Vec<_> = err.violations().iter().map(|v| (v.field, v.code)).collect();
    assert_eq!(
        fields,
        [
            ("email", FieldErrorCode::InvalidFormat),
            ("password", FieldErrorCode::TooShort),
            ("display_name", FieldErrorCode::TooLong)
        ]
    );
    let body = err.to_body();
    assert_eq!(body.fields.as_ref().map(Vec::len), Some(3));

    for (email, password, name, field) in [
        ("", PASSWORD, "Ann", "email"),
        ("a@example.com", "", "Ann", "password"),
        ("a@example.com", &"p".repeat(129), "Ann", "password"),
        ("a@example.com", PASSWORD, "   ", "display_name"),
        ("a@example.com", PASSWORD, "tab\u{7}bell", "display_name"),
    ] {
        let err = env
            .desk
            .register(
                Registration {
                    email: email.into(),
                    password: password.into(),
                    display_name: name.into(),
                },
                &ctx(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.violations().len(), 1, "{field}");
        assert_eq!(err.violations()[0].field, field);
    }
    // Nothing was half-written: no such user can log in.
    assert_eq!(
        code(env.desk.login("a@example.com", PASSWORD, &ctx()).await),
        ErrorCode::InvalidCredentials
    );
}

#[tokio::test]
async fn email_is_normalised_and_unique_case_insensitively() {
    let env = env();
    let s = env.register("  Ann@Example.COM ").await;
    assert_eq!(s.user.email.as_deref(), Some("Ann@Example.COM"));
    assert_eq!(s.user.email_normalized.as_deref(), Some("ann@example.com"));
    assert_eq!(s.user.role, Role::Customer);
    let dup = env
        .desk
        .register(
            Registration {
                email: "ANN@example.com".into(),
                password: PASSWORD.into(),
                display_name: "Other".into(),
            },
            &ctx(),
        )
        .await;
    assert_eq!(code(dup), ErrorCode::EmailTaken);
    env.desk
        .login("ann@EXAMPLE.com", PASSWORD, &ctx())
        .await
        .unwrap();
}

#[tokio::test]
async fn login_failures_are_uniform_and_audited() {
    let env = env();
    let (_, admin) = env.admin().await;
    env.register("bob@example.com").await;
    assert_eq!(
        code(
            env.desk
                .login("bob@example.com", "wrong password", &ctx())
                .await
        ),
        ErrorCode::InvalidCredentials
    );
    assert_eq!(
        code(env.desk.login("nobody@example.com", PASSWORD, &ctx()).await),
        ErrorCode::InvalidCredentials
    );
    assert_eq!(
        code(
            env.desk
                .login("bob@example.com", &"x".repeat(10_000), &ctx())
                .await
        ),
        ErrorCode::InvalidCredentials
    );
    let err = env.desk.login("", "", &ctx()).await.unwrap_err();
    let fields: Vec<_> = err.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["email", "password"]);

    let ok = env
        .desk
        .login("bob@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    let filter = AuditFilter {
        action: Some(AuditAction::LoginFailed),
        ..AuditFilter::default()
    };
    let failed = env.desk.list_audit(&admin, filter).await.unwrap();
    assert_eq!(failed.len(), 3);
    assert!(
        failed
            .iter()
            .all(|e| e.source_ip.as_deref() == Some("203.0.113.7"))
    );
    let succeeded = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                actor_id: Some(ok.user.id),
                action: Some(AuditAction::LoginSucceeded),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(succeeded.len(), 1);
    assert_eq!(
        succeeded[0].target_id,
        Some(ok.tokens.session_id.to_string())
    );
}

#[tokio::test]
async fn access_token_carries_user_role_and_session_and_logout_ends_it() {
    let env = env();
    let s = env.register("carol@example.com").await;
    let claims = env
        .desk
        .verify_access_token(&s.tokens.access_token)
        .unwrap();
    assert_eq!(claims.user_id, s.user.id);
    assert_eq!(claims.session_id, s.tokens.session_id);
    assert_eq!(claims.role, Role::Customer);
    // JWT times are whole seconds.
    let ttl = claims.expires_at - env.desk.now();
    assert!(
        ttl > Duration::minutes(15) - Duration::seconds(1) && ttl <= Duration::minutes(15),
        "{ttl}"
    );

    let p = env.principal(&s).await;
    assert_eq!(p.user_id(), s.user.id);
    env.desk.logout(&p, &ctx()).await.unwrap();
    assert_eq!(
        code(env.desk.authenticate(&s.tokens.access_token).await),
        ErrorCode::SessionRevoked
    );
    assert_eq!(
        code(env.desk.refresh(&s.tokens.refresh_token, &ctx()).await),
        ErrorCode::SessionRevoked
    );
    // Logging out twice is harmless.
    env.desk.logout(&p, &ctx()).await.unwrap();
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("dave@example.com").await;
    let r1 = s.tokens.refresh_token.clone();
    let s2 = env.desk.refresh(&r1, &ctx()).await.unwrap();
    assert_ne!(s2.tokens.refresh_token, r1);
    assert_eq!(s2.tokens.session_id, s.tokens.session_id);
    env.desk
        .authenticate(&s2.tokens.access_token)
        .await
        .unwrap();
    let s3 = env
        .desk
        .refresh(&s2.tokens.refresh_token, &ctx())
        .await
        .unwrap();

    // The first token again: theft. The whole session dies, including the newest tokens.
    assert_eq!(
        code(env.desk.refresh(&r1, &ctx()).await),
        ErrorCode::RefreshTokenReused
    );
    assert_eq!(
        code(env.desk.refresh(&s3.tokens.refresh_token, &ctx()).await),
        ErrorCode::SessionRevoked
    );
    assert_eq!(
        code(env.desk.authenticate(&s3.tokens.access_token).await),
        ErrorCode::SessionRevoked
    );
    let audit = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                action: Some(AuditAction::RefreshTokenReused),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, Some(s.user.id));

    // Other sessions of the same user are untouched.
    let other = env
        .desk
        .login("dave@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    env.desk
        .refresh(&other.tokens.refresh_token, &ctx())
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through() {
    let env = env();
    let s = env.register("race@example.com").await;
    let c = ctx();
    let results = futures_util::future::join_all(
        (0..6).map(|_| env.desk.refresh(&s.tokens.refresh_token, &c)),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.into_iter().filter(|r| r.is_err()) {
        assert!(matches!(
            r.unwrap_err().code(),
            ErrorCode::RefreshTokenReused | ErrorCode::SessionRevoked
        ));
    }
}

#[tokio::test]
async fn refresh_tokens_expire_and_garbage_is_rejected() {
    let env = env();
    let s = env.register("erin@example.com").await;
    assert_eq!(
        s.tokens.refresh_expires_at - env.desk.now(),
        Duration::days(30)
    );
    env.clock.advance(Duration::days(30));
    assert_eq!(
        code(env.desk.refresh(&s.tokens.refresh_token, &ctx()).await),
        ErrorCode::TokenExpired
    );
    let mut tampered = s.tokens.refresh_token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    for bad in [
        "",
        "ncr_",
        "garbage",
        &tampered,
        &"x".repeat(100_000),
        "ncp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_eq!(
            code(env.desk.refresh(bad, &ctx()).await),
            ErrorCode::TokenInvalid,
            "{bad:.20}"
        );
    }
}

#[tokio::test]
async fn password_reset_is_mailed_single_use_and_revokes_sessions() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("fay@example.com").await;

    // Unknown and known emails answer the same; only the known one gets mail.
    env.desk
        .request_password_reset("nobody@example.com", &ctx())
        .await
        .unwrap();
    env.desk
        .request_password_reset("FAY@example.com", &ctx())
        .await
        .unwrap();
    assert_eq!(env.desk.deliver_outbox(10).await.unwrap().sent, 1);
    let mails = env.mailer.sent();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "fay@example.com");
    assert!(
        !format!("{:?}", mails[0]).contains("ncp_"),
        "mail Debug must hide the token"
    );
    let token = mails[0]
        .body
        .split_whitespace()
        .find(|w| w.starts_with("ncp_"))
        .unwrap()
        .to_owned();

    // Validation comes first and spends nothing.
    let err = env
        .desk
        .confirm_password_reset(&token, "short", &ctx())
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "new_password");

    env.desk
        .confirm_password_reset(&token, "a brand new password", &ctx())
        .await
        .unwrap();
    assert_eq!(
        code(env.desk.authenticate(&s.tokens.access_token).await),
        ErrorCode::SessionRevoked
    );
    assert_eq!(
        code(env.desk.login("fay@example.com", PASSWORD, &ctx()).await),
        ErrorCode::InvalidCredentials
    );
    env.desk
        .login("fay@example.com", "a brand new password", &ctx())
        .await
        .unwrap();
    // Single use.
    assert_eq!(
        code(
            env.desk
                .confirm_password_reset(&token, "another new password", &ctx())
                .await
        ),
        ErrorCode::ResetTokenInvalid
    );

    // Expiry, on the injected clock.
    env.desk
        .request_password_reset("fay@example.com", &ctx())
        .await
        .unwrap();
    env.desk.deliver_outbox(10).await.unwrap();
    let token2 = env.mailer.sent()[1]
        .body
        .split_whitespace()
        .find(|w| w.starts_with("ncp_"))
        .unwrap()
        .to_owned();
    env.clock.advance(Duration::minutes(30));
    assert_eq!(
        code(
            env.desk
                .confirm_password_reset(&token2, "another new password", &ctx())
                .await
        ),
        ErrorCode::ResetTokenInvalid
    );
    // A refresh token is not a reset token, and a forged one fails.
    assert_eq!(
        code(
            env.desk
                .confirm_password_reset(&s.tokens.refresh_token, "another new password", &ctx())
                .await
        ),
        ErrorCode::ResetTokenInvalid
    );
    let audit = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                action: Some(AuditAction::PasswordResetCompleted),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn reset_link_template_and_outbox_retries() {
    let mut cfg = support::config();
    cfg.mail.reset_link_template = Some("https://support.example.com/reset?token={token}".into());
    let env = support::env_with(cfg);
    env.register("gus@example.com").await;
    env.mailer.set_failing(true);
    env.desk
        .request_password_reset("gus@example.com", &ctx())
        .await
        .unwrap();
    let r = env.desk.deliver_outbox(10).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    env.mailer.set_failing(false);
    // Not due yet: the retry waits for its backoff.
    assert_eq!(env.desk.deliver_outbox(10).await.unwrap().sent, 0);
    env.clock.advance(Duration::seconds(31));
    assert_eq!(env.desk.deliver_outbox(10).await.unwrap().sent, 1);
    assert!(
        env.mailer.sent()[0]
            .body
            .contains("https://support.example.com/reset?token=ncp_")
    );
    assert_eq!(
        env.desk.deliver_outbox(10).await.unwrap().sent,
        0,
        "delivered once only"
    );
}

#[tokio::test]
async fn change_password_needs_the_old_one_and_keeps_only_this_session() {
    let env = env();
    let s1 = env.register("hal@example.com").await;
    let s2 = env
        .desk
        .login("hal@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    let p1 = env.principal(&s1).await;
    assert_eq!(
        code(
            env.desk
                .change_password(&p1, "wrong", "a new password!", &ctx())
                .await
        ),
        ErrorCode::InvalidCredentials
    );
    let err = env
        .desk
        .change_password(&p1, "", "short", &ctx())
        .await
        .unwrap_err();
    let fields: Vec<_> = err.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["old_password", "new_password"]);
    env.desk
        .change_password(&p1, PASSWORD, "a new password!", &ctx())
        .await
        .unwrap();
    env.desk
        .authenticate(&s1.tokens.access_token)
        .await
        .unwrap();
    assert_eq!(
        code(env.desk.authenticate(&s2.tokens.access_token).await),
        ErrorCode::SessionRevoked
    );
    env.desk
        .login("hal@example.com", "a new password!", &ctx())
        .await
        .unwrap();
}

#[tokio::test]
async fn disabling_a_user_revokes_every_session_and_blocks_login() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("ivy@example.com").await;
    let s2 = env
        .desk
        .login("ivy@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    env.desk
        .set_disabled(&admin, s.user.id, true, &ctx())
        .await
        .unwrap();
    for access in [&s.tokens.access_token, &s2.tokens.access_token] {
        assert!(matches!(
            code(env.desk.authenticate(access).await),
            ErrorCode::SessionRevoked | ErrorCode::AccountDisabled
        ));
    }
    assert_eq!(
        code(env.desk.login("ivy@example.com", PASSWORD, &ctx()).await),
        ErrorCode::AccountDisabled
    );
    assert!(
        env.desk
            .refresh(&s2.tokens.refresh_token, &ctx())
            .await
            .is_err()
    );
    env.desk
        .set_disabled(&admin, s.user.id, false, &ctx())
        .await
        .unwrap();
    env.desk
        .login("ivy@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    let actions: Vec<_> = env
        .desk
        .list_audit(&admin, AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&AuditAction::UserDisabled));
    assert!(actions.contains(&AuditAction::UserEnabled));
}

#[tokio::test]
async fn role_changes_apply_to_the_next_request() {
    let env = env();
    let (_, admin) = env.admin().await;
    let s = env.register("jo@example.com").await;
    let p = env.principal(&s).await;
    assert_eq!(p.role(), Role::Customer);
    env.desk
        .set_role(&admin, s.user.id, Role::Agent, &ctx())
        .await
        .unwrap();
    // Same token, role read from the store.
    assert_eq!(env.principal(&s).await.role(), Role::Agent);
    let audit = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                action: Some(AuditAction::RoleChanged),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit[0].detail.as_deref(), Some("customer -> agent"));
    assert_eq!(audit[0].actor_id, Some(admin.user_id()));
}

#[tokio::test]
async fn stored_password_hashes_are_argon2id_with_the_configured_cost() {
    let env = env();
    let s = env.register("kim@example.com").await;
    let phc = s.user.password_hash.clone().unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
    let owasp = neurochat_core::config::PasswordHashing::default();
    assert_eq!(
        (owasp.m_cost_kib, owasp.t_cost, owasp.p_cost),
        (19 * 1024, 2, 1)
    );
    assert!(!format!("{:?}", s.tokens).contains(&s.tokens.refresh_token));
}

#[tokio::test]
async fn a_login_upgrades_a_hash_made_with_older_parameters() {
    let env = env();
    let s = env.register("lee@example.com").await;
    // Same store, stronger parameters: the next login re-hashes.
    let mut cfg = support::config();
    cfg.password_hashing.m_cost_kib = 512;
    let desk2 = neurochat_core::Desk::builder(env.store.clone(), cfg)
        .build()
        .unwrap();
    let s2 = desk2
        .login("lee@example.com", PASSWORD, &ctx())
        .await
        .unwrap();
    let phc = s2.user.password_hash.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=512,t=1,p=1$"), "{phc}");
    assert_ne!(Some(phc), s.user.password_hash);
}
