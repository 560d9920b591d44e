//! The JSON the widget reads: WebSocket server frames, REST bodies and its
//! own stored state.
//!
//! Client frames are written with `neurochat_protocol::v1::ClientFrame`
//! itself. What the widget *reads* is not parsed by serde in the WASM: the
//! browser's `JSON.parse` does that for free, and the lean mirrors below
//! pick their fields through the small [`Json`] accessor (implemented for
//! `JsValue` in the web layer and for `serde_json::Value` natively). That
//! keeps serde_json's deserializer, its error formatting and float printing
//! out of the module (about half of its size). Timestamps stay the
//! server's strings (no date parser), unknown kinds, codes and statuses
//! stay strings (a newer server never makes a frame unreadable), and a
//! missing required field makes the whole value `None` (ignored, never a
//! panic). The tests read every protocol golden file and values serialised
//! from the protocol types, so the mirrors cannot drift.

use uuid::Uuid;

/// Read access to a parsed JSON value.
pub trait Json: Sized {
    /// The member `key` of an object.
    fn get(&self, key: &str) -> Option<Self>;
    /// The value as a string.
    fn string(&self) -> Option<String>;
    /// The value as a number.
    fn number(&self) -> Option<f64>;
    /// The value as a boolean.
    fn boolean(&self) -> Option<bool>;
    /// The elements of an array.
    fn items(&self) -> Option<Vec<Self>>;

    /// A string member.
    fn str_at(&self, key: &str) -> Option<String> {
        self.get(key)?.string()
    }
    /// A non-negative integer member (exact in a JS number up to 2^53).
    fn u64_at(&self, key: &str) -> Option<u64> {
        let n = self.get(key)?.number()?;
        (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 9.007_199_254_740_992e15)
            .then_some(n as u64)
    }
    /// A uuid member.
    fn uuid_at(&self, key: &str) -> Option<Uuid> {
        parse_uuid(&self.str_at(key)?)
    }
}

/// A hyphenated uuid (`8-4-4-4-12` hex digits, any case). Hand-rolled:
/// `Uuid::try_parse`'s error reporting alone is bigger than this.
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let d = (c as char).to_digit(16)?;
        v = (v << 4) | u128::from(d);
    }
    Some(Uuid::from_u128(v))
}

impl Json for serde_json::Value {
    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).cloned()
    }
    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
}

/// Any server frame; which fields are present depends on `type`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's `type` tag (`hello`, `ack`, `message`, …).
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
    /// `hello`: the longest body the server accepts, in characters.
    pub max_body_chars: Option<u64>,
    /// `message`: the message.
    pub message: Option<Message>,
    /// `receipt`: the moved marks.
    pub receipt: Option<Receipt>,
    /// `ticket_event`: the ticket after the change.
    pub ticket: Option<Ticket>,
    /// `error`: the stable code.
    pub error: Option<String>,
}

impl Frame {
    /// Reads a parsed frame; `None` when it is not an object with a `type`.
    pub fn from_json<J: Json>(j: &J) -> Option<Frame> {
        Some(Frame {
            kind: j.str_at("type")?,
            req: j.u64_at("req"),
            seq: j.u64_at("seq"),
            ticket_id: j.uuid_at("ticket_id"),
            user_id: j.uuid_at("user_id"),
            active: j.get("active").and_then(|a| a.boolean()),
            max_body_chars: j.get("limits").and_then(|l| l.u64_at("max_body_chars")),
            message: j.get("message").and_then(|m| Message::from_json(&m)),
            receipt: j.get("receipt").and_then(|r| Receipt::from_json(&r)),
            ticket: j.get("ticket").and_then(|t| Ticket::from_json(&t)),
            error: j.get("error").and_then(|e| e.str_at("code")),
        })
    }
}

/// A conversation message.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub client_msg_id: Option<String>,
    /// When the server stored it (RFC 3339).
    pub created_at: String,
}

impl Message {
    fn from_json<J: Json>(j: &J) -> Option<Message> {
        Some(Message {
            ticket_id: j.uuid_at("ticket_id")?,
            seq: j.u64_at("seq")?,
            kind: j.str_at("kind")?,
            body: j.str_at("body")?,
            client_msg_id: j.str_at("client_msg_id"),
            created_at: j.str_at("created_at").unwrap_or_default(),
        })
    }
}

/// A participant's receipt marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The ticket.
    pub ticket_id: Uuid,
    /// The participant whose marks moved.
    pub user_id: Uuid,
    /// Highest seq delivered to them.
    pub delivered_seq: u64,
    /// Highest seq they read.
    pub read_seq: u64,
}

impl Receipt {
    fn from_json<J: Json>(j: &J) -> Option<Receipt> {
        Some(Receipt {
            ticket_id: j.uuid_at("ticket_id")?,
            user_id: j.uuid_at("user_id")?,
            delivered_seq: j.u64_at("delivered_seq").unwrap_or(0),
            read_seq: j.u64_at("read_seq").unwrap_or(0),
        })
    }
}

/// A ticket as listings and `ticket_event` frames show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Its id.
    pub id: Uuid,
    /// Its number (`#1042`).
    pub number: u64,
    /// Its subject.
    pub subject: String,
    /// `new`, `in_progress`, `resolved`, `closed`.
    pub status: String,
    /// Seq of its latest message.
    pub last_seq: u64,
}

impl Ticket {
    fn from_json<J: Json>(j: &J) -> Option<Ticket> {
        Some(Ticket {
            id: j.uuid_at("id")?,
            number: j.u64_at("number").unwrap_or(0),
            subject: j.str_at("subject").unwrap_or_default(),
            status: j.str_at("status").unwrap_or_default(),
            last_seq: j.u64_at("last_seq").unwrap_or(0),
        })
    }
}

/// `GET /api/v1/widget/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Agents online now.
    pub agents_online: u32,
    /// The team's usual reply time, if known.
    pub reply_within_seconds: Option<u64>,
}

/// `POST /api/v1/widget/sessions` → 201.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionResponse {
    /// The visitor token.
    pub visitor_token: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// The visitor's user id.
    pub user_id: Uuid,
}

/// What an HTTP request brought back, read for its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A visitor session (2xx of the session start).
    Session(SessionResponse),
    /// The visitor's tickets, most recently updated first.
    Tickets(Vec<Ticket>),
    /// Presence.
    Status(Status),
    /// An error with the server's stable code (problem documents carry
    /// `code`).
    Problem(String),
    /// No response at all (network down, CORS refused).
    Network,
    /// A response the widget cannot use (a 404 from an older server, HTML
    /// from a proxy…).
    Unusable,
}

/// Which request a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    /// The session start.
    Session,
    /// The ticket list.
    Tickets,
    /// The presence status.
    Status,
}

/// Reads a response: `status` 0 means no response; `body` is the parsed
/// JSON, if the body was JSON.
pub fn reply<J: Json>(kind: FetchKind, status: u16, body: Option<&J>) -> Reply {
    if status == 0 {
        return Reply::Network;
    }
    let Some(j) = body else {
        return Reply::Unusable;
    };
    if !(200..300).contains(&status) {
        return j.str_at("code").map_or(Reply::Unusable, Reply::Problem);
    }
    let read = || -> Option<Reply> {
        Some(match kind {
            FetchKind::Session => Reply::Session(SessionResponse {
                visitor_token: j.str_at("visitor_token")?,
                expires_at: j.str_at("expires_at").unwrap_or_default(),
                user_id: j.get("user")?.uuid_at("id")?,
            }),
            FetchKind::Tickets => Reply::Tickets(
                j.get("items")?
                    .items()?
                    .iter()
                    .filter_map(Ticket::from_json)
                    .collect(),
            ),
            FetchKind::Status => Reply::Status(Status {
                agents_online: u32::try_from(j.u64_at("agents_online")?).unwrap_or(u32::MAX),
                reply_within_seconds: j.u64_at("reply_within_seconds"),
            }),
        })
    };
    read().unwrap_or(Reply::Unusable)
}

/// Parses a frame's text natively (tests; the web layer uses `JSON.parse`).
pub fn parse_frame(text: &str) -> Option<Frame> {
    Frame::from_json(&serde_json::from_str::<serde_json::Value>(text).ok()?)
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
        assert_eq!(hello.max_body_chars, Some(10_000));
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
        assert_eq!(e.error.as_deref(), Some("ticket_closed"));
        let typing = parse_frame(&golden("frames.server.typing")).expect("typing");
        assert_eq!(typing.active, Some(true));
    }

    fn value(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("json")
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
        let page = serde_json::to_value(Page::last(vec![view.clone()])).expect("json");
        let Reply::Tickets(items) = reply(FetchKind::Tickets, 200, Some(&page)) else {
            panic!("tickets");
        };
        assert_eq!(items[0].status, "in_progress");
        assert_eq!((items[0].last_seq, items[0].number), (4, 3));
        let frame = ServerFrame::TicketEvent {
            ticket: view,
            change: TicketChange::Status,
        };
        let f = parse_frame(&serde_json::to_string(&frame).expect("json")).expect("frame");
        assert_eq!(f.kind, "ticket_event");
        assert_eq!(f.ticket.map(|t| t.id), Some(Uuid::from_u128(1)));
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
        // A mistyped field is absent, the rest of the frame still reads.
        assert_eq!(
            parse_frame(r#"{"type":"ack","req":"x"}"#).map(|f| f.req),
            Some(None)
        );
        assert!(parse_frame("[]").is_none());
        assert!(
            parse_frame(r#"{"type":"message","message":{"seq":1}}"#)
                .is_some_and(|f| f.message.is_none())
        );
    }

    #[test]
    fn rest_bodies() {
        let s = value(&golden("auth.visitor_session_response"));
        let Reply::Session(r) = reply(FetchKind::Session, 201, Some(&s)) else {
            panic!("session");
        };
        assert!(!r.visitor_token.is_empty() && !r.expires_at.is_empty());
        assert_eq!(
            reply(
                FetchKind::Status,
                200,
                Some(&value(r#"{"agents_online":2,"reply_within_seconds":null}"#))
            ),
            Reply::Status(Status {
                agents_online: 2,
                reply_within_seconds: None
            })
        );
        let problem = value(
            r#"{"type":"urn:neurochat:problem:identity_invalid","code":"identity_invalid","status":401}"#,
        );
        assert_eq!(
            reply(FetchKind::Session, 401, Some(&problem)),
            Reply::Problem("identity_invalid".into())
        );
        assert_eq!(
            reply::<serde_json::Value>(FetchKind::Status, 404, None),
            Reply::Unusable
        );
        assert_eq!(
            reply::<serde_json::Value>(FetchKind::Status, 0, None),
            Reply::Network
        );
        assert_eq!(
            reply(FetchKind::Tickets, 200, Some(&value(r#"{"items":7}"#))),
            Reply::Unusable
        );
        assert_eq!(
            reply(
                FetchKind::Session,
                201,
                Some(&value(r#"{"visitor_token":"t"}"#))
            ),
            Reply::Unusable
        );
    }

    #[test]
    fn uuids() {
        let u = "44444444-4444-4444-8444-44444444444A";
        assert_eq!(parse_uuid(u), Uuid::try_parse(u).ok());
        for bad in [
            "",
            "44444444444444448444444444444444",
            "4444444-44444-4444-8444-444444444444",
            "44444444-4444-4444-8444-44444444444g",
            "44444444-4444-4444-8444-4444444444444",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_must_be_exact_non_negative_integers() {
        let v = value(r#"{"a":-1,"b":1.5,"c":7,"d":1e300,"e":"7"}"#);
        assert_eq!(
            ["a", "b", "c", "d", "e"].map(|k| v.u64_at(k)),
            [None, None, Some(7), None, None]
        );
    }
}
