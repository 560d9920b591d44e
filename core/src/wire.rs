//! Conversions between domain types and `neurochat-protocol` wire types.
//! Domain types never derive `Serialize`; adapters convert here, at the edge.

use neurochat_protocol::v1 as wire;

use crate::domain::{
    AgentLoad, AuditAction, AuditEntry, Availability, Category, Message, MessageKind, Priority,
    Receipt, Role, Ticket, TicketStatus, User,
};
use crate::events::TicketChange;
use crate::service::auth::{AuthSession, AuthTokens};
use crate::service::identity::{HostIdentity, VisitorSession};
use crate::service::metrics::{AgentMetrics, MetricsTotals, MetricsWindow, TeamMetrics};

/// Maps between two field-less enums with the same variant names, both ways.
macro_rules! enum_map {
    ($domain:ident <=> $wire:path { $($v:ident),+ $(,)? }) => {
        impl From<$domain> for $wire {
            fn from(d: $domain) -> Self {
                match d { $($domain::$v => <$wire>::$v),+ }
            }
        }
        impl From<$wire> for $domain {
            fn from(w: $wire) -> Self {
                match w { $(<$wire>::$v => $domain::$v),+ }
            }
        }
    };
}

enum_map!(Role <=> wire::Role { Customer, Agent, Admin });
enum_map!(Availability <=> wire::Availability { Online, Away, Offline });
enum_map!(TicketStatus <=> wire::TicketStatus { New, InProgress, Resolved, Closed });
enum_map!(Priority <=> wire::Priority { Low, Normal, High, Urgent });
enum_map!(MessageKind <=> wire::MessageKind { Customer, Agent, System, InternalNote });
// One way only: the wire's `resync` is the gateway's, no domain change.
impl From<TicketChange> for wire::TicketChange {
    fn from(d: TicketChange) -> Self {
        match d {
            TicketChange::Created => wire::TicketChange::Created,
            TicketChange::Claimed => wire::TicketChange::Claimed,
            TicketChange::Assigned => wire::TicketChange::Assigned,
            TicketChange::Unassigned => wire::TicketChange::Unassigned,
            TicketChange::Status => wire::TicketChange::Status,
            TicketChange::Priority => wire::TicketChange::Priority,
            TicketChange::Category => wire::TicketChange::Category,
            TicketChange::Activity => wire::TicketChange::Activity,
        }
    }
}
enum_map!(AuditAction <=> wire::AuditAction {
    LoginSucceeded, LoginFailed, Logout, RefreshTokenReused, PasswordResetRequested,
    PasswordResetCompleted, PasswordChanged, EmailChanged, RoleChanged, UserDisabled,
    UserEnabled, UserRegistered, TicketStatusChanged, TicketAssigned, TicketClaimed,
    TicketUnassigned, TicketPriorityChanged, TicketCategoryChanged, CategoryChanged,
    CustomerDataExported, CustomerDataErased,
});

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl From<&User> for wire::UserView {
    fn from(u: &User) -> Self {
        wire::UserView {
            id: u.id.0,
            // Host-identified customers and visitors only have a contact email.
            email: u.email.clone().or_else(|| u.contact_email.clone()),
            display_name: u.display_name.clone(),
            role: u.role.into(),
            disabled: u.disabled,
            verified: u.verified,
            created_at: u.created_at,
        }
    }
}

impl From<&User> for wire::AgentView {
    fn from(u: &User) -> Self {
        wire::AgentView {
            id: u.id.0,
            display_name: u.display_name.clone(),
            availability: u.availability.into(),
            capacity: u.capacity,
        }
    }
}

impl From<&AgentLoad> for wire::AgentLoadView {
    fn from(l: &AgentLoad) -> Self {
        let u = &l.user;
        wire::AgentLoadView {
            id: u.id.0,
            display_name: u.display_name.clone(),
            role: u.role.into(),
            availability: u.availability.into(),
            capacity: u.capacity,
            open_tickets: u32::try_from(l.open_tickets.max(0)).unwrap_or(u32::MAX),
        }
    }
}

impl From<&AuditEntry> for wire::AuditEntryView {
    fn from(e: &AuditEntry) -> Self {
        wire::AuditEntryView {
            id: e.id.0,
            at: e.at,
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action.into(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            source_ip: e.source_ip.clone(),
            detail: e.detail.clone(),
        }
    }
}

impl From<&Ticket> for wire::TicketView {
    fn from(t: &Ticket) -> Self {
        wire::TicketView {
            id: t.id.0,
            number: non_negative(t.number),
            subject: t.subject.clone(),
            customer_id: t.customer_id.0,
            category_id: t.category_id.map(|c| c.0),
            priority: t.priority.into(),
            status: t.status.into(),
            assignee_id: t.assignee_id.map(|a| a.0),
            created_at: t.created_at,
            updated_at: t.updated_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
            last_seq: non_negative(t.last_seq),
        }
    }
}

impl From<&Message> for wire::MessageView {
    fn from(m: &Message) -> Self {
        wire::MessageView {
            id: m.id.0,
            ticket_id: m.ticket_id.0,
            seq: non_negative(m.seq),
            author_id: m.author_id.map(|a| a.0),
            kind: m.kind.into(),
            body: m.body.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: m.created_at,
        }
    }
}

impl From<&Category> for wire::CategoryView {
    fn from(c: &Category) -> Self {
        wire::CategoryView {
            id: c.id.0,
            name: c.name.clone(),
            archived: c.archived,
            created_at: c.created_at,
        }
    }
}

impl From<&AuthTokens> for wire::AuthTokens {
    fn from(t: &AuthTokens) -> Self {
        wire::AuthTokens {
            access_token: t.access_token.clone(),
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token.clone(),
            refresh_expires_at: t.refresh_expires_at,
            session_id: t.session_id.0,
        }
    }
}

impl From<&AuthSession> for wire::AuthResponse {
    fn from(s: &AuthSession) -> Self {
        wire::AuthResponse {
            user: (&s.user).into(),
            tokens: (&s.tokens).into(),
        }
    }
}

impl From<&VisitorSession> for wire::VisitorSessionResponse {
    fn from(s: &VisitorSession) -> Self {
        wire::VisitorSessionResponse {
            visitor_token: s.token.clone(),
            expires_at: s.expires_at,
            user: (&s.user).into(),
        }
    }
}

impl From<wire::HostIdentity> for HostIdentity {
    fn from(h: wire::HostIdentity) -> Self {
        match h {
            wire::HostIdentity::Hmac {
                user_id,
                email,
                name,
                signature,
            } => HostIdentity::Hmac {
                user_id,
                email,
                name,
                signature,
            },
            wire::HostIdentity::Jwt { token } => HostIdentity::Jwt { token },
        }
    }
}

fn millis(d: Option<time::Duration>) -> Option<u64> {
    d.map(|d| u64::try_from(d.whole_milliseconds()).unwrap_or(0))
}

impl From<&AgentMetrics> for wire::AgentMetricsView {
    fn from(m: &AgentMetrics) -> Self {
        wire::AgentMetricsView {
            user_id: m.user_id.0,
            display_name: m.display_name.clone(),
            claimed: m.claimed,
            resolved: m.resolved,
            open_now: m.open_now,
            first_response_median_ms: millis(m.first_response_median),
            first_response_p90_ms: millis(m.first_response_p90),
            resolution_median_ms: millis(m.resolution_median),
        }
    }
}

impl From<&MetricsTotals> for wire::MetricsTotalsView {
    fn from(m: &MetricsTotals) -> Self {
        wire::MetricsTotalsView {
            claimed: m.claimed,
            resolved: m.resolved,
            open_now: m.open_now,
            first_response_median_ms: millis(m.first_response_median),
            first_response_p90_ms: millis(m.first_response_p90),
            resolution_median_ms: millis(m.resolution_median),
        }
    }
}

/// The team metrics of `window` as the wire shows them.
pub fn team_metrics_view(m: &TeamMetrics, window: MetricsWindow) -> wire::TeamMetricsView {
    wire::TeamMetricsView {
        from: window.from,
        to: window.to,
        totals: (&m.totals).into(),
        agents: m.agents.iter().map(Into::into).collect(),
    }
}

impl From<&Receipt> for wire::ReceiptView {
    fn from(r: &Receipt) -> Self {
        wire::ReceiptView {
            ticket_id: r.ticket_id.0,
            user_id: r.user_id.0,
            delivered_seq: non_negative(r.delivered_seq),
            read_seq: non_negative(r.read_seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_actions_share_names_with_the_wire() {
        for a in AuditAction::ALL {
            let w: wire::AuditAction = (*a).into();
            assert_eq!(w.as_str(), a.as_str());
            assert_eq!(AuditAction::from(w), *a);
        }
        for r in [Role::Customer, Role::Agent, Role::Admin] {
            assert_eq!(wire::Role::from(r).as_str(), r.as_str());
        }
        for s in [
            TicketStatus::New,
            TicketStatus::InProgress,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ] {
            assert_eq!(wire::TicketStatus::from(s).as_str(), s.as_str());
        }
    }
}
