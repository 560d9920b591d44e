//! [`OutboxStore`] for [`MemoryStore`]: the mail outbox and its leases.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{OutboxId, OutboxMessage};
use crate::ports::store::{OutboxStore, StoreError, StoreResult};

use super::{MemoryStore, take, unique};

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn insert_outbox(&self, mail: &OutboxMessage) -> StoreResult<()> {
        let mut st = self.lock();
        if st.outbox.contains_key(&mail.id) {
            return Err(unique("outbox.id"));
        }
        st.outbox.insert(mail.id, mail.clone());
        Ok(())
    }

    async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut st = self.lock();
        let mut due: Vec<(OffsetDateTime, OutboxId)> = st
            .outbox
            .values()
            .filter(|m| m.sent_at.is_none() && m.next_attempt_at <= now)
            .map(|m| (m.created_at, m.id))
            .collect();
        due.sort();
        let mut claimed = Vec::new();
        for (_, id) in take(due.into_iter(), limit) {
            if let Some(m) = st.outbox.get_mut(&id) {
                m.attempts = m.attempts.saturating_add(1);
                m.next_attempt_at = lease_until;
                claimed.push(m.clone());
            }
        }
        Ok(claimed)
    }

    async fn update_outbox_sent(&self, id: OutboxId, now: OffsetDateTime) -> StoreResult<()> {
        let mut st = self.lock();
        let m = st.outbox.get_mut(&id).ok_or(StoreError::NotFound)?;
        m.sent_at = Some(now);
        Ok(())
    }

    async fn update_outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        let m = st.outbox.get_mut(&id).ok_or(StoreError::NotFound)?;
        m.last_error = Some(error.to_owned());
        m.next_attempt_at = retry_at;
        Ok(())
    }

    async fn fetch_outbox(&self, id: OutboxId) -> StoreResult<Option<OutboxMessage>> {
        Ok(self.lock().outbox.get(&id).cloned())
    }
}
