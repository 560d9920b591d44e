//! Filters → query strings of the REST API v1 (`GET /api/v1/tickets`,
//! `/users`, `/audit`), and which live tickets a filter admits.

use neurochat_protocol::v1::{AuditAction, Priority, Role, TicketSort, TicketStatus, TicketView};
use uuid::Uuid;

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Builds `?k=v&k=v` (empty without pairs).
#[derive(Debug, Default)]
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn add(&mut self, key: &str, value: impl Into<String>) {
        self.0.push((key.to_owned(), value.into()));
    }
    fn finish(self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

/// Whose tickets the inbox shows (`assignee=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Assignee {
    /// Every ticket (no `assignee` parameter).
    #[default]
    Anyone,
    /// Tickets assigned to the logged-in agent (`me`).
    Me,
    /// Tickets nobody has (`unassigned`).
    Unassigned,
}

impl Assignee {
    /// Every choice, in menu order.
    pub const ALL: &'static [Assignee] = &[Assignee::Anyone, Assignee::Me, Assignee::Unassigned];

    /// The form value (`anyone`, `me`, `unassigned`).
    pub fn as_str(self) -> &'static str {
        match self {
            Assignee::Anyone => "anyone",
            Assignee::Me => "me",
            Assignee::Unassigned => "unassigned",
        }
    }

    /// The choice of a form value.
    pub fn parse(text: &str) -> Option<Assignee> {
        Assignee::ALL.iter().copied().find(|a| a.as_str() == text)
    }
}

/// The inbox's filters, search and sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxFilter {
    /// Statuses shown (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this category.
    pub category_id: Option<Uuid>,
    /// Whose tickets.
    pub assignee: Assignee,
    /// Full-text search (`q`; blank: none).
    pub q: String,
    /// Order of the list.
    pub sort: TicketSort,
}

impl Default for InboxFilter {
    /// Open work: new and in-progress tickets of anyone, recently updated first.
    fn default() -> Self {
        InboxFilter {
            statuses: vec![TicketStatus::New, TicketStatus::InProgress],
            priority: None,
            category_id: None,
            assignee: Assignee::Anyone,
            q: String::new(),
            sort: TicketSort::Updated,
        }
    }
}

/// Page size of the inbox.
pub const PAGE: u32 = 50;

impl InboxFilter {
    /// `GET /api/v1/tickets` query string for one page.
    pub fn to_query(&self, cursor: Option<&str>, limit: u32) -> String {
        let mut p = Pairs::default();
        for s in &self.statuses {
            p.add("status", s.as_str());
        }
        if let Some(pr) = self.priority {
            p.add("priority", pr.as_str());
        }
        if let Some(c) = self.category_id {
            p.add("category_id", c.to_string());
        }
        match self.assignee {
            Assignee::Anyone => {}
            other => p.add("assignee", other.as_str()),
        }
        let q = self.q.trim();
        if !q.is_empty() {
            p.add("q", q);
        }
        p.add("sort", self.sort.as_str());
        if let Some(c) = cursor {
            p.add("cursor", c);
        }
        p.add("limit", limit.to_string());
        p.finish()
    }

    /// Whether a ticket pushed live belongs in the list. A text search
    /// cannot be judged here: with `q` set, only tickets the server listed
    /// are kept (see [`crate::inbox::Inbox::apply_event`]).
    pub fn admits(&self, t: &TicketView, me: Uuid) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&t.status))
            && self.priority.is_none_or(|p| p == t.priority)
            && self.category_id.is_none_or(|c| t.category_id == Some(c))
            && match self.assignee {
                Assignee::Anyone => true,
                Assignee::Me => t.assignee_id == Some(me),
                Assignee::Unassigned => t.assignee_id.is_none(),
            }
    }

    /// Whether a text search is active.
    pub fn searching(&self) -> bool {
        !self.q.trim().is_empty()
    }
}

/// `GET /api/v1/users` query string (admin users page).
pub fn users_query(search: &str, role: Option<Role>, cursor: Option<&str>, limit: u32) -> String {
    let mut p = Pairs::default();
    if !search.trim().is_empty() {
        p.add("search", search.trim());
    }
    if let Some(r) = role {
        p.add("role", r.as_str());
    }
    if let Some(c) = cursor {
        p.add("cursor", c);
    }
    p.add("limit", limit.to_string());
    p.finish()
}

/// `GET /api/v1/audit` query string (admin audit page; also a ticket's
/// trail, see [`ticket_audit_path`]).
pub fn audit_query(
    actor_id: Option<Uuid>,
    action: Option<AuditAction>,
    cursor: Option<&str>,
    limit: u32,
) -> String {
    let mut p = Pairs::default();
    if let Some(a) = actor_id {
        p.add("actor_id", a.to_string());
    }
    if let Some(a) = action {
        p.add("action", a.as_str());
    }
    if let Some(c) = cursor {
        p.add("cursor", c);
    }
    p.add("limit", limit.to_string());
    p.finish()
}

/// `GET /api/v1/tickets/{id}/audit`: a page of one ticket's audit trail
/// (staff), newest first.
pub fn ticket_audit_path(ticket: Uuid, cursor: Option<&str>, limit: u32) -> String {
    format!(
        "/api/v1/tickets/{ticket}/audit{}",
        audit_query(None, None, cursor, limit)
    )
}

/// `GET /api/v1/tickets` of one customer (the "earlier tickets" panel).
pub fn customer_tickets_query(customer_id: Uuid, limit: u32) -> String {
    let mut p = Pairs::default();
    p.add("customer_id", customer_id.to_string());
    p.add("sort", TicketSort::Created.as_str());
    p.add("limit", limit.to_string());
    p.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
    }

    #[test]
    fn default_inbox_query() {
        assert_eq!(
            InboxFilter::default().to_query(None, 50),
            "?status=new&status=in_progress&sort=updated&limit=50"
        );
    }

    #[test]
    fn full_inbox_query() {
        let cat = Uuid::from_u128(0x66);
        let f = InboxFilter {
            statuses: vec![TicketStatus::Resolved],
            priority: Some(Priority::Urgent),
            category_id: Some(cat),
            assignee: Assignee::Unassigned,
            q: "  can't log in ".into(),
            sort: TicketSort::Priority,
        };
        assert_eq!(
            f.to_query(Some("abc+/="), 20),
            format!(
                "?status=resolved&priority=urgent&category_id={cat}&assignee=unassigned\
                 &q=can%27t%20log%20in&sort=priority&cursor=abc%2B%2F%3D&limit=20"
            )
        );
        assert!(f.searching());
        let me = InboxFilter {
            assignee: Assignee::Me,
            statuses: vec![],
            ..InboxFilter::default()
        };
        assert_eq!(me.to_query(None, 5), "?assignee=me&sort=updated&limit=5");
    }

    #[test]
    fn other_queries() {
        assert_eq!(
            users_query(" ann ", Some(Role::Agent), None, 25),
            "?search=ann&role=agent&limit=25"
        );
        assert_eq!(users_query("", None, Some("x"), 25), "?cursor=x&limit=25");
        assert_eq!(
            audit_query(None, Some(AuditAction::TicketClaimed), None, 100),
            "?action=ticket_claimed&limit=100"
        );
        let t = Uuid::from_u128(0x44);
        assert_eq!(
            ticket_audit_path(t, Some("c"), 100),
            format!("/api/v1/tickets/{t}/audit?cursor=c&limit=100")
        );
        let c = Uuid::from_u128(1);
        assert_eq!(
            customer_tickets_query(c, 10),
            format!("?customer_id={c}&sort=created&limit=10")
        );
    }

    #[test]
    fn assignee_round_trip() {
        for a in Assignee::ALL {
            assert_eq!(Assignee::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Assignee::parse("nobody"), None);
    }
}
