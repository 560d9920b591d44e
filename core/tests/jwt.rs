//! Access-token attacks: every forged, altered or stale token is rejected
//! with a stable code, and key rotation accepts exactly the keys configured.
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use neurochat_core::config::{Secret, SigningKey};
use neurochat_core::{Desk, Error};
use neurochat_protocol::v1::ErrorCode;
use serde_json::{Value, json};
use support::{SIGNING_KEY, env};
use time::Duration;

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &[u8]) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(key)).unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[tokio::test]
async fn forged_and_altered_tokens_are_rejected() {
    let env = env();
    let s = env.register("mia@example.com").await;
    let good = s.tokens.access_token.clone();
    env.desk.authenticate(&good).await.unwrap();
    let claims = claims_of(&good);

    // alg: none, with and without a signature part.
    let none_header = json!({"alg": "none", "typ": "JWT", "kid": "k1"});
    let unsigned = format!("{}.{}.", b64(&none_header), b64(&claims));
    assert_eq!(
        code(env.desk.authenticate(&unsigned).await),
        ErrorCode::TokenInvalid
    );
    let none_upper = json!({"alg": "NONE", "kid": "k1"});
    assert_eq!(
        code(
            env.desk
                .authenticate(&format!("{}.{}.", b64(&none_upper), b64(&claims)))
                .await
        ),
        ErrorCode::TokenInvalid
    );

    // Right key, wrong algorithm.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let t = sign(alg, Some("k1"), &claims, SIGNING_KEY);
        assert_eq!(
            code(env.desk.authenticate(&t).await),
            ErrorCode::TokenInvalid,
            "{alg:?}"
        );
    }
    // Algorithm confusion: an RS256 header over an HMAC signature.
    let parts: Vec<&str> = good.split('.').collect();
    let rs_header = json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
    let confused = format!("{}.{}.{}", b64(&rs_header), parts[1], parts[2]);
    assert_eq!(
        code(env.desk.authenticate(&confused).await),
        ErrorCode::TokenInvalid
    );

    // Tampered payload (self-promotion to admin), signature kept.
    let mut promoted = claims.clone();
    promoted["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&promoted), parts[2]);
    assert_eq!(
        code(env.desk.authenticate(&tampered).await),
        ErrorCode::TokenInvalid
    );
    // Tampered signature.
    let mut sig = parts[2].to_owned();
    let flipped = if sig.ends_with('A') { 'B' } else { 'A' };
    sig.pop();
    sig.push(flipped);
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert_eq!(
        code(env.desk.authenticate(&bad_sig).await),
        ErrorCode::TokenInvalid
    );

    // Wrong issuer, wrong audience, other secret, unknown or missing kid.
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("evil");
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    for (what, t) in [
        (
            "issuer",
            sign(Algorithm::HS256, Some("k1"), &wrong_iss, SIGNING_KEY),
        ),
        (
            "audience",
            sign(Algorithm::HS256, Some("k1"), &wrong_aud, SIGNING_KEY),
        ),
        (
            "no exp",
            sign(Algorithm::HS256, Some("k1"), &no_exp, SIGNING_KEY),
        ),
        (
            "other key",
            sign(
                Algorithm::HS256,
                Some("k1"),
                &claims,
                b"another-key-0123456789abcdef01234567",
            ),
        ),
        (
            "unknown kid",
            sign(Algorithm::HS256, Some("k9"), &claims, SIGNING_KEY),
        ),
        ("no kid", sign(Algorithm::HS256, None, &claims, SIGNING_KEY)),
    ] {
        assert_eq!(
            code(env.desk.authenticate(&t).await),
            ErrorCode::TokenInvalid,
            "{what}"
        );
    }
    // Garbage of every shape: typed error, no panic.
    for t in [
        "",
        ".",
        "..",
        "a.b.c",
        "eyJ.eyJ.",
        &"a".repeat(100_000),
        "ncv_garbage",
    ] {
        assert!(env.desk.authenticate_bearer(t).await.is_err(), "{t:.10}");
    }
    // The genuine token still works.
    env.desk.authenticate(&good).await.unwrap();
}

#[tokio::test]
async fn tokens_expire_on_the_injected_clock() {
    let env = env();
    let s = env.register("ned@example.com").await;
    env.clock
        .advance(Duration::minutes(15) - Duration::seconds(1));
    env.desk.authenticate(&s.tokens.access_token).await.unwrap();
    env.clock.advance(Duration::seconds(1));
    assert_eq!(
        code(env.desk.authenticate(&s.tokens.access_token).await),
        ErrorCode::TokenExpired
    );
    // A refresh gives a fresh one.
    let fresh = env
        .desk
        .refresh(&s.tokens.refresh_token, &support::ctx())
        .await
        .unwrap();
    env.desk
        .authenticate(&fresh.tokens.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn key_rotation_accepts_previous_keys_until_they_are_dropped() {
    let env = env();
    let s = env.register("ola@example.com").await;
    let old_token = s.tokens.access_token.clone();
    assert_eq!(
        jsonwebtoken::decode_header(&old_token)
            .unwrap()
            .kid
            .as_deref(),
        Some("k1")
    );

    let new_key = SigningKey {
        kid: "k2".into(),
        secret: Secret::new(b"the-next-signing-key-0123456789abcdef".to_vec()),
    };
    let mut rotated = support::config();
    rotated.tokens.current_key = new_key.clone();
    rotated.tokens.previous_keys = vec![SigningKey {
        kid: "k1".into(),
        secret: Secret::new(SIGNING_KEY),
    }];
    let desk2 = Desk::builder(env.store.clone(), rotated).build().unwrap();
    desk2.authenticate(&old_token).await.unwrap();
    let s2 = desk2
        .login("ola@example.com", support::PASSWORD, &support::ctx())
        .await
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&s2.tokens.access_token)
            .unwrap()
            .kid
            .as_deref(),
        Some("k2")
    );

    let mut dropped = support::config();
    dropped.tokens.current_key = new_key;
    let desk3 = Desk::builder(env.store.clone(), dropped).build().unwrap();
    assert_eq!(
        code(desk3.authenticate(&old_token).await),
        ErrorCode::TokenInvalid
    );
    desk3.authenticate(&s2.tokens.access_token).await.unwrap();
}

#[test]
fn weak_or_clashing_keys_are_refused_at_build_time() {
    let store = std::sync::Arc::new(neurochat_core::memory::MemoryStore::new());
    let short = neurochat_core::Config::new(b"too-short".to_vec());
    assert!(matches!(
        Desk::builder(store.clone(), short).build(),
        Err(Error::Config(_))
    ));
    let mut clash = support::config();
    clash.tokens.previous_keys = vec![clash.tokens.current_key.clone()];
    assert!(matches!(
        Desk::builder(store.clone(), clash).build(),
        Err(Error::Config(_))
    ));
    let mut weak_hmac = support::config();
    weak_hmac.identity.hmac_secret = Some(Secret::new(b"short".to_vec()));
    assert!(matches!(
        Desk::builder(store, weak_hmac).build(),
        Err(Error::Config(_))
    ));
    assert!(
        !format!("{:?}", support::config()).contains("test-signing-key"),
        "secrets never print"
    );
}
