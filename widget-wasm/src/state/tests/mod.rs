//! Reducer scenarios: first message, resume, duplicates, gaps, lost acks,
//! reload, receipts, typing, status, unread, identity, failures.
//!
//! This file holds the harness (a fake browser around the reducer) and the
//! fixtures; the scenarios are grouped by area in the submodules.

mod connection;
mod delivery;
mod indicators;
mod visitor;

use super::*;
use crate::backoff;
use crate::out::HostIdentity;
use serde_json::{Value, json};

const TICKET: &str = "44444444-4444-4444-8444-444444444444";
const OTHER_TICKET: &str = "99999999-9999-4999-8999-999999999999";
const ME: &str = "11111111-1111-4111-8111-111111111111";
const AGENT: &str = "22222222-2222-4222-8222-222222222222";

fn tid() -> Uuid {
    Uuid::parse_str(TICKET).expect("uuid")
}

/// A reducer with a fake browser around it: it remembers what was
/// persisted, the frames sent and the effects of the last step.
struct H {
    s: State,
    fx: Vec<Effect>,
    storage: [Option<String>; 3],
}

impl H {
    fn new() -> H {
        H {
            s: State::new(42),
            fx: Vec::new(),
            storage: [None, None, None],
        }
    }

    fn step(&mut self, input: Input) -> &Vec<Effect> {
        self.fx = update(&mut self.s, input);
        for e in &self.fx {
            if let Effect::Persist(k, v) = e {
                self.storage[*k as usize] = v.clone();
            }
        }
        &self.fx
    }

    fn boot(&mut self) {
        let [session, ticket, outbox] = self.storage.clone();
        let read = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Value>(&s).ok());
        self.step(Input::Boot {
            session: read(session).and_then(|v| Session::from_json(&v)),
            ticket: read(ticket).and_then(|v| TicketRef::from_json(&v)),
            outbox: read(outbox)
                .map(|v| Pending::list_from_json(&v))
                .unwrap_or_default(),
            prechat: false,
            online: true,
            visible: true,
        });
    }

    fn frame(&mut self, v: Value) -> &Vec<Effect> {
        let f = wire::Frame::from_json(&v).expect("a frame");
        self.step(Input::Frame(Box::new(f)))
    }

    /// An HTTP reply, read the way the web layer reads it.
    fn fetched(&mut self, kind: FetchKind, status: u16, body: &str) -> &Vec<Effect> {
        let v = serde_json::from_str::<Value>(body).ok();
        let generation = self.s.session_gen;
        self.step(Input::Fetched {
            kind,
            generation,
            reply: wire::reply(kind, status, v.as_ref()),
            expires_ms: 0,
        })
    }

    /// Frames sent by the last step, parsed.
    fn sent(&self) -> Vec<Value> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                Effect::Send(t) => Some(serde_json::from_str(t).expect("sent frame is JSON")),
                _ => None,
            })
            .collect()
    }

    fn sent_types(&self) -> Vec<String> {
        self.sent()
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn has(&self, e: &Effect) -> bool {
        self.fx.contains(e)
    }

    fn session_response(&mut self) {
        let body = json!({
            "visitor_token": "ncv_tok",
            "expires_at": "2030-01-01T00:00:00Z",
            "user": {"id": ME, "role": "customer", "display_name": "Visitor"}
        });
        let generation = self.s.session_gen;
        self.step(Input::Fetched {
            kind: FetchKind::Session,
            generation,
            reply: wire::reply(FetchKind::Session, 201, Some(&body)),
            expires_ms: 10_000_000_000_000,
        });
    }

    /// Socket opens and the server says hello.
    fn connect(&mut self) {
        self.step(Input::Opened);
        assert_eq!(
            self.sent(),
            vec![json!({"type": "auth", "token": "ncv_tok"})]
        );
        self.hello();
    }

    fn hello(&mut self) {
        self.frame(json!({
            "type": "hello", "protocol": 1,
            "session_id": "77777777-7777-4777-8777-777777777777",
            "server_time": "2026-01-01T00:20:00Z",
            "limits": {"max_frame_bytes": 65536, "max_body_chars": 100, "messages_per_minute": 60}
        }));
    }

    /// An anonymous visitor with an open panel and a live connection.
    fn online() -> H {
        let mut h = H::new();
        h.boot();
        h.step(Input::Open);
        assert!(h.has(&Effect::Fetch(Fetch::Status)));
        assert!(
            h.fx.iter()
                .any(|e| matches!(e, Effect::Fetch(Fetch::Session { .. })))
        );
        h.session_response();
        assert!(h.has(&Effect::Connect));
        h.connect();
        assert_eq!(h.s.conn, Conn::Online);
        h
    }

    /// Online with a ticket whose replay is done (seq 1 = our first message).
    fn with_ticket() -> H {
        let mut h = H::online();
        h.step(Input::Submit("Hello".into()));
        let req = h.sent()[0]["req"].as_u64().expect("req");
        let id = h.sent()[0]["client_msg_id"]
            .as_str()
            .expect("id")
            .to_owned();
        h.frame(
            json!({"type": "ack", "req": req, "seq": 1, "ticket_id": TICKET,
            "message_id": "55555555-5555-4555-8555-555555555555"}),
        );
        let sub = h.sent()[0]["req"].as_u64().expect("subscribe req");
        h.frame(msg(1, "customer", "Hello", Some(&id)));
        h.frame(json!({"type": "ack", "req": sub}));
        h.fx.clear();
        h
    }

    fn seqs(&self) -> Vec<u64> {
        self.s.messages.iter().map(|m| m.seq).collect()
    }

    /// Subscribes sent by the last step: `(req, last_seq)`.
    fn subscribes(&self) -> Vec<(u64, u64)> {
        self.sent()
            .iter()
            .filter(|f| f["type"] == "subscribe")
            .map(|f| {
                (
                    f["req"].as_u64().unwrap_or(0),
                    f["last_seq"].as_u64().unwrap_or(99),
                )
            })
            .collect()
    }
}

fn msg(seq: u64, kind: &str, body: &str, cmid: Option<&str>) -> Value {
    msg_in(TICKET, seq, kind, body, cmid)
}

fn msg_in(ticket: &str, seq: u64, kind: &str, body: &str, cmid: Option<&str>) -> Value {
    let mut m = json!({
        "id": format!("55555555-5555-4555-8555-{seq:012}"),
        "ticket_id": ticket, "seq": seq, "kind": kind, "body": body,
        "created_at": "2026-01-01T00:44:00Z"
    });
    if let Some(c) = cmid {
        m["client_msg_id"] = json!(c);
    }
    json!({"type": "message", "message": m})
}
