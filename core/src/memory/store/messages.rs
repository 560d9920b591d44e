//! [`MessageStore`] for [`MemoryStore`]: messages, their effects on the ticket,
//! and read receipts.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{InsertMessage, Message, NewMessage, Receipt, TicketId, TicketStatus, UserId};
use crate::ports::store::{MessageStore, StoreError, StoreResult};

use super::{MemoryStore, apply_message_effects, take, unique, visible};

#[async_trait]
impl MessageStore for MemoryStore {
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<InsertMessage> {
        let mut st = self.lock();
        let Some(ticket) = st.tickets.get(&message.ticket_id) else {
            return Err(StoreError::NotFound);
        };
        let closed = ticket.status == TicketStatus::Closed;
        if message.client_msg_id.is_some()
            && let Some(original) = st.messages.get(&message.ticket_id).and_then(|ms| {
                ms.iter().find(|m| {
                    m.author_id == message.author_id && m.client_msg_id == message.client_msg_id
                })
            })
        {
            return Ok(InsertMessage::Duplicate(original.clone()));
        }
        if closed {
            return Err(StoreError::Conflict);
        }
        if st.message_ids.contains(&message.id) {
            return Err(unique("messages.id"));
        }
        if let Some(a) = message.author_id {
            st.require_user(a)?;
        }
        let ticket = st
            .tickets
            .get_mut(&message.ticket_id)
            .ok_or(StoreError::NotFound)?;
        let previous_status = ticket.status;
        let stored = message.with_seq(ticket.last_seq + 1);
        apply_message_effects(ticket, &stored);
        let ticket = ticket.clone();
        st.message_ids.insert(stored.id);
        st.messages
            .entry(message.ticket_id)
            .or_default()
            .push(stored.clone());
        Ok(InsertMessage::Inserted {
            message: stored,
            ticket,
            previous_status,
        })
    }

    async fn list_messages_after(
        &self,
        ticket_id: TicketId,
        after_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let Some(ms) = st.messages.get(&ticket_id) else {
            return Ok(Vec::new());
        };
        Ok(take(
            ms.iter()
                .filter(|m| m.seq > after_seq && visible(m, include_internal))
                .cloned(),
            limit,
        ))
    }

    async fn list_messages_before(
        &self,
        ticket_id: TicketId,
        before_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let Some(ms) = st.messages.get(&ticket_id) else {
            return Ok(Vec::new());
        };
        let mut page = take(
            ms.iter()
                .rev()
                .filter(|m| m.seq < before_seq && visible(m, include_internal))
                .cloned(),
            limit,
        );
        page.reverse();
        Ok(page)
    }

    async fn update_receipt(
        &self,
        ticket_id: TicketId,
        user_id: UserId,
        delivered_seq: i64,
        read_seq: i64,
        now: OffsetDateTime,
    ) -> StoreResult<Receipt> {
        let mut st = self.lock();
        if !st.tickets.contains_key(&ticket_id) {
            return Err(StoreError::ForeignKey);
        }
        st.require_user(user_id)?;
        let r = st
            .receipts
            .entry((ticket_id, user_id))
            .or_insert_with(|| Receipt {
                ticket_id,
                user_id,
                delivered_seq: 0,
                read_seq: 0,
                updated_at: now,
            });
        let read = r.read_seq.max(read_seq);
        let delivered = r.delivered_seq.max(delivered_seq).max(read_seq);
        if (delivered, read) != (r.delivered_seq, r.read_seq) {
            r.delivered_seq = delivered;
            r.read_seq = read;
            r.updated_at = now;
        }
        Ok(r.clone())
    }

    async fn list_receipts(&self, ticket_id: TicketId) -> StoreResult<Vec<Receipt>> {
        // Keyed by `(ticket, user)`: the ticket's receipts come in user order.
        Ok(self
            .lock()
            .receipts
            .values()
            .filter(|r| r.ticket_id == ticket_id)
            .cloned()
            .collect())
    }
}
