//! Writing and reading the audit log.

use crate::Desk;
use crate::domain::{AuditAction, AuditEntry, AuditFilter, AuditId, TicketId, UserId};
use crate::error::{Error, Result};
use crate::principal::{Principal, RequestContext};
use crate::service::users::clamp_limit;

impl Desk {
    /// Appends an audit record. The action it records has already happened, so
    /// a storage failure here is logged loudly rather than undoing it.
    pub(crate) async fn audit(
        &self,
        actor_id: Option<UserId>,
        action: AuditAction,
        target: Option<(&str, String)>,
        ctx: &RequestContext,
        detail: Option<&str>,
    ) {
        let (target_type, target_id) = match target {
            Some((t, id)) => (Some(t.to_owned()), Some(id)),
            None => (None, None),
        };
        let entry = AuditEntry {
            id: AuditId(self.new_uuid()),
            at: self.now(),
            actor_id,
            action,
            target_type,
            target_id,
            source_ip: ctx.source_ip.clone(),
            detail: detail.map(str::to_owned),
        };
        if let Err(e) = self.inner.store.insert_audit(&entry).await {
            tracing::error!(error = %e, action = action.as_str(), "audit record could not be written");
        }
    }

    /// A page of the audit log, newest first (admins only); pass the last id as `before`.
    pub async fn list_audit(
        &self,
        principal: &Principal,
        mut filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        filter.limit = clamp_limit(filter.limit);
        Ok(self.inner.store.list_audit(&filter).await?)
    }

    /// A page of one ticket's audit trail (the entries whose target is the
    /// ticket), newest first; the other fields of `filter` (actor, action,
    /// window, `before`, `limit`) narrow it as in [`Desk::list_audit`]. Staff
    /// only: the ticket's own customer gets `forbidden`, any other customer
    /// `not_found` (as for the other staff-only ticket calls: no customer
    /// learns whether someone else's ticket exists); an unknown ticket is
    /// `not_found`. Only admins see the entries' `source_ip`: an agent's
    /// trail has none.
    pub async fn ticket_audit(
        &self,
        principal: &Principal,
        ticket: TicketId,
        mut filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        if !principal.is_staff() {
            // `not_found` unless it is their own ticket.
            self.get_ticket(principal, ticket).await?;
            return Err(Error::Forbidden);
        }
        self.fetch_ticket_required(ticket).await?;
        filter.target_ticket = Some(ticket);
        filter.limit = clamp_limit(filter.limit);
        let mut entries = self.inner.store.list_audit(&filter).await?;
        if !principal.is_admin() {
            for e in &mut entries {
                e.source_ip = None;
            }
        }
        Ok(entries)
    }
}
