//! Who is acting, and from where.

use crate::domain::{Role, SessionId, UserId};

/// The authenticated actor every service call carries. Only
/// [`Desk`](crate::Desk) authentication methods create one, so a host
/// application cannot forge a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) user_id: UserId,
    pub(crate) role: Role,
    pub(crate) session_id: Option<SessionId>,
}

impl Principal {
    /// The acting user.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Their role at authentication time (read from the store, not the token).
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session the request came through (`None` for in-process bootstrap work).
    pub fn session_id(&self) -> Option<SessionId> {
        self.session_id
    }

    /// Agent or admin.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    /// Admin.
    pub fn is_admin(&self) -> bool {
        self.role == crate::domain::Role::Admin
    }
}

/// Facts about the request that the adapter knows and the audit log wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The client's IP address, when known.
    pub source_ip: Option<String>,
}

impl RequestContext {
    /// A context with a known source IP.
    pub fn from_ip(ip: impl Into<String>) -> Self {
        RequestContext {
            source_ip: Some(ip.into()),
        }
    }
}
