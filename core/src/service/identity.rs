//! Widget visitors: anonymous sessions, and sessions bound to a customer whose
//! identity the host site vouches for (HMAC signature or a short-lived JWT).

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;

use crate::Desk;
use crate::domain::validate;
use crate::domain::{Role, Session, SessionId, SessionKind, User, UserId};
use crate::error::{Error, FieldViolation, Result};
use crate::ports::StoreError;
use crate::principal::{Principal, RequestContext};
use crate::service::secrets::{self, SecretKind};

/// Longest host user id accepted.
pub const EXTERNAL_ID_MAX: usize = 200;

/// How the host site proves who the visitor is.
#[derive(Clone, PartialEq, Eq)]
pub enum HostIdentity {
    /// `signature` = lowercase hex of HMAC-SHA256(secret, [`identity_message`]).
    Hmac {
        /// The host's user id.
        user_id: String,
        /// The user's email, if the host shares it.
        email: Option<String>,
        /// The user's name, if the host shares it.
        name: Option<String>,
        /// Hex signature.
        signature: String,
    },
    /// An HS256 JWT signed by the host with claims `sub` (user id), optional
    /// `email` and `name`, `iat` and `exp` (short-lived), and `iss` if configured.
    Jwt {
        /// The compact JWT.
        token: String,
    },
}

impl std::fmt::Debug for HostIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostIdentity::Hmac { user_id, .. } => f
                .debug_struct("Hmac")
                .field("user_id", user_id)
                .field("signature", &"***")
                .finish_non_exhaustive(),
            HostIdentity::Jwt { .. } => f.write_str("Jwt(***)"),
        }
    }
}

/// The message a host signs for [`HostIdentity::Hmac`]:
/// `"neurochat-identity-v1\n{user_id}\n{email}\n{name}"`, absent fields empty.
pub fn identity_message(user_id: &str, email: Option<&str>, name: Option<&str>) -> String {
    format!(
        "neurochat-identity-v1\n{user_id}\n{}\n{}",
        email.unwrap_or(""),
        name.unwrap_or("")
    )
}

/// Signs an identity as a host site would (for Rust hosts and tests).
pub fn sign_identity(
    secret: &[u8],
    user_id: &str,
    email: Option<&str>,
    name: Option<&str>,
) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| {
        // HMAC accepts keys of any length; this branch cannot happen.
        <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| unreachable!())
    });
    mac.update(identity_message(user_id, email, name).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What the widget sends to start a visitor session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorStart {
    /// Host-verified identity, if the host site provides one.
    pub identity: Option<HostIdentity>,
    /// Name the visitor typed (anonymous visitors only).
    pub display_name: Option<String>,
    /// Contact email the visitor typed (anonymous visitors only; never a login key).
    pub email: Option<String>,
}

/// A started visitor session.
#[derive(Clone, PartialEq, Eq)]
pub struct VisitorSession {
    /// The bearer token the widget keeps (localStorage) and authenticates with.
    pub token: String,
    /// The session.
    pub session_id: SessionId,
    /// When it ends.
    pub expires_at: OffsetDateTime,
    /// The customer it acts as.
    pub user: User,
}

impl std::fmt::Debug for VisitorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorSession")
            .field("token", &"***")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .field("user", &self.user.id)
            .finish()
    }
}

#[derive(Deserialize)]
struct HostClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    iat: i64,
    exp: i64,
}

/// A verified host identity.
struct Verified {
    external_id: String,
    email: Option<String>,
    name: Option<String>,
}

impl Desk {
    /// Starts a widget visitor session: bound to the host-verified customer if
    /// `identity` is given (created on first sight), otherwise a new anonymous
    /// customer — unless the config requires verified identities.
    #[tracing::instrument(skip_all)]
    pub async fn start_visitor_session(
        &self,
        start: VisitorStart,
        _ctx: &RequestContext,
    ) -> Result<VisitorSession> {
        let user = match &start.identity {
            Some(identity) => {
                let verified = self.verify_host_identity(identity)?;
                self.upsert_verified_customer(verified).await?
            }
            None if self.inner.config.identity.require_verified => {
                return Err(Error::Auth(ErrorCode::IdentityRequired));
            }
            None => self.create_anonymous_customer(&start).await?,
        };
        if user.disabled {
            return Err(Error::Auth(ErrorCode::AccountDisabled));
        }
        let now = self.now();
        let id = SessionId(self.new_uuid());
        let minted = secrets::mint(SecretKind::Visitor, id.0);
        let session = Session {
            id,
            user_id: user.id,
            kind: SessionKind::Visitor,
            secret_hash: Some(minted.hash),
            created_at: now,
            expires_at: now + self.inner.config.visitor_ttl,
            revoked_at: None,
            revoke_reason: None,
        };
        self.inner.store.insert_session(&session, None).await?;
        Ok(VisitorSession {
            token: minted.token,
            session_id: id,
            expires_at: session.expires_at,
            user,
        })
    }

    /// Turns a visitor token into a [`Principal`] (a customer).
    pub async fn authenticate_visitor(&self, token: &str) -> Result<Principal> {
        let invalid = || Error::Auth(ErrorCode::TokenInvalid);
        let (id, hash) = secrets::parse(SecretKind::Visitor, token).ok_or_else(invalid)?;
        let session = self
            .inner
            .store
            .fetch_session(SessionId(id))
            .await?
            .filter(|s| s.kind == SessionKind::Visitor)
            .ok_or_else(invalid)?;
        let stored = session.secret_hash.as_deref().unwrap_or(&[]);
        if !secrets::hashes_match(&hash, stored) {
            return Err(invalid());
        }
        if !session.is_active(self.now()) {
            return Err(Error::Auth(ErrorCode::SessionRevoked));
        }
        let principal = self.principal_for(session).await?;
        if self.inner.config.identity.require_verified {
            let user = self.fetch_user_required(principal.user_id).await?;
            if !user.verified {
                return Err(Error::Auth(ErrorCode::IdentityRequired));
            }
        }
        Ok(principal)
    }

    /// Lets a visitor attach a name and a contact email (unverified: it is
    /// never a login key and gives no access to any account with that address).
    #[tracing::instrument(skip_all)]
    pub async fn update_visitor_profile(
        &self,
        principal: &Principal,
        display_name: Option<&str>,
        email: Option<&str>,
    ) -> Result<User> {
        let mut bad = Vec::new();
        let name = display_name.and_then(|n| validate::display_name("display_name", n, &mut bad));
        let email = email.and_then(|e| validate::email("email", e, &mut bad));
        validate::finish(bad)?;
        let mut user = self.fetch_user_required(principal.user_id).await?;
        if user.role != Role::Customer {
            return Err(Error::Forbidden);
        }
        self.save_user(&mut user, |u| {
            if let Some(n) = name {
                u.display_name = n;
            }
            if let Some(e) = email {
                u.contact_email = Some(e.display);
            }
        })
        .await?;
        Ok(user)
    }

    fn verify_host_identity(&self, identity: &HostIdentity) -> Result<Verified> {
        let cfg = &self.inner.config.identity;
        let forged = || Error::Auth(ErrorCode::IdentityInvalid);
        let verified = match identity {
            HostIdentity::Hmac {
                user_id,
                email,
                name,
                signature,
            } => {
                let secret = cfg.hmac_secret.as_ref().ok_or_else(forged)?;
                let sig = hex::decode(signature.trim()).map_err(|_| forged())?;
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose())
                    .map_err(|_| Error::Internal("hmac key".to_owned()))?;
                mac.update(identity_message(user_id, email.as_deref(), name.as_deref()).as_bytes());
                // `verify_slice` compares in constant time.
                mac.verify_slice(&sig).map_err(|_| forged())?;
                Verified {
                    external_id: user_id.clone(),
                    email: email.clone(),
                    name: name.clone(),
                }
            }
            HostIdentity::Jwt { token } => {
                let secret = cfg.jwt_secret.as_ref().ok_or_else(forged)?;
                let mut v = Validation::new(Algorithm::HS256);
                v.validate_exp = false; // against the injected clock below
                v.validate_aud = false;
                v.set_required_spec_claims(&["exp", "sub"]);
                if let Some(iss) = &cfg.jwt_issuer {
                    v.set_issuer(&[iss]);
                }
                let data = jsonwebtoken::decode::<HostClaims>(
                    token,
                    &DecodingKey::from_secret(secret.expose()),
                    &v,
                )
                .map_err(|_| forged())?;
                let c = data.claims;
                let now = self.now().unix_timestamp();
                let max_age = cfg
                    .jwt_max_age
                    .unwrap_or(time::Duration::minutes(10))
                    .whole_seconds();
                if now >= c.exp || c.iat > now + 60 || c.exp - c.iat > max_age {
                    return Err(forged());
                }
                Verified {
                    external_id: c.sub,
                    email: c.email,
                    name: c.name,
                }
            }
        };
        let mut bad = Vec::new();
        if verified.external_id.trim().is_empty()
            || verified.external_id.chars().count() > EXTERNAL_ID_MAX
        {
            bad.push(FieldViolation::new(
                "user_id",
                FieldErrorCode::InvalidFormat,
                "Invalid host user id.",
            ));
        }
        let email = verified
            .email
            .as_deref()
            .and_then(|e| validate::email("email", e, &mut bad));
        let name = verified
            .name
            .as_deref()
            .and_then(|n| validate::display_name("name", n, &mut bad));
        validate::finish(bad)?;
        Ok(Verified {
            external_id: verified.external_id,
            email: email.map(|e| e.display),
            name,
        })
    }

    async fn upsert_verified_customer(&self, v: Verified) -> Result<User> {
        let store = &self.inner.store;
        for _ in 0..3 {
            if let Some(mut user) = store.fetch_user_by_external_id(&v.external_id).await? {
                let name = v.name.clone().unwrap_or_else(|| user.display_name.clone());
                if name != user.display_name || (v.email.is_some() && v.email != user.contact_email)
                {
                    let email = v.email.clone();
                    let changed = self
                        .save_user(&mut user, |u| {
                            u.display_name = name;
                            u.contact_email = email.or(u.contact_email.take());
                        })
                        .await;
                    match changed {
                        Ok(()) => {}
                        Err(StoreError::Conflict) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                return Ok(user);
            }
            let now = self.now();
            let user = User {
                external_id: Some(v.external_id.clone()),
                verified: true,
                contact_email: v.email.clone(),
                ..User::new(
                    UserId(self.new_uuid()),
                    v.name.clone().unwrap_or_else(|| "Customer".to_owned()),
                    Role::Customer,
                    now,
                )
            };
            match store.insert_user(&user).await {
                Ok(()) => return Ok(user),
                // Two first visits raced; the other one created the user: read it.
                Err(StoreError::UniqueViolation { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Store(StoreError::Conflict))
    }

    async fn create_anonymous_customer(&self, start: &VisitorStart) -> Result<User> {
        let mut bad = Vec::new();
        let name = start
            .display_name
            .as_deref()
            .and_then(|n| validate::display_name("display_name", n, &mut bad));
        let email = start
            .email
            .as_deref()
            .and_then(|e| validate::email("email", e, &mut bad));
        validate::finish(bad)?;
        let now = self.now();
        let user = User {
            contact_email: email.map(|e| e.display),
            ..User::new(
                UserId(self.new_uuid()),
                name.unwrap_or_else(|| "Visitor".to_owned()),
                Role::Customer,
                now,
            )
        };
        self.inner.store.insert_user(&user).await?;
        Ok(user)
    }
}
