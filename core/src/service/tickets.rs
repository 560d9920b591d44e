//! Tickets: opening with a first message, reading and searching, claiming,
//! assigning, and the status / priority / category lifecycle.
//!
//! Every change is a compare-and-set on the ticket's version, retried after
//! re-reading when another writer got there first, so concurrent agents never
//! overwrite each other and exactly one of N concurrent claims wins.

use std::collections::HashMap;

use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};

use crate::Desk;
use crate::domain::audit::TARGET_TICKET;
use crate::domain::validate;
use crate::domain::{
    AuditAction, Availability, CategoryId, Message, MessageId, MessageKind, NewMessage, OutboxId,
    OutboxMessage, Priority, Role, Ticket, TicketFilter, TicketId, TicketStatus, UserId,
};
use crate::error::{Error, Result};
use crate::events::{Event, TicketChange, Topic};
use crate::ports::StoreError;
use crate::principal::{Principal, RequestContext};
use crate::service::users::clamp_limit;

/// Longest search text accepted.
pub const SEARCH_TEXT_MAX: usize = 200;
/// Compare-and-set attempts before giving up with `conflict`.
const CAS_ATTEMPTS: usize = 8;

/// A customer's new ticket with its first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// 1..=200 characters.
    pub subject: String,
    /// The first message: 1..=4000 characters.
    pub body: String,
    /// The client's idempotency key for the first message.
    pub client_msg_id: String,
    /// An active category, if the customer picked one.
    pub category_id: Option<CategoryId>,
    /// Defaults to `normal`.
    pub priority: Option<Priority>,
}

/// The outcome of a compare-and-set change: the ticket as it is now, and
/// whether this call changed it.
pub(crate) struct Changed {
    pub(crate) before: Ticket,
    pub(crate) after: Ticket,
    pub(crate) changed: bool,
}

/// What a change function decides: a new state (with an optional mail to
/// enqueue atomically), or nothing to do.
pub(crate) type Decision = Result<Option<(Ticket, Option<OutboxMessage>)>>;

impl Desk {
    /// Opens a ticket with its first message, atomically. Customers only.
    #[tracing::instrument(skip_all)]
    pub async fn create_ticket(
        &self,
        principal: &Principal,
        input: NewTicket,
        _ctx: &RequestContext,
    ) -> Result<(Ticket, Message)> {
        if principal.role != Role::Customer {
            return Err(Error::rule(
                ErrorCode::Forbidden,
                "Only customers open tickets; agents reply to them.",
            ));
        }
        let mut bad = Vec::new();
        let subject = validate::line("subject", &input.subject, validate::SUBJECT_MAX, &mut bad);
        let body = validate::body("body", &input.body, &mut bad);
        validate::client_msg_id("client_msg_id", &input.client_msg_id, &mut bad);
        let (Some(subject), Some(body)) = (subject, body) else {
            return Err(Error::Validation(bad));
        };
        validate::finish(bad)?;
        // A resend of the same "open ticket" (lost reply, retry) returns the
        // ticket it opened the first time: the store refuses the second
        // insert (`tickets.first_message`, below), so the common case — a
        // new ticket — costs no read.
        let store = &self.inner.store;
        if let Some(c) = input.category_id
            && let Err(e) = self.check_category_selectable(c).await
        {
            // The category may have been archived since the first attempt.
            return match store
                .fetch_ticket_by_first_message(principal.user_id, &input.client_msg_id)
                .await?
            {
                Some(existing) => Ok(existing),
                None => Err(e),
            };
        }
        let now = self.now();
        let ticket = Ticket {
            id: TicketId(self.new_uuid()),
            number: 0,
            subject,
            customer_id: principal.user_id,
            category_id: input.category_id,
            priority: input.priority.unwrap_or(Priority::Normal),
            status: TicketStatus::New,
            assignee_id: None,
            created_at: now,
            updated_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            last_seq: 0,
            awaiting_since: None,
            last_agent_seq: 0,
            last_agent_message_at: None,
            customer_notified_seq: 0,
            escalated_new_at: None,
            escalated_awaiting_since: None,
            version: 1,
        };
        let first = NewMessage {
            id: MessageId(self.new_uuid()),
            ticket_id: ticket.id,
            author_id: Some(principal.user_id),
            kind: MessageKind::Customer,
            body,
            client_msg_id: Some(input.client_msg_id.clone()),
            created_at: now,
        };
        let (mut ticket, message) = match store
            .insert_ticket_with_first_message(&ticket, &first)
            .await
        {
            Ok(stored) => stored,
            Err(StoreError::UniqueViolation {
                constraint: "tickets.first_message",
            }) => {
                // A resend, or the same open racing itself: the ticket the
                // first attempt opened.
                return store
                    .fetch_ticket_by_first_message(principal.user_id, &input.client_msg_id)
                    .await?
                    .ok_or(Error::Store(StoreError::Conflict));
            }
            Err(e) => return Err(e.into()),
        };
        self.inner.owners.remember(ticket.id, ticket.customer_id);
        self.publish_ticket(&ticket, TicketChange::Created).await;
        self.publish(
            Topic::Ticket(ticket.id),
            Event::MessagePosted(message.clone()),
        )
        .await;
        if self.inner.config.tickets.auto_assign {
            match self.auto_assign(ticket.id).await {
                Ok(Some(t)) => ticket = t,
                Ok(None) => {}
                // An unassigned ticket is picked up by the next assignment pass.
                Err(e) => tracing::warn!(error = %e, ticket = %ticket.id, "auto-assignment failed"),
            }
        }
        Ok((ticket, message))
    }

    /// One ticket. Customers see only their own (others are `not_found`).
    pub async fn get_ticket(&self, principal: &Principal, id: TicketId) -> Result<Ticket> {
        let ticket = self.fetch_ticket_required(id).await?;
        self.inner.owners.remember(ticket.id, ticket.customer_id);
        if !principal.is_staff() && ticket.customer_id != principal.user_id {
            return Err(Error::NotFound("ticket"));
        }
        Ok(ticket)
    }

    /// Whether the principal may write to the ticket: staff to any (the
    /// store refuses a missing one), customers to their own. A ticket's
    /// customer never changes, so it is remembered after the first read and
    /// a chatting customer's messages need no read at all.
    pub(crate) async fn authorize_ticket(&self, principal: &Principal, id: TicketId) -> Result<()> {
        if principal.is_staff() {
            return Ok(());
        }
        match self.inner.owners.get(id) {
            Some(owner) if owner == principal.user_id => Ok(()),
            Some(_) => Err(Error::NotFound("ticket")),
            None => self.get_ticket(principal, id).await.map(drop),
        }
    }

    /// One page of tickets. Customers only ever get their own, and their text
    /// search never looks into internal notes.
    pub async fn list_tickets(
        &self,
        principal: &Principal,
        mut filter: TicketFilter,
    ) -> Result<Vec<Ticket>> {
        if let Some(text) = &filter.text {
            if text.chars().count() > SEARCH_TEXT_MAX {
                return Err(Error::field(
                    "q",
                    FieldErrorCode::TooLong,
                    "Search text is too long.",
                ));
            }
            let t = text.trim();
            filter.text = (!t.is_empty()).then(|| t.to_owned());
        }
        if principal.is_staff() {
            filter.include_internal = true;
        } else {
            filter.customer_id = Some(principal.user_id);
            filter.include_internal = false;
        }
        filter.limit = clamp_limit(filter.limit);
        Ok(self.inner.store.list_tickets(&filter).await?)
    }

    /// Claims an unassigned ticket for the acting agent. Of N concurrent
    /// claims exactly one wins; the others get `already_claimed`. Claiming a
    /// ticket one already holds is a no-op.
    #[tracing::instrument(skip_all)]
    pub async fn claim_ticket(
        &self,
        principal: &Principal,
        id: TicketId,
        ctx: &RequestContext,
    ) -> Result<Ticket> {
        require_staff(principal)?;
        let me = principal.user_id;
        let c = self
            .change_ticket(id, |t| {
                match t.assignee_id {
                    Some(a) if a == me => return Ok(None),
                    Some(_) => {
                        return Err(Error::rule(
                            ErrorCode::AlreadyClaimed,
                            "Another agent claimed this ticket first.",
                        ));
                    }
                    None => {}
                }
                if !matches!(t.status, TicketStatus::New | TicketStatus::InProgress) {
                    return Err(invalid_transition(t.status, TicketStatus::InProgress));
                }
                let mut n = t.clone();
                n.assignee_id = Some(me);
                n.status = TicketStatus::InProgress;
                Ok(Some((n, None)))
            })
            .await?;
        if c.changed {
            self.audit(
                Some(me),
                AuditAction::TicketClaimed,
                Some((TARGET_TICKET, id.to_string())),
                ctx,
                None,
            )
            .await;
            self.publish_ticket(&c.after, TicketChange::Claimed).await;
        }
        Ok(c.after)
    }

    /// Assigns a ticket to an agent or admin (`Some`) or unassigns it (`None`;
    /// an `in_progress` ticket goes back to `new`). Staff only. An assignee who
    /// is not online gets an email (if configured), enqueued atomically.
    #[tracing::instrument(skip_all)]
    pub async fn assign_ticket(
        &self,
        principal: &Principal,
        id: TicketId,
        assignee: Option<UserId>,
        ctx: &RequestContext,
    ) -> Result<Ticket> {
        require_staff(principal)?;
        let target = match assignee {
            Some(a) => {
                let u = self.inner.store.fetch_user(a).await?;
                match u {
                    Some(u) if u.role.is_staff() && !u.disabled => Some(u),
                    _ => {
                        return Err(Error::field(
                            "assignee_id",
                            FieldErrorCode::InvalidChoice,
                            "The assignee must be an active agent or admin.",
                        ));
                    }
                }
            }
            None => None,
        };
        let mail_to = target.as_ref().filter(|u| {
            self.inner.config.tickets.email_offline_assignee
                && u.availability != Availability::Online
        });
        let c = self
            .change_ticket(id, |t| {
                if t.assignee_id == assignee {
                    return Ok(None);
                }
                let mut n = t.clone();
                n.assignee_id = assignee;
                n.status = match (t.status, assignee) {
                    (TicketStatus::New, Some(_)) => TicketStatus::InProgress,
                    (TicketStatus::InProgress, None) => TicketStatus::New,
                    (s, _) => s,
                };
                let mail = mail_to.and_then(|u| self.assignment_mail(u, t));
                Ok(Some((n, mail)))
            })
            .await?;
        if c.changed {
            let (action, change) = match assignee {
                Some(_) => (AuditAction::TicketAssigned, TicketChange::Assigned),
                None => (AuditAction::TicketUnassigned, TicketChange::Unassigned),
            };
            let detail = assignee.map(|a| format!("to {a}"));
            self.audit(
                Some(principal.user_id),
                action,
                Some((TARGET_TICKET, id.to_string())),
                ctx,
                detail.as_deref(),
            )
            .await;
            self.publish_ticket(&c.after, change).await;
            if let Some(prev) = c.before.assignee_id.filter(|p| Some(*p) != assignee) {
                self.publish(
                    Topic::User(prev),
                    Event::TicketChanged {
                        ticket: c.after.clone(),
                        change,
                    },
                )
                .await;
            }
        }
        Ok(c.after)
    }

    /// Moves a ticket through its lifecycle. Allowed: `new → in_progress`
    /// (claims it for the actor if unassigned), `new | in_progress → resolved`,
    /// `resolved → in_progress` (reopen; `new` when unassigned) and
    /// `resolved → closed`. Customers may only resolve their own ticket; staff
    /// may do every allowed move. Anything else is `invalid_transition`; a
    /// closed ticket is read-only (`ticket_closed`).
    #[tracing::instrument(skip_all)]
    pub async fn set_ticket_status(
        &self,
        principal: &Principal,
        id: TicketId,
        status: TicketStatus,
        ctx: &RequestContext,
    ) -> Result<Ticket> {
        let visible = self.get_ticket(principal, id).await?;
        if !principal.is_staff() && status != TicketStatus::Resolved {
            return Err(Error::Forbidden);
        }
        let actor = principal.user_id;
        let now = self.now();
        let c = self
            .change_ticket(visible.id, |t| {
                use TicketStatus::*;
                if t.status == status {
                    return Ok(None);
                }
                let mut n = t.clone();
                n.status = match (t.status, status) {
                    (New, InProgress) => {
                        n.assignee_id = n.assignee_id.or(Some(actor));
                        InProgress
                    }
                    (New | InProgress, Resolved) => {
                        n.resolved_at = Some(now);
                        Resolved
                    }
                    (Resolved, InProgress) => {
                        if n.assignee_id.is_some() {
                            InProgress
                        } else {
                            New
                        }
                    }
                    (Resolved, Closed) => {
                        n.closed_at = Some(now);
                        Closed
                    }
                    (from, to) => return Err(invalid_transition(from, to)),
                };
                Ok(Some((n, None)))
            })
            .await?;
        if c.changed {
            let detail = format!(
                "{} -> {}",
                c.before.status.as_str(),
                c.after.status.as_str()
            );
            self.audit(
                Some(actor),
                AuditAction::TicketStatusChanged,
                Some((TARGET_TICKET, id.to_string())),
                ctx,
                Some(&detail),
            )
            .await;
            self.publish_ticket(&c.after, TicketChange::Status).await;
            if c.after.assignee_id.is_some() && c.after.status == TicketStatus::Resolved {
                // The assignee has room again: waiting tickets may go to them.
                self.assign_waiting_best_effort().await;
            }
        }
        Ok(c.after)
    }

    pub(crate) async fn assign_waiting_best_effort(&self) {
        if let Err(e) = self.assign_waiting_tickets().await {
            tracing::warn!(error = %e, "assigning waiting tickets failed");
        }
    }

    /// Changes a ticket's priority (staff only).
    #[tracing::instrument(skip_all)]
    pub async fn set_ticket_priority(
        &self,
        principal: &Principal,
        id: TicketId,
        priority: Priority,
        ctx: &RequestContext,
    ) -> Result<Ticket> {
        require_staff(principal)?;
        let c = self
            .change_ticket(id, |t| {
                if t.priority == priority {
                    return Ok(None);
                }
                Ok(Some((
                    Ticket {
                        priority,
                        ..t.clone()
                    },
                    None,
                )))
            })
            .await?;
        if c.changed {
            let detail = format!("{} -> {}", c.before.priority.as_str(), priority.as_str());
            self.audit(
                Some(principal.user_id),
                AuditAction::TicketPriorityChanged,
                Some((TARGET_TICKET, id.to_string())),
                ctx,
                Some(&detail),
            )
            .await;
            self.publish_ticket(&c.after, TicketChange::Priority).await;
        }
        Ok(c.after)
    }

    /// Sets or clears a ticket's category (staff only). Only active categories
    /// can be chosen; an archived one stays on tickets that already have it.
    #[tracing::instrument(skip_all)]
    pub async fn set_ticket_category(
        &self,
        principal: &Principal,
        id: TicketId,
        category_id: Option<CategoryId>,
        ctx: &RequestContext,
    ) -> Result<Ticket> {
        require_staff(principal)?;
        if let Some(c) = category_id {
            self.check_category_selectable(c).await?;
        }
        let c = self
            .change_ticket(id, |t| {
                if t.category_id == category_id {
                    return Ok(None);
                }
                Ok(Some((
                    Ticket {
                        category_id,
                        ..t.clone()
                    },
                    None,
                )))
            })
            .await?;
        if c.changed {
            self.audit(
                Some(principal.user_id),
                AuditAction::TicketCategoryChanged,
                Some((TARGET_TICKET, id.to_string())),
                ctx,
                None,
            )
            .await;
            self.publish_ticket(&c.after, TicketChange::Category).await;
        }
        Ok(c.after)
    }

    /// Reads the ticket, lets `decide` compute its next state from the current
    /// one, and stores it with compare-and-set; on a lost race re-reads and
    /// decides again. `decide` sees `updated_at` and `version` already set.
    /// Closed tickets are read-only.
    pub(crate) async fn change_ticket(
        &self,
        id: TicketId,
        decide: impl Fn(&Ticket) -> Decision,
    ) -> Result<Changed> {
        for _ in 0..CAS_ATTEMPTS {
            let current = self.fetch_ticket_required(id).await?;
            if current.status == TicketStatus::Closed {
                return Err(Error::rule(
                    ErrorCode::TicketClosed,
                    "This ticket is closed.",
                ));
            }
            let Some((mut next, mail)) = decide(&current)? else {
                return Ok(Changed {
                    after: current.clone(),
                    before: current,
                    changed: false,
                });
            };
            next.updated_at = self.now();
            next.version = current.version + 1;
            match self
                .inner
                .store
                .update_ticket(&next, current.version, mail.as_ref())
                .await
            {
                Ok(()) => {
                    return Ok(Changed {
                        before: current,
                        after: next,
                        changed: true,
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(StoreError::NotFound) => return Err(Error::NotFound("ticket")),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Store(StoreError::Conflict))
    }

    pub(crate) async fn fetch_ticket_required(&self, id: TicketId) -> Result<Ticket> {
        self.inner
            .store
            .fetch_ticket(id)
            .await?
            .ok_or(Error::NotFound("ticket"))
    }

    /// Publishes a ticket change to the inbox, the ticket's own topic, and the
    /// assignee's and customer's private topics.
    pub(crate) async fn publish_ticket(&self, ticket: &Ticket, change: TicketChange) {
        let event = Event::TicketChanged {
            ticket: ticket.clone(),
            change,
        };
        self.publish(Topic::Inbox, event.clone()).await;
        self.publish(Topic::Ticket(ticket.id), event.clone()).await;
        self.publish(Topic::User(ticket.customer_id), event.clone())
            .await;
        if let Some(a) = ticket.assignee_id {
            self.publish(Topic::User(a), event).await;
        }
    }

    /// Publishes one event; a bus failure is logged, never fatal, because the
    /// state is already stored and subscribers resynchronise from the store.
    pub(crate) async fn publish(&self, topic: Topic, event: Event) {
        if let Err(e) = self.inner.bus.publish(topic, event).await {
            tracing::warn!(error = %e, "event not published");
        }
    }

    fn assignment_mail(&self, to: &crate::domain::User, ticket: &Ticket) -> Option<OutboxMessage> {
        let recipient = to.email.clone().or_else(|| to.contact_email.clone())?;
        let now = self.now();
        let product = &self.inner.config.mail.product_name;
        Some(OutboxMessage {
            id: OutboxId(self.new_uuid()),
            recipient,
            subject: format!("[{product}] Ticket #{} was assigned to you", ticket.number),
            body: format!(
                "Hello {},\n\nticket #{} \"{}\" was assigned to you.\n",
                to.display_name, ticket.number, ticket.subject
            ),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        })
    }
}

pub(crate) fn require_staff(principal: &Principal) -> Result<()> {
    if principal.is_staff() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

fn invalid_transition(from: TicketStatus, to: TicketStatus) -> Error {
    Error::rule(
        ErrorCode::InvalidTransition,
        format!(
            "A ticket cannot go from {} to {}.",
            from.as_str(),
            to.as_str()
        ),
    )
}

/// Tickets' customers, remembered from reads (a ticket's customer never
/// changes, and a ticket that is gone is refused by the store). Bounded: when
/// full it starts over, which costs only re-reads.
#[derive(Debug, Default)]
pub(crate) struct TicketOwners {
    known: std::sync::Mutex<HashMap<TicketId, UserId>>,
}

/// Tickets remembered at most (about 64 bytes each).
const OWNERS_MAX: usize = 65_536;

impl TicketOwners {
    fn get(&self, id: TicketId) -> Option<UserId> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied()
    }

    pub(crate) fn remember(&self, id: TicketId, customer: UserId) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= OWNERS_MAX && !known.contains_key(&id) {
            known.clear();
        }
        known.insert(id, customer);
    }
}
