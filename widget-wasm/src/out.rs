//! The JSON the widget writes: client frames, the session request and its
//! own stored state.
//!
//! The shapes mirror `neurochat_protocol::v1` (`ClientFrame`,
//! `VisitorSessionRequest`, `HostIdentity`), but are written by hand: serde's
//! serializer and the derives cost the WASM several kilobytes for a dozen
//! flat objects. The tests read every frame back with the protocol's own
//! types (which reject unknown fields), so the two cannot drift.

use uuid::Uuid;

/// A frame from the widget to the server (the subset of
/// `neurochat_protocol::v1::ClientFrame` a customer uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// Authenticate (first frame, and after `reauth`).
    Auth {
        /// The visitor token.
        token: String,
    },
    /// Follow a ticket from `last_seq` (replay, then live).
    Subscribe {
        /// Request number.
        req: u64,
        /// The ticket.
        ticket_id: Uuid,
        /// Highest seq held.
        last_seq: u64,
    },
    /// Stop following a ticket.
    Unsubscribe {
        /// Request number.
        req: u64,
        /// The ticket.
        ticket_id: Uuid,
    },
    /// Post a message.
    Send {
        /// Request number.
        req: u64,
        /// The ticket.
        ticket_id: Uuid,
        /// Idempotency key.
        client_msg_id: String,
        /// The text.
        body: String,
        /// Always `false` for customers.
        internal: bool,
    },
    /// Open a ticket with its first message.
    CreateTicket {
        /// Request number.
        req: u64,
        /// One-line summary.
        subject: String,
        /// The first message.
        body: String,
        /// Idempotency key of the first message.
        client_msg_id: String,
        /// Unused by the widget (always `None`).
        category_id: Option<Uuid>,
    },
    /// The visitor started typing.
    TypingStart {
        /// The ticket.
        ticket_id: Uuid,
    },
    /// The visitor stopped typing.
    TypingStop {
        /// The ticket.
        ticket_id: Uuid,
    },
    /// Messages up to `seq` reached the widget.
    MarkDelivered {
        /// The ticket.
        ticket_id: Uuid,
        /// Highest seq received.
        seq: u64,
    },
    /// The visitor has seen messages up to `seq`.
    MarkRead {
        /// The ticket.
        ticket_id: Uuid,
        /// Highest seq seen.
        seq: u64,
    },
}

/// A host application's proof of who the visitor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostIdentity {
    /// HMAC-SHA256 signature by the host.
    Hmac {
        /// The host's user id.
        user_id: String,
        /// Email, if shared.
        email: Option<String>,
        /// Name, if shared.
        name: Option<String>,
        /// Lowercase hex signature.
        signature: String,
    },
    /// A JWT signed by the host.
    Jwt {
        /// The compact JWT.
        token: String,
    },
}

/// `POST /api/v1/widget/sessions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorSessionRequest {
    /// Host-verified identity.
    pub identity: Option<HostIdentity>,
    /// Name typed in the pre-chat form.
    pub display_name: Option<String>,
    /// Email typed in the pre-chat form.
    pub email: Option<String>,
}

/// A JSON object being written, member by member.
pub struct Obj(String);

impl Obj {
    /// `{`.
    pub fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(k);
        self.0.push_str("\":");
    }

    /// A string member.
    pub fn s(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        escape(&mut self.0, v);
        self
    }

    /// A string member when present.
    pub fn opt(self, k: &str, v: Option<&str>) -> Obj {
        match v {
            Some(v) => self.s(k, v),
            None => self,
        }
    }

    /// A uuid member (hyphenated, lowercase).
    pub fn id(self, k: &str, v: Uuid) -> Obj {
        let mut buf = [0u8; 36];
        let s = v.hyphenated().encode_lower(&mut buf);
        self.s(k, s)
    }

    /// A number member.
    pub fn n(mut self, k: &str, v: u64) -> Obj {
        self.key(k);
        push_u64(&mut self.0, v);
        self
    }

    /// A boolean member.
    pub fn b(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.0.push_str(if v { "true" } else { "false" });
        self
    }

    /// A member that is already JSON.
    pub fn raw(mut self, k: &str, json: &str) -> Obj {
        self.key(k);
        self.0.push_str(json);
        self
    }

    /// `}`: the finished text.
    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

/// A JSON string literal: quotes, backslashes and control characters
/// escaped; everything else (including non-ASCII) as is, which JSON allows.
pub fn escape(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Concatenation: `format!` would bring the formatting machinery (and a
/// call frame per use) into the WASM for what is mostly gluing strings.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// A number as decimal text.
pub fn num(v: u64) -> String {
    let mut s = String::new();
    push_u64(&mut s, v);
    s
}

/// A uuid as lowercase hyphenated text.
pub fn uuid_str(id: Uuid) -> String {
    let mut buf = [0u8; 36];
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

/// Decimal digits without the formatting machinery.
pub fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &buf[i..] {
        out.push(d as char);
    }
}

impl ClientFrame {
    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        match self {
            ClientFrame::Auth { token } => Obj::new().s("type", "auth").s("token", token),
            ClientFrame::Subscribe {
                req,
                ticket_id,
                last_seq,
            } => Obj::new()
                .s("type", "subscribe")
                .n("req", *req)
                .id("ticket_id", *ticket_id)
                .n("last_seq", *last_seq),
            ClientFrame::Unsubscribe { req, ticket_id } => Obj::new()
                .s("type", "unsubscribe")
                .n("req", *req)
                .id("ticket_id", *ticket_id),
            ClientFrame::Send {
                req,
                ticket_id,
                client_msg_id,
                body,
                internal,
            } => Obj::new()
                .s("type", "send")
                .n("req", *req)
                .id("ticket_id", *ticket_id)
                .s("client_msg_id", client_msg_id)
                .s("body", body)
                .b("internal", *internal),
            ClientFrame::CreateTicket {
                req,
                subject,
                body,
                client_msg_id,
                category_id,
            } => {
                let o = Obj::new()
                    .s("type", "create_ticket")
                    .n("req", *req)
                    .s("subject", subject)
                    .s("body", body)
                    .s("client_msg_id", client_msg_id);
                match category_id {
                    Some(c) => o.id("category_id", *c),
                    None => o,
                }
            }
            ClientFrame::TypingStart { ticket_id } => Obj::new()
                .s("type", "typing_start")
                .id("ticket_id", *ticket_id),
            ClientFrame::TypingStop { ticket_id } => Obj::new()
                .s("type", "typing_stop")
                .id("ticket_id", *ticket_id),
            ClientFrame::MarkDelivered { ticket_id, seq } => Obj::new()
                .s("type", "mark_delivered")
                .id("ticket_id", *ticket_id)
                .n("seq", *seq),
            ClientFrame::MarkRead { ticket_id, seq } => Obj::new()
                .s("type", "mark_read")
                .id("ticket_id", *ticket_id)
                .n("seq", *seq),
        }
        .end()
    }
}

impl VisitorSessionRequest {
    /// The request body as JSON text.
    pub fn to_json(&self) -> String {
        let mut o = Obj::new();
        if let Some(id) = &self.identity {
            let inner = match id {
                HostIdentity::Hmac {
                    user_id,
                    email,
                    name,
                    signature,
                } => Obj::new()
                    .s("method", "hmac")
                    .s("user_id", user_id)
                    .opt("email", email.as_deref())
                    .opt("name", name.as_deref())
                    .s("signature", signature),
                HostIdentity::Jwt { token } => Obj::new().s("method", "jwt").s("token", token),
            };
            o = o.raw("identity", &inner.end());
        }
        o.opt("display_name", self.display_name.as_deref())
            .opt("email", self.email.as_deref())
            .end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurochat_protocol::v1 as proto;

    fn t() -> Uuid {
        Uuid::from_u128(0x4444_4444_4444_4444_8444_4444_4444_4444)
    }

    /// Reads our text with the protocol's type (unknown fields rejected)
    /// and writes it back with serde: the same JSON value both ways.
    fn same_as_protocol(f: ClientFrame) -> proto::ClientFrame {
        let text = f.to_json();
        let theirs: proto::ClientFrame =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let a: serde_json::Value = serde_json::from_str(&text).expect("json");
        let b = serde_json::to_value(&theirs).expect("json");
        assert_eq!(a, b, "{text}");
        theirs
    }

    #[test]
    fn every_frame_is_a_protocol_frame() {
        let nasty = "quote \" backslash \\ nl \n cr \r tab \t nul \u{0} bell \u{7} ü 😀 </script>";
        let frames = [
            ClientFrame::Auth {
                token: "ncv_x".into(),
            },
            ClientFrame::Subscribe {
                req: 1,
                ticket_id: t(),
                last_seq: u64::MAX,
            },
            ClientFrame::Unsubscribe {
                req: 2,
                ticket_id: t(),
            },
            ClientFrame::Send {
                req: 3,
                ticket_id: t(),
                client_msg_id: "w-1".into(),
                body: nasty.into(),
                internal: false,
            },
            ClientFrame::CreateTicket {
                req: 4,
                subject: nasty.into(),
                body: nasty.into(),
                client_msg_id: "w-2".into(),
                category_id: None,
            },
            ClientFrame::CreateTicket {
                req: 5,
                subject: "s".into(),
                body: "b".into(),
                client_msg_id: "w-3".into(),
                category_id: Some(t()),
            },
            ClientFrame::TypingStart { ticket_id: t() },
            ClientFrame::TypingStop { ticket_id: t() },
            ClientFrame::MarkDelivered {
                ticket_id: t(),
                seq: 0,
            },
            ClientFrame::MarkRead {
                ticket_id: t(),
                seq: 6,
            },
        ];
        for f in frames {
            same_as_protocol(f);
        }
        let proto::ClientFrame::Send { body, .. } = same_as_protocol(ClientFrame::Send {
            req: 9,
            ticket_id: t(),
            client_msg_id: "w".into(),
            body: nasty.into(),
            internal: false,
        }) else {
            panic!("send");
        };
        assert_eq!(body, nasty);
    }

    #[test]
    fn golden_client_frames_match() {
        let golden = |name: &str| -> serde_json::Value {
            let path = format!(
                "{}/../protocol/tests/golden/frames.client.{name}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("json")
        };
        let ours = |f: ClientFrame| -> serde_json::Value {
            serde_json::from_str(&f.to_json()).expect("json")
        };
        let tid = Uuid::parse_str("44444444-4444-4444-8444-444444444444").expect("uuid");
        assert_eq!(
            ours(ClientFrame::Subscribe {
                req: 1,
                ticket_id: tid,
                last_seq: 5
            }),
            golden("subscribe")
        );
        assert_eq!(
            ours(ClientFrame::MarkRead {
                ticket_id: tid,
                seq: 6
            }),
            golden("mark_read")
        );
        assert_eq!(
            ours(ClientFrame::Send {
                req: 4,
                ticket_id: tid,
                client_msg_id: "c-7f3a".into(),
                body: "Please try resetting your password.".into(),
                internal: false
            }),
            golden("send")
        );
    }

    #[test]
    fn session_requests_are_protocol_requests() {
        let cases = [
            VisitorSessionRequest {
                identity: None,
                display_name: None,
                email: None,
            },
            VisitorSessionRequest {
                identity: None,
                display_name: Some("<b>Ana</b>".into()),
                email: Some("a@b.c".into()),
            },
            VisitorSessionRequest {
                identity: Some(HostIdentity::Hmac {
                    user_id: "u\"1".into(),
                    email: None,
                    name: Some("Ä".into()),
                    signature: "ab".into(),
                }),
                display_name: None,
                email: None,
            },
            VisitorSessionRequest {
                identity: Some(HostIdentity::Jwt { token: "j".into() }),
                display_name: None,
                email: None,
            },
        ];
        for c in cases {
            let text = c.to_json();
            let theirs: proto::VisitorSessionRequest =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let a: serde_json::Value = serde_json::from_str(&text).expect("json");
            assert_eq!(a, serde_json::to_value(&theirs).expect("json"), "{text}");
        }
    }

    #[test]
    fn numbers() {
        for v in [0, 7, 10, 1234567890, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
