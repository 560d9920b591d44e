//! Profiles, email changes, roles, disabling, agent availability and capacity,
//! and the admin user list.

use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};

use crate::Desk;
use crate::domain::validate;
use crate::domain::{AgentLoad, AuditAction, Availability, Role, User, UserFilter, UserId};
use crate::error::{Error, Result};
use crate::events::{Event, Topic};
use crate::principal::{Principal, RequestContext};
use crate::service::auth::map_unique;

/// Largest agent capacity accepted.
pub const CAPACITY_MAX: u32 = 1000;
/// Longest user-search string accepted.
pub const SEARCH_MAX: usize = 200;

/// Clamps a requested page size to 1..=100 (0 means the default, 50).
pub fn clamp_limit(limit: u32) -> u32 {
    match limit {
        0 => 50,
        n => n.min(100),
    }
}

impl Desk {
    /// Applies `change` to `user`, bumps its version and `updated_at`, and
    /// stores it only if nobody changed it since it was read
    /// ([`StoreError::Conflict`](crate::ports::StoreError::Conflict) otherwise).
    pub(crate) async fn save_user(
        &self,
        user: &mut User,
        change: impl FnOnce(&mut User),
    ) -> Result<(), crate::ports::StoreError> {
        let expected = user.version;
        change(user);
        user.version = expected + 1;
        user.updated_at = self.now();
        self.inner.store.update_user(user, expected).await
    }

    /// One user. Customers see only themselves; staff see everyone (they need
    /// the customer's profile next to a ticket). Others' ids are `not_found`.
    pub async fn get_user(&self, principal: &Principal, id: UserId) -> Result<User> {
        if id != principal.user_id && !principal.is_staff() {
            return Err(Error::NotFound("user"));
        }
        self.fetch_user_required(id).await
    }

    /// Changes a display name: one's own, or anyone's for an admin.
    #[tracing::instrument(skip_all)]
    pub async fn update_profile(
        &self,
        principal: &Principal,
        id: UserId,
        display_name: &str,
    ) -> Result<User> {
        if id != principal.user_id && !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        let mut bad = Vec::new();
        let name = validate::display_name("display_name", display_name, &mut bad);
        validate::finish(bad)?;
        let mut user = self.fetch_user_required(id).await?;
        self.save_user(&mut user, |u| {
            if let Some(n) = name {
                u.display_name = n;
            }
        })
        .await?;
        Ok(user)
    }

    /// Changes one's own login email; the current password is required.
    #[tracing::instrument(skip_all)]
    pub async fn change_email(
        &self,
        principal: &Principal,
        new_email: &str,
        password: &str,
        ctx: &RequestContext,
    ) -> Result<User> {
        let mut bad = Vec::new();
        let email = validate::email("new_email", new_email, &mut bad);
        if password.is_empty() {
            bad.push(crate::error::FieldViolation::new(
                "password",
                FieldErrorCode::Required,
                "Password is required.",
            ));
        }
        let Some(email) = email else {
            return Err(Error::Validation(bad));
        };
        validate::finish(bad)?;
        let mut user = self.fetch_user_required(principal.user_id).await?;
        if user.password_hash.is_none()
            || !self
                .inner
                .hasher
                .verify(password, user.password_hash.as_deref())
                .await?
        {
            return Err(Error::Auth(ErrorCode::InvalidCredentials));
        }
        self.save_user(&mut user, |u| {
            u.email = Some(email.display);
            u.email_normalized = Some(email.normalized);
        })
        .await
        .map_err(map_unique)?;
        self.audit(
            Some(user.id),
            AuditAction::EmailChanged,
            Some(("user", user.id.to_string())),
            ctx,
            None,
        )
        .await;
        Ok(user)
    }

    /// Changes a user's role (admins only; not their own, so the desk always
    /// keeps an admin). The new role applies to the user's very next request.
    #[tracing::instrument(skip_all)]
    pub async fn set_role(
        &self,
        principal: &Principal,
        id: UserId,
        role: Role,
        ctx: &RequestContext,
    ) -> Result<User> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        if id == principal.user_id {
            return Err(Error::rule(
                ErrorCode::Forbidden,
                "Admins cannot change their own role.",
            ));
        }
        let mut user = self.fetch_user_required(id).await?;
        if user.role == role {
            return Ok(user);
        }
        let before = user.role;
        self.save_user(&mut user, |u| u.role = role).await?;
        self.audit(
            Some(principal.user_id),
            AuditAction::RoleChanged,
            Some(("user", id.to_string())),
            ctx,
            Some(&format!("{} -> {}", before.as_str(), role.as_str())),
        )
        .await;
        Ok(user)
    }

    /// Disables (revoking every session at once) or re-enables a user. Admins
    /// only, and never themselves.
    #[tracing::instrument(skip_all)]
    pub async fn set_disabled(
        &self,
        principal: &Principal,
        id: UserId,
        disabled: bool,
        ctx: &RequestContext,
    ) -> Result<User> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        if id == principal.user_id {
            return Err(Error::rule(
                ErrorCode::Forbidden,
                "Admins cannot disable themselves.",
            ));
        }
        let user = match self
            .inner
            .store
            .update_user_disabled(id, disabled, self.now())
            .await
        {
            Ok(u) => u,
            Err(crate::ports::StoreError::NotFound) => return Err(Error::NotFound("user")),
            Err(e) => return Err(e.into()),
        };
        let action = if disabled {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        self.audit(
            Some(principal.user_id),
            action,
            Some(("user", id.to_string())),
            ctx,
            None,
        )
        .await;
        if disabled {
            self.publish_sessions_revoked(id, None).await;
        }
        Ok(user)
    }

    /// Sets an agent's availability and/or capacity: agents their own, admins
    /// anyone's. Only staff have these settings.
    #[tracing::instrument(skip_all)]
    pub async fn set_agent_settings(
        &self,
        principal: &Principal,
        id: UserId,
        availability: Option<Availability>,
        capacity: Option<u32>,
    ) -> Result<User> {
        if !(principal.is_admin() || (principal.is_staff() && id == principal.user_id)) {
            return Err(Error::Forbidden);
        }
        if capacity.is_some_and(|c| c > CAPACITY_MAX) {
            return Err(Error::field(
                "capacity",
                FieldErrorCode::OutOfRange,
                format!("Capacity must be between 0 and {CAPACITY_MAX}."),
            ));
        }
        let mut user = self.fetch_user_required(id).await?;
        if !user.role.is_staff() {
            return Err(Error::rule(
                ErrorCode::ValidationFailed,
                "Only agents and admins have availability.",
            ));
        }
        let changed_availability = availability.filter(|a| *a != user.availability);
        self.save_user(&mut user, |u| {
            u.availability = availability.unwrap_or(u.availability);
            u.capacity = capacity.unwrap_or(u.capacity);
        })
        .await?;
        if let Some(availability) = changed_availability {
            let event = Event::AvailabilityChanged {
                user_id: id,
                availability,
            };
            if let Err(e) = self.inner.bus.publish(Topic::Presence, event).await {
                tracing::warn!(error = %e, "could not publish availability");
            }
        }
        if user.availability == Availability::Online
            && (changed_availability.is_some() || capacity.is_some())
        {
            self.assign_waiting_best_effort().await;
        }
        Ok(user)
    }

    /// A page of users (admins only), ordered by id; pass the last id as `after`.
    pub async fn list_users(
        &self,
        principal: &Principal,
        mut filter: UserFilter,
    ) -> Result<Vec<User>> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        if let Some(s) = &filter.search {
            if s.chars().count() > SEARCH_MAX {
                return Err(Error::field(
                    "search",
                    FieldErrorCode::TooLong,
                    "Search text is too long.",
                ));
            }
            let t = s.trim();
            filter.search = (!t.is_empty()).then(|| t.to_owned());
        }
        filter.limit = clamp_limit(filter.limit);
        Ok(self.inner.store.list_users(&filter).await?)
    }

    /// The staff directory: every enabled agent and admin, by id, with the
    /// number of open (`new` or `in_progress`) tickets assigned to them.
    /// Staff only (customers: `forbidden`), so that agents can assign each
    /// other and see the team's load.
    pub async fn list_agents(&self, principal: &Principal) -> Result<Vec<AgentLoad>> {
        crate::service::tickets::require_staff(principal)?;
        Ok(self.inner.store.list_agent_loads().await?)
    }
}
