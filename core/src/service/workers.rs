//! Background work driven by the injected clock: auto-assignment of waiting
//! tickets, SLA escalations, closing long-resolved tickets, batched email to
//! customers about unread replies, and outbox delivery. Every pass is safe to
//! run on several nodes at once: each change is a compare-and-set, so a
//! breach escalates once and a reply batch is mailed once.

use std::future::Future;
use std::time::Duration as StdDuration;

use time::OffsetDateTime;

use crate::Desk;
use crate::domain::audit::TARGET_TICKET;
use crate::domain::{
    AgentLoad, AssigneeFilter, AuditAction, Availability, MessageKind, OutboxId, OutboxMessage,
    Ticket, TicketFilter, TicketId, TicketSort, TicketStatus, UserId,
};
use crate::error::Result;
use crate::events::{EscalationReason, Event, TicketChange, Topic};
use crate::principal::RequestContext;
use crate::service::outbox::OutboxReport;

/// Tickets handled per kind of work in one pass.
const BATCH: u32 = 100;
/// Agent replies quoted in one notification mail.
const MAIL_MESSAGES_MAX: usize = 10;

/// What one background pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkReport {
    /// Waiting tickets given to an agent.
    pub assigned: u32,
    /// Escalations raised.
    pub escalated: u32,
    /// Resolved tickets closed.
    pub closed: u32,
    /// Customers emailed about unread replies.
    pub notified: u32,
    /// Outbox delivery.
    pub mail: OutboxReport,
}

/// The online agent with the fewest open tickets under their capacity (ties:
/// lowest id, so the choice is deterministic).
fn pick_agent(loads: &[AgentLoad]) -> Option<UserId> {
    loads
        .iter()
        .filter(|l| {
            l.user.availability == Availability::Online
                && !l.user.disabled
                && l.open_tickets < i64::from(l.user.capacity)
        })
        .min_by_key(|l| (l.open_tickets, l.user.id))
        .map(|l| l.user.id)
}

impl Desk {
    /// Gives one unassigned `new` ticket to the best available agent, if any.
    /// Returns the ticket if it was assigned now.
    pub(crate) async fn auto_assign(&self, id: TicketId) -> Result<Option<Ticket>> {
        let loads = self.inner.store.list_agent_loads().await?;
        let Some(agent) = pick_agent(&loads) else {
            return Ok(None);
        };
        self.auto_assign_to(id, agent).await
    }

    async fn auto_assign_to(&self, id: TicketId, agent: UserId) -> Result<Option<Ticket>> {
        let c = self
            .change_ticket(id, |t| {
                if t.assignee_id.is_some() || t.status != TicketStatus::New {
                    return Ok(None);
                }
                let mut n = t.clone();
                n.assignee_id = Some(agent);
                n.status = TicketStatus::InProgress;
                Ok(Some((n, None)))
            })
            .await?;
        if !c.changed {
            return Ok(None);
        }
        self.audit(
            None,
            AuditAction::TicketAssigned,
            Some((TARGET_TICKET, id.to_string())),
            &RequestContext::default(),
            Some(&format!("auto to {agent}")),
        )
        .await;
        self.publish_ticket(&c.after, TicketChange::Assigned).await;
        Ok(Some(c.after))
    }

    /// Assigns waiting tickets (oldest first) while agents have room. Runs
    /// when auto-assignment is on; called after an agent comes online or
    /// frees capacity, and by every background pass.
    pub async fn assign_waiting_tickets(&self) -> Result<u32> {
        if !self.inner.config.tickets.auto_assign {
            return Ok(0);
        }
        let mut loads = self.inner.store.list_agent_loads().await?;
        let waiting = self
            .inner
            .store
            .list_tickets(&TicketFilter {
                statuses: vec![TicketStatus::New],
                assignee: AssigneeFilter::Unassigned,
                sort: TicketSort::CreatedAsc,
                limit: BATCH,
                ..TicketFilter::default()
            })
            .await?;
        let mut assigned = 0;
        for ticket in waiting {
            let Some(agent) = pick_agent(&loads) else {
                break;
            };
            if self.auto_assign_to(ticket.id, agent).await?.is_some() {
                assigned += 1;
                if let Some(l) = loads.iter_mut().find(|l| l.user.id == agent) {
                    l.open_tickets += 1;
                }
            }
        }
        Ok(assigned)
    }

    /// Raises SLA escalations that are due: a ticket still `new` after
    /// `escalate_new_after`, and a customer message unanswered after
    /// `escalate_unanswered_after`. Each breach escalates once; it is recorded
    /// on the ticket and published to the inbox (and to the assignee).
    pub async fn run_escalations(&self) -> Result<u32> {
        let cfg = &self.inner.config.tickets;
        let now = self.now();
        // A disabled SLA gets a cutoff no ticket can reach.
        let cutoff = |d: Option<time::Duration>| d.map_or(OffsetDateTime::UNIX_EPOCH, |d| now - d);
        let (new_before, awaiting_before) = (
            cutoff(cfg.escalate_new_after),
            cutoff(cfg.escalate_unanswered_after),
        );
        let candidates = self
            .inner
            .store
            .list_escalation_candidates(new_before, awaiting_before, BATCH)
            .await?;
        let breaches = |t: &Ticket| {
            let new = cfg.escalate_new_after.is_some()
                && t.status == TicketStatus::New
                && t.created_at <= new_before
                && t.escalated_new_at.is_none();
            let unanswered = cfg.escalate_unanswered_after.is_some()
                && matches!(t.status, TicketStatus::New | TicketStatus::InProgress)
                && t.awaiting_since.is_some_and(|a| a <= awaiting_before)
                && t.escalated_awaiting_since != t.awaiting_since;
            (new, unanswered)
        };
        let mut raised = 0;
        for ticket in candidates {
            let c = self
                .change_ticket(ticket.id, |t| {
                    let (new, unanswered) = breaches(t);
                    if !new && !unanswered {
                        return Ok(None);
                    }
                    let mut n = t.clone();
                    if new {
                        n.escalated_new_at = Some(now);
                    }
                    if unanswered {
                        n.escalated_awaiting_since = t.awaiting_since;
                    }
                    Ok(Some((n, None)))
                })
                .await?;
            if !c.changed {
                continue;
            }
            let (new, unanswered) = breaches(&c.before);
            for (hit, reason) in [
                (new, EscalationReason::NewTooLong),
                (unanswered, EscalationReason::Unanswered),
            ] {
                if !hit {
                    continue;
                }
                raised += 1;
                tracing::info!(ticket = %c.after.id, reason = reason.as_str(), "ticket escalated");
                let event = Event::Escalated {
                    ticket: c.after.clone(),
                    reason,
                };
                self.publish(Topic::Inbox, event.clone()).await;
                if let Some(a) = c.after.assignee_id {
                    self.publish(Topic::User(a), event).await;
                }
            }
        }
        Ok(raised)
    }

    /// Closes tickets resolved longer ago than `close_after_resolved`.
    pub async fn close_resolved_tickets(&self) -> Result<u32> {
        let Some(after) = self.inner.config.tickets.close_after_resolved else {
            return Ok(0);
        };
        let now = self.now();
        let cutoff = now - after;
        let due = self
            .inner
            .store
            .list_tickets_to_close(cutoff, BATCH)
            .await?;
        let mut closed = 0;
        for ticket in due {
            let c = self
                .change_ticket(ticket.id, |t| {
                    if t.status != TicketStatus::Resolved
                        || t.resolved_at.is_none_or(|r| r > cutoff)
                    {
                        return Ok(None);
                    }
                    let mut n = t.clone();
                    n.status = TicketStatus::Closed;
                    n.closed_at = Some(now);
                    Ok(Some((n, None)))
                })
                .await?;
            if c.changed {
                closed += 1;
                self.audit(
                    None,
                    AuditAction::TicketStatusChanged,
                    Some((TARGET_TICKET, ticket.id.to_string())),
                    &RequestContext::default(),
                    Some("resolved -> closed (automatic)"),
                )
                .await;
                self.publish_ticket(&c.after, TicketChange::Status).await;
            }
        }
        Ok(closed)
    }

    /// Emails customers about agent replies they have not read within
    /// `customer_email_delay`: one mail per batch of replies, never one per
    /// message, never twice for the same reply.
    pub async fn notify_customers(&self) -> Result<u32> {
        let Some(delay) = self.inner.config.tickets.customer_email_delay else {
            return Ok(0);
        };
        let due = self
            .inner
            .store
            .list_notifications_due(self.now() - delay, BATCH)
            .await?;
        let mut notified = 0;
        for ticket in due {
            if self.notify_customer(&ticket).await? {
                notified += 1;
            }
        }
        Ok(notified)
    }

    async fn notify_customer(&self, ticket: &Ticket) -> Result<bool> {
        let store = &self.inner.store;
        let read = store
            .list_receipts(ticket.id)
            .await?
            .into_iter()
            .find(|r| r.user_id == ticket.customer_id)
            .map_or(0, |r| r.read_seq);
        let from = read.max(ticket.customer_notified_seq);
        let replies: Vec<_> = store
            .list_messages_after(ticket.id, from, 500, false)
            .await?
            .into_iter()
            .filter(|m| m.kind == MessageKind::Agent)
            .collect();
        let Some(upto) = replies.last().map(|m| m.seq) else {
            return Ok(false);
        };
        let customer = store.fetch_user(ticket.customer_id).await?;
        let recipient = customer
            .as_ref()
            .filter(|u| !u.disabled)
            .and_then(|u| u.email.clone().or_else(|| u.contact_email.clone()));
        // Without an address there is nobody to mail; the batch is still marked
        // so it is not reconsidered every pass.
        let mail = recipient.map(|to| self.replies_mail(to, ticket, &replies));
        let c = self
            .change_ticket(ticket.id, |t| {
                if t.customer_notified_seq >= upto {
                    return Ok(None);
                }
                let mut n = t.clone();
                n.customer_notified_seq = upto;
                Ok(Some((n, mail.clone())))
            })
            .await?;
        Ok(c.changed && mail.is_some())
    }

    fn replies_mail(
        &self,
        to: String,
        ticket: &Ticket,
        replies: &[crate::domain::Message],
    ) -> OutboxMessage {
        let product = &self.inner.config.mail.product_name;
        let now = self.now();
        let shown = &replies[replies.len().saturating_sub(MAIL_MESSAGES_MAX)..];
        let mut body = format!(
            "You have {} new {} on your ticket #{} \"{}\":\n",
            replies.len(),
            if replies.len() == 1 {
                "reply"
            } else {
                "replies"
            },
            ticket.number,
            ticket.subject
        );
        for m in shown {
            body.push_str("\n---\n");
            body.push_str(&m.body);
            body.push('\n');
        }
        body.push_str("\nOpen the chat on our site to answer.\n");
        OutboxMessage {
            id: OutboxId(self.new_uuid()),
            recipient: to,
            subject: format!("[{product}] New reply on ticket #{}", ticket.number),
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        }
    }

    /// One pass of all background work, then outbox delivery.
    pub async fn run_background_once(&self) -> Result<WorkReport> {
        Ok(WorkReport {
            assigned: self.assign_waiting_tickets().await?,
            escalated: self.run_escalations().await?,
            closed: self.close_resolved_tickets().await?,
            notified: self.notify_customers().await?,
            mail: self.deliver_outbox(50).await?,
        })
    }

    /// Runs [`Desk::run_background_once`] every `every` until `shutdown`.
    pub fn spawn_background_worker(
        &self,
        every: StdDuration,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let desk = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = tick.tick() => {
                        if let Err(e) = desk.run_background_once().await {
                            tracing::error!(error = %e, "background pass failed");
                        }
                    }
                }
            }
        })
    }
}
