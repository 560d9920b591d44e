//! The samples of `neurochat_protocol::v1::audit`.

use neurochat_protocol::v1::*;

use super::{ADMIN, AGENT, AUDIT_ENTRY, at};
use crate::{Sample, Unknown, sample};

pub(super) fn audit_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample("audit.audit_action", Vocabulary, AuditAction::ALL.to_vec()),
        sample(
            "audit.audit_entry_view",
            Ignored,
            AuditEntryView {
                id: AUDIT_ENTRY,
                at: at(30),
                actor_id: Some(ADMIN),
                action: AuditAction::RoleChanged,
                target_type: Some("user".to_owned()),
                target_id: Some(AGENT.to_string()),
                source_ip: Some("203.0.113.7".to_owned()),
                detail: Some("customer -> agent".to_owned()),
            },
        ),
        sample(
            "audit.audit_entry_view.anonymous",
            Ignored,
            AuditEntryView {
                id: AUDIT_ENTRY,
                at: at(31),
                actor_id: None,
                action: AuditAction::LoginFailed,
                target_type: None,
                target_id: None,
                source_ip: None,
                detail: None,
            },
        ),
        sample(
            "audit.audit_query",
            Ignored,
            AuditQuery {
                actor_id: Some(ADMIN),
                action: Some(AuditAction::RoleChanged),
                from: Some(at(0)),
                to: Some(at(60)),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(100),
            },
        ),
    ]
}
