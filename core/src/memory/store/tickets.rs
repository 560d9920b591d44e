//! [`TicketStore`] for [`MemoryStore`]: tickets, their listings and the queue
//! queries.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AssigneeFilter, Message, NewMessage, OutboxMessage, Ticket, TicketCursor, TicketFilter,
    TicketId, TicketSort, TicketStatus, UserId,
};
use crate::ports::store::{StoreError, StoreResult, TicketStore};

use super::{MemoryStore, apply_message_effects, in_range, search_words, take, unique};

#[async_trait]
impl TicketStore for MemoryStore {
    async fn insert_ticket_with_first_message(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> StoreResult<(Ticket, Message)> {
        let mut st = self.lock();
        if st.tickets.contains_key(&ticket.id) {
            return Err(unique("tickets.id"));
        }
        if st.message_ids.contains(&first.id) {
            return Err(unique("messages.id"));
        }
        st.check_ticket_refs(ticket)?;
        if let Some(a) = first.author_id {
            st.require_user(a)?;
        }
        if first.client_msg_id.is_some()
            && st
                .first_message_of(first.author_id, first.client_msg_id.as_deref())
                .is_some()
        {
            return Err(unique("tickets.first_message"));
        }
        st.last_ticket_number += 1;
        let mut stored = ticket.clone();
        stored.number = st.last_ticket_number;
        // The message fields are the store's: derived from the messages only.
        stored.last_seq = 0;
        stored.awaiting_since = None;
        stored.last_agent_seq = 0;
        stored.last_agent_message_at = None;
        let mut message = first.with_seq(1);
        message.ticket_id = ticket.id;
        apply_message_effects(&mut stored, &message);
        st.tickets.insert(stored.id, stored.clone());
        st.message_ids.insert(message.id);
        st.messages.insert(stored.id, vec![message.clone()]);
        Ok((stored, message))
    }

    async fn fetch_ticket(&self, id: TicketId) -> StoreResult<Option<Ticket>> {
        Ok(self.lock().tickets.get(&id).cloned())
    }

    async fn fetch_ticket_by_first_message(
        &self,
        author: UserId,
        client_msg_id: &str,
    ) -> StoreResult<Option<(Ticket, Message)>> {
        let st = self.lock();
        Ok(st
            .first_message_of(Some(author), Some(client_msg_id))
            .and_then(|m| st.tickets.get(&m.ticket_id).map(|t| (t.clone(), m.clone()))))
    }

    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        mail: Option<&OutboxMessage>,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        match st.tickets.get(&ticket.id) {
            None => return Err(StoreError::NotFound),
            Some(stored) if stored.version != expected_version => {
                return Err(StoreError::Conflict);
            }
            Some(_) => {}
        }
        // `customer_id` is never changed, so only the other references are checked.
        if let Some(a) = ticket.assignee_id {
            st.require_user(a)?;
        }
        if let Some(c) = ticket.category_id
            && !st.categories.contains_key(&c)
        {
            return Err(StoreError::ForeignKey);
        }
        if let Some(m) = mail
            && st.outbox.contains_key(&m.id)
        {
            return Err(unique("outbox.id"));
        }
        let stored = st.tickets.get_mut(&ticket.id).ok_or(StoreError::NotFound)?;
        stored.status = ticket.status;
        stored.priority = ticket.priority;
        stored.category_id = ticket.category_id;
        stored.assignee_id = ticket.assignee_id;
        stored.updated_at = ticket.updated_at;
        stored.first_response_at = ticket.first_response_at;
        stored.resolved_at = ticket.resolved_at;
        stored.closed_at = ticket.closed_at;
        stored.customer_notified_seq = ticket.customer_notified_seq;
        stored.escalated_new_at = ticket.escalated_new_at;
        stored.escalated_awaiting_since = ticket.escalated_awaiting_since;
        stored.version = ticket.version;
        if let Some(m) = mail {
            st.outbox.insert(m.id, m.clone());
        }
        Ok(())
    }

    async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let words = filter.text.as_deref().map(search_words).unwrap_or_default();
        let sort = filter.sort;
        let ascending = sort == TicketSort::CreatedAsc;
        let position = |t: &Ticket| {
            let c = TicketCursor::of(t, sort);
            (c.key, c.id)
        };
        let mut page: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                filter.customer_id.is_none_or(|c| t.customer_id == c)
                    && (filter.statuses.is_empty() || filter.statuses.contains(&t.status))
                    && filter.category_id.is_none_or(|c| t.category_id == Some(c))
                    && (filter.priorities.is_empty() || filter.priorities.contains(&t.priority))
                    && match filter.assignee {
                        AssigneeFilter::Any => true,
                        AssigneeFilter::Unassigned => t.assignee_id.is_none(),
                        AssigneeFilter::User(u) => t.assignee_id == Some(u),
                    }
                    && in_range(t.created_at, filter.created_from, filter.created_to)
                    && in_range(t.updated_at, filter.updated_from, filter.updated_to)
                    && filter.after.is_none_or(|a| {
                        let (pos, cur) = (position(t), (a.key, a.id));
                        if ascending { pos > cur } else { pos < cur }
                    })
                    && (words.is_empty()
                        || st.ticket_matches_text(t, &words, filter.include_internal))
            })
            .collect();
        if ascending {
            page.sort_by_key(|t| position(t));
        } else {
            page.sort_by_key(|t| std::cmp::Reverse(position(t)));
        }
        Ok(take(page.into_iter().cloned(), filter.limit))
    }

    async fn list_escalation_candidates(
        &self,
        new_before: OffsetDateTime,
        awaiting_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                let still_new = t.status == TicketStatus::New
                    && t.created_at <= new_before
                    && t.escalated_new_at.is_none();
                let unanswered = matches!(t.status, TicketStatus::New | TicketStatus::InProgress)
                    && t.awaiting_since.is_some_and(|a| a <= awaiting_before)
                    && t.escalated_awaiting_since != t.awaiting_since;
                still_new || unanswered
            })
            .collect();
        due.sort_by_key(|t| (t.created_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_tickets_to_close(
        &self,
        resolved_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                t.status == TicketStatus::Resolved
                    && t.resolved_at.is_some_and(|r| r <= resolved_before)
            })
            .collect();
        due.sort_by_key(|t| (t.resolved_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_notifications_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                let read_seq = st
                    .receipts
                    .get(&(t.id, t.customer_id))
                    .map_or(0, |r| r.read_seq);
                t.status != TicketStatus::Closed
                    && t.last_agent_message_at.is_some_and(|a| a <= before)
                    && t.last_agent_seq > t.customer_notified_seq
                    && t.last_agent_seq > read_seq
            })
            .collect();
        due.sort_by_key(|t| (t.last_agent_message_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_tickets_in_window(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut hits: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                in_range(t.created_at, Some(from), Some(to))
                    || t.resolved_at
                        .is_some_and(|r| in_range(r, Some(from), Some(to)))
            })
            .collect();
        hits.sort_by_key(|t| (t.created_at, t.id));
        Ok(hits.into_iter().cloned().collect())
    }
}
