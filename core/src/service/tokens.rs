//! Access tokens: HS256 JWTs with a key id, verified against the current key
//! and any previous keys still in rotation.
//!
//! Expiry is checked against the injected [`Clock`](crate::ports::Clock), not
//! the system time, so tests can move time; jsonwebtoken still checks the
//! signature, algorithm, issuer and audience.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use neurochat_protocol::v1::ErrorCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::TokenConfig;
use crate::domain::{Role, SessionId, UserId};
use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: Uuid,
    sid: Uuid,
    role: String,
    iat: i64,
    exp: i64,
}

/// What a valid access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user.
    pub user_id: UserId,
    /// The session the token belongs to.
    pub session_id: SessionId,
    /// The role when the token was issued (authorization re-reads it from the store).
    pub role: Role,
    /// When the token stops being accepted.
    pub expires_at: OffsetDateTime,
}

pub(crate) struct TokenCodec {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl: time::Duration,
    leeway: i64,
    issuer: String,
    audience: String,
}

impl TokenCodec {
    pub(crate) fn new(cfg: &TokenConfig) -> Result<Self> {
        let mut decoding = HashMap::new();
        for k in std::iter::once(&cfg.current_key).chain(cfg.previous_keys.iter()) {
            decoding.insert(k.kid.clone(), DecodingKey::from_secret(k.secret.expose()));
        }
        // Only HS256: `alg: none`, RS/ES confusion and every other algorithm are rejected.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&cfg.issuer]);
        validation.set_audience(&[&cfg.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = false; // checked against the injected clock below
        validation.validate_nbf = false;
        Ok(TokenCodec {
            kid: cfg.current_key.kid.clone(),
            encoding: EncodingKey::from_secret(cfg.current_key.secret.expose()),
            decoding,
            validation,
            ttl: cfg.access_ttl,
            leeway: i64::try_from(cfg.leeway_secs).unwrap_or(i64::MAX),
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
        })
    }

    /// Signs a token for `user` in `session`, valid from `now` for the configured TTL.
    pub(crate) fn issue(
        &self,
        user: UserId,
        session: SessionId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime)> {
        let exp = now + self.ttl;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.0,
            sid: session.0,
            role: role.as_str().to_owned(),
            iat: now.unix_timestamp(),
            exp: exp.unix_timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("jwt encode: {e}")))?;
        Ok((
            token,
            OffsetDateTime::from_unix_timestamp(exp.unix_timestamp()).unwrap_or(exp),
        ))
    }

    /// Verifies signature, algorithm, key id, issuer, audience and expiry at `now`.
    pub(crate) fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims> {
        let invalid = || Error::Auth(ErrorCode::TokenInvalid);
        if token.len() > 4096 {
            return Err(invalid());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or_else(invalid)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|_| invalid())?;
        let c = data.claims;
        if now.unix_timestamp() >= c.exp.saturating_add(self.leeway) {
            return Err(Error::Auth(ErrorCode::TokenExpired));
        }
        let role = Role::parse(&c.role).ok_or_else(invalid)?;
        Ok(AccessClaims {
            user_id: UserId(c.sub),
            session_id: SessionId(c.sid),
            role,
            expires_at: OffsetDateTime::from_unix_timestamp(c.exp).map_err(|_| invalid())?,
        })
    }
}
