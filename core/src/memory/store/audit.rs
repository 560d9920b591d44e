//! [`AuditStore`] for [`MemoryStore`]: the audit log.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::audit::TARGET_TICKET;
use crate::domain::{AuditAction, AuditEntry, AuditFilter, UserId};
use crate::ports::store::{AuditStore, StoreResult};

use super::{MemoryStore, take, unique};

#[async_trait]
impl AuditStore for MemoryStore {
    async fn insert_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let mut st = self.lock();
        if st.audit.contains_key(&entry.id) {
            return Err(unique("audit_log.id"));
        }
        st.audit.insert(entry.id, entry.clone());
        Ok(())
    }

    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let st = self.lock();
        let ticket = filter.target_ticket.map(|t| t.to_string());
        let matches = |e: &&AuditEntry| {
            filter.actor_id.is_none_or(|a| e.actor_id == Some(a))
                && filter.action.is_none_or(|a| e.action == a)
                && ticket.as_deref().is_none_or(|t| {
                    e.target_type.as_deref() == Some(TARGET_TICKET)
                        && e.target_id.as_deref() == Some(t)
                })
                && filter.from.is_none_or(|f| e.at >= f)
                && filter.to.is_none_or(|t| e.at < t)
                && filter.before.is_none_or(|b| e.id < b)
        };
        Ok(take(
            st.audit.values().rev().filter(matches).cloned(),
            filter.limit,
        ))
    }

    async fn count_audit_by_actor(
        &self,
        action: AuditAction,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(UserId, u64)>> {
        let st = self.lock();
        let mut counts: BTreeMap<UserId, u64> = BTreeMap::new();
        for e in st.audit.values() {
            if let Some(actor) = e.actor_id
                && e.action == action
                && e.at >= from
                && e.at < to
            {
                *counts.entry(actor).or_default() += 1;
            }
        }
        Ok(counts.into_iter().collect())
    }
}
