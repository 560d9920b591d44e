//! The JSON the widget reads: WebSocket server frames and REST bodies.
//!
//! Client frames are written with `neurochat_protocol::v1::ClientFrame`
//! itself. What the widget *reads* is parsed into the lean mirrors below
//! instead of `ServerFrame`: one flat struct with optional fields (no
//! internally tagged enum buffering every frame), timestamps kept as the
//! server's strings (no date parser in the WASM), and unknown kinds, codes
//! and statuses kept as strings (a newer server never makes a frame
//! unreadable). The tests parse every protocol golden file and values
//! serialised from the protocol types, so the mirrors cannot drift.

use serde::Deserialize;
use uuid::Uuid;

/// Any server frame; which fields are present depends on `type`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Frame {
    /// The frame's `type` tag (`hello`, `ack`, `message`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// `ack` / `error`: the request answered.
    pub req: Option<u64>,
    /// `ack`: the stored message's seq (`send`, `create_ticket`).
    pub seq: Option<u64>,
    /// `ack` (`create_ticket`) and `typing`: the ticket.
    pub ticket_id: Option<Uuid>,
    /// `typing`: who.
    pub user_id: Option<Uuid>,
    /// `typing`: started or stopped.
    pub active: Option<bool>,
    /// `hello`: the connection's limits.
    pub limits: Option<Limits>,
    /// `message`: the message.
    pub message: Option<Message>,
    /// `receipt`: the moved marks.
    pub receipt: Option<Receipt>,
    /// `ticket_event`: the ticket after the change.
    pub ticket: Option<Ticket>,
    /// `error`: what went wrong.
    pub error: Option<ErrorBody>,
}

/// `hello.limits` (only what the widget uses).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Limits {
    /// Longest body the server accepts, in characters.
    pub max_body_chars: u32,
}

/// A conversation message.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// The ticket it belongs to.
    pub ticket_id: Uuid,
    /// Its position in the conversation.
    pub seq: u64,
    /// `customer`, `agent`, `system` (customers never get `internal_note`).
    pub kind: String,
    /// The text.
    pub body: String,
    /// The author's idempotency key, echoed.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// When the server stored it (RFC 3339).
    #[serde(default)]
    pub created_at: String,
}

/// A participant's receipt marks.
#[derive(Debug, Clone, Deserialize)]
pub struct Receipt {
    /// The ticket.
    pub ticket_id: Uuid,
    /// The participant whose marks moved.
    pub user_id: Uuid,
    /// Highest seq delivered to them.
    #[serde(default)]
    pub delivered_seq: u64,
    /// Highest seq they read.
    #[serde(default)]
    pub read_seq: u64,
}

/// A ticket as listings and `ticket_event` frames show it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ticket {
    /// Its id.
    pub id: Uuid,
    /// Its number (`#1042`).
    #[serde(default)]
    pub number: u64,
    /// Its subject.
    #[serde(default)]
    pub subject: String,
    /// `new`, `in_progress`, `resolved`, `closed`.
    #[serde(default)]
    pub status: String,
    /// When it last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
    /// Seq of its latest message.
    #[serde(default)]
    pub last_seq: u64,
}

/// An error body (WebSocket `error.error`, and REST problem documents,
/// which carry the same `code`).
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    /// The stable machine-readable code.
    pub code: String,
}

/// `GET /api/v1/tickets`: one page of the visitor's own tickets.
#[derive(Debug, Deserialize)]
pub struct TicketPage {
    /// The tickets, most recently updated first.
    pub items: Vec<Ticket>,
}

/// `POST /api/v1/widget/sessions` → 201.
#[derive(Debug, Deserialize)]
pub struct SessionResponse {
    /// The visitor token.
    pub visitor_token: String,
    /// When it expires (RFC 3339).
    #[serde(default)]
    pub expires_at: String,
    /// The visitor's user.
    pub user: UserRef,
}

/// The part of a `UserView` the widget needs.
#[derive(Debug, Deserialize)]
pub struct UserRef {
    /// The visitor's user id (to tell own receipts and typing from support's).
    pub id: Uuid,
}

/// `GET /api/v1/widget/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Status {
    /// Agents online now.
    #[serde(default)]
    pub agents_online: u32,
    /// The team's usual reply time, if known.
    #[serde(default)]
    pub reply_within_seconds: Option<u64>,
}

/// Parses a server frame; `None` for anything unreadable (the frame is
/// ignored, never a panic).
pub fn parse_frame(text: &str) -> Option<Frame> {
    serde_json::from_str(text).ok()
}

/// Parses a REST body; `None` when it is not the expected JSON.
pub fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

/// The `code` of a problem document or error body, if there is one.
pub fn problem_code(text: &str) -> Option<String> {
    parse::<ErrorBody>(text).map(|e| e.code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurochat_protocol::v1::{
        Page, Priority, ServerFrame, TicketChange, TicketStatus, TicketView,
    };

    fn golden(name: &str) -> String {
        let path = format!(
            "{}/../protocol/tests/golden/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_golden_server_frame_parses() {
        let dir = format!("{}/../protocol/tests/golden", env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("golden dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.starts_with("frames.server.") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            // The protocol type reads it, and so does the mirror, with the
            // same tag.
            let full: ServerFrame = serde_json::from_str(&text).expect("protocol parses");
            let lean = parse_frame(&text).unwrap_or_else(|| panic!("{name} unreadable"));
            let tag = serde_json::to_value(&full).expect("value")["type"].clone();
            assert_eq!(tag, lean.kind.as_str(), "{name}");
            n += 1;
        }
        assert!(n >= 10, "found {n} server frame goldens");
    }

    #[test]
    fn golden_fields_land_where_the_reducer_reads_them() {
        let hello = parse_frame(&golden("frames.server.hello")).expect("hello");
        assert_eq!(hello.limits.map(|l| l.max_body_chars), Some(10_000));
        let m = parse_frame(&golden("frames.server.message"))
            .and_then(|f| f.message)
            .expect("message");
        assert_eq!((m.seq, m.kind.as_str()), (7, "agent"));
        assert_eq!(m.client_msg_id.as_deref(), Some("c-7f3a"));
        assert_eq!(m.created_at, "2026-01-01T00:44:00Z");
        let ack = parse_frame(&golden("frames.server.ack")).expect("ack");
        assert_eq!((ack.req, ack.seq), (Some(5), Some(1)));
        assert!(ack.ticket_id.is_some());
        let r = parse_frame(&golden("frames.server.receipt"))
            .and_then(|f| f.receipt)
            .expect("receipt");
        assert_eq!((r.delivered_seq, r.read_seq), (7, 6));
        let t = parse_frame(&golden("frames.server.ticket_event"))
            .and_then(|f| f.ticket)
            .expect("ticket");
        assert_eq!((t.status.as_str(), t.last_seq), ("resolved", 7));
        let e = parse_frame(&golden("frames.server.error")).expect("error");
        assert_eq!(e.req, Some(4));
        assert_eq!(e.error.map(|e| e.code).as_deref(), Some("ticket_closed"));
        let typing = parse_frame(&golden("frames.server.typing")).expect("typing");
        assert_eq!(typing.active, Some(true));
    }

    #[test]
    fn protocol_serialised_tickets_parse() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let view = TicketView {
            id: Uuid::from_u128(1),
            number: 3,
            subject: "s".into(),
            customer_id: Uuid::from_u128(2),
            category_id: None,
            priority: Priority::Normal,
            status: TicketStatus::InProgress,
            assignee_id: None,
            created_at: at,
            updated_at: at,
            first_response_at: None,
            resolved_at: None,
            last_seq: 4,
        };
        let page = Page::last(vec![view.clone()]);
        let p: TicketPage = parse(&serde_json::to_string(&page).expect("json")).expect("page");
        assert_eq!(p.items[0].status, "in_progress");
        assert_eq!(p.items[0].last_seq, 4);
        let frame = ServerFrame::TicketEvent {
            ticket: view,
            change: TicketChange::Status,
        };
        let f = parse_frame(&serde_json::to_string(&frame).expect("json")).expect("frame");
        assert_eq!(f.kind, "ticket_event");
    }

    #[test]
    fn unknown_frames_and_values_do_not_fail() {
        let f = parse_frame(r#"{"type":"future","x":[1,2]}"#).expect("future frame");
        assert_eq!(f.kind, "future");
        let f = parse_frame(
            r#"{"type":"message","message":{"id":"55555555-5555-4555-8555-555555555555",
            "ticket_id":"44444444-4444-4444-8444-444444444444","seq":1,"kind":"bot",
            "body":"b","created_at":"x","extra":true}}"#,
        )
        .expect("new kind");
        assert_eq!(f.message.map(|m| m.kind).as_deref(), Some("bot"));
        assert!(parse_frame("not json").is_none());
        assert!(parse_frame(r#"{"type":"ack","req":"x"}"#).is_none());
        // An array reads as a frame without a type, which nothing handles.
        assert_eq!(parse_frame("[]").map(|f| f.kind).as_deref(), Some(""));
    }

    #[test]
    fn rest_bodies() {
        let s: SessionResponse =
            parse(&golden("auth.visitor_session_response")).expect("session response");
        assert!(s.visitor_token.starts_with("ncv_") || !s.visitor_token.is_empty());
        assert_eq!(
            parse::<Status>(r#"{"agents_online":2,"reply_within_seconds":null}"#),
            Some(Status {
                agents_online: 2,
                reply_within_seconds: None
            })
        );
        assert_eq!(
            problem_code(r#"{"type":"urn:neurochat:problem:identity_invalid","code":"identity_invalid","status":401}"#)
                .as_deref(),
            Some("identity_invalid")
        );
        assert_eq!(problem_code("<html>"), None);
    }
}
