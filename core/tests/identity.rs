//! Widget visitors: anonymous sessions, host-verified identities (HMAC and
//! JWT), forgeries rejected, and the "verified identity required" switch.
#![allow(clippy::unwrap_used)]

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use neurochat_core::Error;
use neurochat_core::domain::Role;
use neurochat_core::service::identity::{HostIdentity, VisitorStart, sign_identity};
use neurochat_protocol::v1::ErrorCode;
use serde_json::json;
use support::{HMAC_SECRET, HOST_JWT_SECRET, ctx, env};

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

fn hmac(user_id: &str, email: Option<&str>, name: Option<&str>) -> HostIdentity {
    HostIdentity::Hmac {
        user_id: user_id.into(),
        email: email.map(Into::into),
        name: name.map(Into::into),
        signature: sign_identity(HMAC_SECRET, user_id, email, name),
    }
}

fn start(identity: Option<HostIdentity>) -> VisitorStart {
    VisitorStart {
        identity,
        ..VisitorStart::default()
    }
}

#[tokio::test]
async fn anonymous_visitors_get_a_customer_session_and_can_add_contact_details() {
    let env = env();
    let v = env
        .desk
        .start_visitor_session(start(None), &ctx())
        .await
        .unwrap();
    assert!(v.token.starts_with("ncv_"));
    assert!(!format!("{v:?}").contains(&v.token));
    assert_eq!(v.user.role, Role::Customer);
    assert!(!v.user.verified);
    let p = env.desk.authenticate_bearer(&v.token).await.unwrap();
    assert_eq!(p.user_id(), v.user.id);
    assert_eq!(p.role(), Role::Customer);

    // A registered customer's address typed by a visitor grants nothing.
    let owner = env.register("pam@example.com").await;
    let u = env
        .desk
        .update_visitor_profile(&p, Some("Pam?"), Some("pam@example.com"))
        .await
        .unwrap();
    assert_eq!(u.contact_email.as_deref(), Some("pam@example.com"));
    assert_eq!(u.email, None);
    assert_ne!(u.id, owner.user.id);
    let err = env
        .desk
        .update_visitor_profile(&p, Some(""), Some("nope"))
        .await
        .unwrap_err();
    let fields: Vec<_> = err.violations().iter().map(|v| v.field).collect();
    assert_eq!(fields, ["display_name", "email"]);

    // A tampered visitor token fails.
    let mut t = v.token.clone();
    t.replace_range(t.len() - 3.., "AAA");
    assert_eq!(
        code(env.desk.authenticate_visitor(&t).await),
        ErrorCode::TokenInvalid
    );
    // Expired on the injected clock.
    env.clock.advance(time::Duration::days(181));
    assert_eq!(
        code(env.desk.authenticate_visitor(&v.token).await),
        ErrorCode::SessionRevoked
    );
}

#[tokio::test]
async fn hmac_identity_binds_the_host_customer_once() {
    let env = env();
    let a = env
        .desk
        .start_visitor_session(
            start(Some(hmac("host-42", Some("q@host.example"), Some("Quinn")))),
            &ctx(),
        )
        .await
        .unwrap();
    assert!(a.user.verified);
    assert_eq!(a.user.external_id.as_deref(), Some("host-42"));
    assert_eq!(a.user.display_name, "Quinn");
    // Same host user again (other device): same customer, updated name.
    let b = env
        .desk
        .start_visitor_session(start(Some(hmac("host-42", None, Some("Quinn Q")))), &ctx())
        .await
        .unwrap();
    assert_eq!(a.user.id, b.user.id);
    assert_eq!(b.user.display_name, "Quinn Q");
    assert_ne!(a.token, b.token);
    // Concurrent first visits of a new host user converge on one customer.
    let c = ctx();
    let many = futures_util::future::join_all((0..5).map(|_| {
        env.desk
            .start_visitor_session(start(Some(hmac("host-43", None, None))), &c)
    }))
    .await;
    let ids: std::collections::HashSet<_> = many.into_iter().map(|r| r.unwrap().user.id).collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn forged_identities_are_rejected() {
    let env = env();
    let genuine = sign_identity(HMAC_SECRET, "host-7", Some("r@host.example"), None);
    let forgeries = [
        // Signed with the wrong secret.
        HostIdentity::Hmac {
            user_id: "host-7".into(),
            email: None,
            name: None,
            signature: sign_identity(
                b"wrong-secret-0123456789abcdef0123456",
                "host-7",
                None,
                None,
            ),
        },
        // Another user's id under a genuine signature.
        HostIdentity::Hmac {
            user_id: "host-8".into(),
            email: Some("r@host.example".into()),
            name: None,
            signature: genuine.clone(),
        },
        // A changed email under a genuine signature.
        HostIdentity::Hmac {
            user_id: "host-7".into(),
            email: Some("attacker@evil.example".into()),
            name: None,
            signature: genuine.clone(),
        },
        // Not hex, empty, truncated.
        HostIdentity::Hmac {
            user_id: "host-7".into(),
            email: None,
            name: None,
            signature: "zz".into(),
        },
        HostIdentity::Hmac {
            user_id: "host-7".into(),
            email: None,
            name: None,
            signature: String::new(),
        },
        HostIdentity::Hmac {
            user_id: "host-7".into(),
            email: Some("r@host.example".into()),
            name: None,
            signature: genuine[..32].to_owned(),
        },
        HostIdentity::Jwt {
            token: "not.a.jwt".into(),
        },
    ];
    for f in forgeries {
        assert_eq!(
            code(
                env.desk
                    .start_visitor_session(start(Some(f.clone())), &ctx())
                    .await
            ),
            ErrorCode::IdentityInvalid,
            "{f:?}"
        );
    }
    // Without a configured secret, no signature can be valid.
    let mut cfg = support::config();
    cfg.identity.hmac_secret = None;
    let env2 = support::env_with(cfg);
    assert_eq!(
        code(
            env2.desk
                .start_visitor_session(start(Some(hmac("host-7", None, None))), &ctx())
                .await
        ),
        ErrorCode::IdentityInvalid
    );
}

fn host_jwt(claims: serde_json::Value, key: &[u8], alg: Algorithm) -> HostIdentity {
    HostIdentity::Jwt {
        token: jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key))
            .unwrap(),
    }
}

#[tokio::test]
async fn host_jwts_must_be_genuine_current_and_short_lived() {
    let env = env();
    let now = env.desk.now().unix_timestamp();
    let ok = host_jwt(
        json!({"sub": "host-9", "name": "Sam", "iat": now, "exp": now + 300}),
        HOST_JWT_SECRET,
        Algorithm::HS256,
    );
    let v = env
        .desk
        .start_visitor_session(start(Some(ok)), &ctx())
        .await
        .unwrap();
    assert_eq!(v.user.external_id.as_deref(), Some("host-9"));
    assert!(v.user.verified);
    for (what, bad) in [
        (
            "expired",
            host_jwt(
                json!({"sub": "host-9", "iat": now - 600, "exp": now - 1}),
                HOST_JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "too long-lived",
            host_jwt(
                json!({"sub": "host-9", "iat": now, "exp": now + 86_400}),
                HOST_JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "wrong key",
            host_jwt(
                json!({"sub": "host-9", "iat": now, "exp": now + 60}),
                b"not-the-host-key-0123456789abcdef0123",
                Algorithm::HS256,
            ),
        ),
        (
            "wrong alg",
            host_jwt(
                json!({"sub": "host-9", "iat": now, "exp": now + 60}),
                HOST_JWT_SECRET,
                Algorithm::HS512,
            ),
        ),
        (
            "no sub",
            host_jwt(
                json!({"iat": now, "exp": now + 60}),
                HOST_JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "from the future",
            host_jwt(
                json!({"sub": "host-9", "iat": now + 3600, "exp": now + 3700}),
                HOST_JWT_SECRET,
                Algorithm::HS256,
            ),
        ),
    ] {
        assert_eq!(
            code(
                env.desk
                    .start_visitor_session(start(Some(bad)), &ctx())
                    .await
            ),
            ErrorCode::IdentityInvalid,
            "{what}"
        );
    }
}

#[tokio::test]
async fn verified_identity_can_be_required() {
    let mut cfg = support::config();
    cfg.identity.require_verified = true;
    let env = support::env_with(cfg);
    assert_eq!(
        code(env.desk.start_visitor_session(start(None), &ctx()).await),
        ErrorCode::IdentityRequired
    );
    let v = env
        .desk
        .start_visitor_session(start(Some(hmac("host-1", None, None))), &ctx())
        .await
        .unwrap();
    env.desk.authenticate_visitor(&v.token).await.unwrap();

    // An anonymous session made before the switch is refused after it.
    let open = support::env();
    let anon = open
        .desk
        .start_visitor_session(start(None), &ctx())
        .await
        .unwrap();
    let mut strict = support::config();
    strict.identity.require_verified = true;
    let desk = neurochat_core::Desk::builder(open.store.clone(), strict)
        .build()
        .unwrap();
    assert_eq!(
        code(desk.authenticate_visitor(&anon.token).await),
        ErrorCode::IdentityRequired
    );
}

#[tokio::test]
async fn disabled_host_customers_cannot_start_sessions() {
    let env = env();
    let (_, admin) = env.admin().await;
    let v = env
        .desk
        .start_visitor_session(start(Some(hmac("host-5", None, None))), &ctx())
        .await
        .unwrap();
    env.desk
        .set_disabled(&admin, v.user.id, true, &ctx())
        .await
        .unwrap();
    assert!(env.desk.authenticate_visitor(&v.token).await.is_err());
    assert_eq!(
        code(
            env.desk
                .start_visitor_session(start(Some(hmac("host-5", None, None))), &ctx())
                .await
        ),
        ErrorCode::AccountDisabled
    );
}
