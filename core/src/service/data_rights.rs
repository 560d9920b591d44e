//! A customer's data rights: an export of everything the desk holds about
//! them that they may see, and erasure of their personal data.
//!
//! Both are open to the customer themselves and to admins. Other customers
//! get `not_found` (they must not learn who exists), agents `forbidden`.

use neurochat_protocol::v1::ErrorCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Desk;
use crate::domain::{
    AuditAction, Message, MessageKind, Role, Ticket, TicketCursor, TicketFilter, TicketSort, User,
    UserId,
};
use crate::error::{Error, Result};
use crate::ports::StoreError;
use crate::principal::{Principal, RequestContext};

/// What an erased customer's name, ticket subjects and message bodies become.
pub const ERASED_PLACEHOLDER: &str = "[erased]";
/// The audit detail recorded with an erasure.
pub const ERASURE_AUDIT_DETAIL: &str = "customer data erased";
/// Version tag of the JSON export document.
pub const EXPORT_FORMAT: &str = "neurochat.customer_export.v1";

const TICKET_PAGE: u32 = 100;
const MESSAGE_PAGE: u32 = 500;

/// Everything a customer may see of their own data: their profile, every
/// ticket they opened (oldest first) and each ticket's messages in order,
/// internal notes left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerExport {
    /// The customer's profile (the password hash is never exported).
    pub user: User,
    /// Their tickets, each with its customer-visible messages.
    pub tickets: Vec<(Ticket, Vec<Message>)>,
}

impl CustomerExport {
    /// The export as a JSON document with explicit fields and RFC 3339
    /// timestamps. It never contains password hashes, sessions, internal
    /// notes or staff-only ticket bookkeeping.
    pub fn to_json(&self) -> Value {
        json!({
            "format": EXPORT_FORMAT,
            "user": user_json(&self.user),
            "tickets": self
                .tickets
                .iter()
                .map(|(t, messages)| ticket_json(t, messages))
                .collect::<Vec<_>>(),
        })
    }
}

fn timestamp(t: OffsetDateTime) -> Value {
    // Only years outside 0..=9999 fail to format; no stored time is one.
    t.format(&Rfc3339).map_or(Value::Null, Value::String)
}

fn opt_timestamp(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, timestamp)
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.to_string(),
        "display_name": u.display_name,
        "email": u.email,
        "contact_email": u.contact_email,
        "external_id": u.external_id,
        "role": u.role.as_str(),
        "verified": u.verified,
        "disabled": u.disabled,
        "created_at": timestamp(u.created_at),
        "updated_at": timestamp(u.updated_at),
    })
}

fn ticket_json(t: &Ticket, messages: &[Message]) -> Value {
    json!({
        "id": t.id.to_string(),
        "number": t.number,
        "subject": t.subject,
        "status": t.status.as_str(),
        "priority": t.priority.as_str(),
        "category_id": t.category_id.map(|c| c.to_string()),
        "created_at": timestamp(t.created_at),
        "updated_at": timestamp(t.updated_at),
        "first_response_at": opt_timestamp(t.first_response_at),
        "resolved_at": opt_timestamp(t.resolved_at),
        "closed_at": opt_timestamp(t.closed_at),
        "messages": messages
            .iter()
            .filter(|m| m.kind != MessageKind::InternalNote)
            .map(message_json)
            .collect::<Vec<_>>(),
    })
}

fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id.to_string(),
        "seq": m.seq,
        "kind": m.kind.as_str(),
        "author_id": m.author_id.map(|a| a.to_string()),
        "body": m.body,
        "created_at": timestamp(m.created_at),
    })
}

impl Desk {
    /// Everything the desk holds about a customer that they may see: the
    /// customer themselves or an admin. Other customers get `not_found`,
    /// agents `forbidden`; a target that is not a customer is a
    /// `validation_failed` rule error.
    #[tracing::instrument(skip_all)]
    pub async fn export_customer_data(
        &self,
        principal: &Principal,
        user_id: UserId,
        ctx: &RequestContext,
    ) -> Result<CustomerExport> {
        let user = self.data_rights_subject(principal, user_id).await?;
        self.audit(
            Some(principal.user_id()),
            AuditAction::CustomerDataExported,
            Some(("user", user_id.to_string())),
            ctx,
            None,
        )
        .await;
        let store = &self.inner.store;
        let mut tickets = Vec::new();
        let mut filter = TicketFilter {
            customer_id: Some(user_id),
            sort: TicketSort::CreatedAsc,
            limit: TICKET_PAGE,
            ..TicketFilter::default()
        };
        loop {
            let page = store.list_tickets(&filter).await?;
            let full = page.len() >= TICKET_PAGE as usize;
            filter.after = page
                .last()
                .map(|t| TicketCursor::of(t, TicketSort::CreatedAsc));
            for ticket in page {
                let messages = self.visible_messages(&ticket).await?;
                tickets.push((ticket, messages));
            }
            if !full {
                break;
            }
        }
        Ok(CustomerExport { user, tickets })
    }

    /// Erases a customer's personal data: name, emails, host id and password
    /// go, their sessions end, their ticket subjects and message bodies become
    /// [`ERASED_PLACEHOLDER`] (and leave search). Tickets, agents' messages
    /// and the audit log stay. Same authorization as
    /// [`Desk::export_customer_data`]. Erasing twice is harmless.
    #[tracing::instrument(skip_all)]
    pub async fn erase_customer(
        &self,
        principal: &Principal,
        user_id: UserId,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.data_rights_subject(principal, user_id).await?;
        match self
            .inner
            .store
            .update_user_erased(user_id, ERASED_PLACEHOLDER, self.now())
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(Error::NotFound("user")),
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Some(principal.user_id()),
            AuditAction::CustomerDataErased,
            Some(("user", user_id.to_string())),
            ctx,
            Some(ERASURE_AUDIT_DETAIL),
        )
        .await;
        self.publish_sessions_revoked(user_id, None).await;
        Ok(())
    }

    /// The customer a data-rights request is about, if `principal` may act
    /// on them.
    async fn data_rights_subject(&self, principal: &Principal, user_id: UserId) -> Result<User> {
        if user_id != principal.user_id() && !principal.is_admin() {
            return Err(if principal.is_staff() {
                Error::Forbidden
            } else {
                Error::NotFound("user")
            });
        }
        let user = self.fetch_user_required(user_id).await?;
        if user.role != Role::Customer {
            return Err(Error::rule(
                ErrorCode::ValidationFailed,
                "Only a customer's data can be exported or erased.",
            ));
        }
        Ok(user)
    }

    /// Every message of `ticket` except internal notes, in order.
    async fn visible_messages(&self, ticket: &Ticket) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .inner
                .store
                .list_messages_after(ticket.id, after, MESSAGE_PAGE, false)
                .await?;
            let full = page.len() >= MESSAGE_PAGE as usize;
            match page.last() {
                Some(last) => after = last.seq,
                None => break,
            }
            out.extend(
                page.into_iter()
                    .filter(|m| m.kind != MessageKind::InternalNote),
            );
            if !full {
                break;
            }
        }
        Ok(out)
    }
}
