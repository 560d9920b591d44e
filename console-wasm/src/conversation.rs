//! One open ticket's conversation: messages exactly once by `seq`, the
//! outbox of optimistic sends (retried with the same `client_msg_id` until
//! acknowledged), receipts (delivered/read ticks) and who is typing.

use std::collections::{BTreeMap, HashMap};

use neurochat_protocol::v1::{
    ClientFrame, ErrorBody, ErrorCode, MessageKind, MessageView, ReceiptView,
};
use uuid::Uuid;

/// A typing indicator without news expires after this long (the server's
/// own expiry is 8 s).
pub const TYPING_TTL_MS: f64 = 8_000.0;

/// A message the agent sent that the server has not stored back to us yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The idempotency key: a resend after a lost `ack` stores nothing new.
    pub client_msg_id: String,
    /// The text.
    pub body: String,
    /// An internal note (staff only).
    pub internal: bool,
    /// The request number of the `send` in flight, if any.
    pub req: Option<u64>,
    /// How often it was sent.
    pub attempts: u32,
    /// The `seq` the server gave it (from the `ack`).
    pub acked_seq: Option<u64>,
    /// Why the server refused it for good (it is not retried).
    pub failed: Option<String>,
}

/// One row of the message list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A stored message.
    Message(&'a MessageView),
    /// An optimistic one.
    Pending(&'a Pending),
}

/// The receipt state of one of the agent's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Stored by the server.
    Sent,
    /// Delivered to another participant.
    Delivered,
    /// Read by another participant.
    Read,
}

impl Tick {
    /// `sent`, `delivered`, `read` (the `data-tick` test hook).
    pub fn as_str(self) -> &'static str {
        match self {
            Tick::Sent => "sent",
            Tick::Delivered => "delivered",
            Tick::Read => "read",
        }
    }
}

/// Whether a refused send is worth retrying.
pub fn retriable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal
    )
}

/// The state of an open ticket's conversation.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// The ticket.
    pub ticket_id: Uuid,
    me: Uuid,
    messages: BTreeMap<u64, MessageView>,
    pending: Vec<Pending>,
    receipts: HashMap<Uuid, ReceiptView>,
    typing: HashMap<Uuid, f64>,
    /// Whether history before the first held message may exist.
    pub more_before: bool,
    /// Whether the first page of history arrived (or failed): `subscribe`
    /// waits for it, so it resumes after that page instead of replaying
    /// the whole conversation.
    pub history_loaded: bool,
}

impl Conversation {
    /// An empty conversation of `ticket_id` seen by agent `me`.
    pub fn new(ticket_id: Uuid, me: Uuid) -> Self {
        Conversation {
            ticket_id,
            me,
            messages: BTreeMap::new(),
            pending: Vec::new(),
            receipts: HashMap::new(),
            typing: HashMap::new(),
            more_before: false,
            history_loaded: false,
        }
    }

    /// The highest `seq` held (what `subscribe` resumes from).
    pub fn last_seq(&self) -> u64 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    /// The lowest `seq` held (what "earlier messages" pages back from).
    pub fn first_seq(&self) -> Option<u64> {
        self.messages.keys().next().copied()
    }

    /// Adds a message (live, replayed or from a REST page). Returns whether
    /// it was new; a `seq` already held is dropped, so each message shows
    /// exactly once. Its optimistic copy, if any, goes.
    pub fn insert(&mut self, message: MessageView) -> bool {
        if message.ticket_id != self.ticket_id || self.messages.contains_key(&message.seq) {
            return false;
        }
        if let Some(id) = &message.client_msg_id {
            self.pending.retain(|p| &p.client_msg_id != id);
        }
        if let Some(author) = message.author_id {
            self.typing.remove(&author);
        }
        if message.seq == 1 {
            self.more_before = false;
        }
        self.messages.insert(message.seq, message);
        true
    }

    /// Adds a page of history; returns how many messages were new.
    pub fn insert_page(&mut self, messages: Vec<MessageView>) -> usize {
        messages
            .into_iter()
            .filter(|m| self.insert(m.clone()))
            .count()
    }

    /// Queues an optimistic send.
    pub fn queue(&mut self, client_msg_id: String, body: String, internal: bool) {
        self.pending.push(Pending {
            client_msg_id,
            body,
            internal,
            req: None,
            attempts: 0,
            acked_seq: None,
            failed: None,
        });
    }

    /// The `send` frames of every queued message not in flight, numbered
    /// from `next_req` (advanced). Call when connected and subscribed.
    pub fn take_sends(&mut self, next_req: &mut u64) -> Vec<ClientFrame> {
        let ticket_id = self.ticket_id;
        self.pending
            .iter_mut()
            .filter(|p| p.req.is_none() && p.acked_seq.is_none() && p.failed.is_none())
            .map(|p| {
                *next_req += 1;
                p.req = Some(*next_req);
                p.attempts += 1;
                ClientFrame::Send {
                    req: *next_req,
                    ticket_id,
                    client_msg_id: p.client_msg_id.clone(),
                    body: p.body.clone(),
                    internal: p.internal,
                }
            })
            .collect()
    }

    /// An `ack` for request `req`; returns whether it was one of ours.
    pub fn ack(&mut self, req: u64, seq: Option<u64>) -> bool {
        match self.pending.iter_mut().find(|p| p.req == Some(req)) {
            Some(p) => {
                p.req = None;
                p.acked_seq = seq.or(Some(0));
                if let Some(s) = p.acked_seq
                    && self.messages.contains_key(&s)
                {
                    let id = p.client_msg_id.clone();
                    self.pending.retain(|p| p.client_msg_id != id);
                }
                true
            }
            None => false,
        }
    }

    /// An `error` for request `req`: retriable ones are sent again later,
    /// the rest marked failed. Returns whether it was one of ours.
    pub fn refuse(&mut self, req: u64, error: &ErrorBody) -> bool {
        match self.pending.iter_mut().find(|p| p.req == Some(req)) {
            Some(p) => {
                p.req = None;
                if !retriable(error.code) {
                    p.failed = Some(error.message.clone());
                }
                true
            }
            None => false,
        }
    }

    /// Sends a failed message once more (the user asked).
    pub fn retry(&mut self, client_msg_id: &str) {
        for p in &mut self.pending {
            if p.client_msg_id == client_msg_id {
                p.failed = None;
            }
        }
    }

    /// Drops a failed message (the user gave up on it).
    pub fn discard(&mut self, client_msg_id: &str) {
        self.pending
            .retain(|p| p.client_msg_id != client_msg_id || p.failed.is_none());
    }

    /// The connection dropped: requests in flight are lost (their
    /// messages go again, same `client_msg_id`, after the resubscribe),
    /// and nobody is typing any more.
    pub fn disconnected(&mut self) {
        for p in &mut self.pending {
            p.req = None;
        }
        self.typing.clear();
    }

    /// Whether messages are waiting to be sent or acknowledged.
    pub fn has_outgoing(&self) -> bool {
        self.pending
            .iter()
            .any(|p| p.failed.is_none() && p.acked_seq.is_none())
    }

    /// A participant's receipt moved.
    pub fn receipt(&mut self, r: ReceiptView) {
        if r.ticket_id != self.ticket_id {
            return;
        }
        let held = self.receipts.entry(r.user_id).or_insert(ReceiptView {
            delivered_seq: 0,
            read_seq: 0,
            ..r.clone()
        });
        held.delivered_seq = held.delivered_seq.max(r.delivered_seq);
        held.read_seq = held.read_seq.max(r.read_seq);
    }

    /// The tick of one of the agent's messages: the furthest any *other*
    /// participant got. Internal notes have none (customers never see them).
    pub fn tick(&self, m: &MessageView) -> Option<Tick> {
        if m.kind != MessageKind::Agent || m.author_id != Some(self.me) {
            return None;
        }
        let others = self.receipts.values().filter(|r| r.user_id != self.me);
        let (mut delivered, mut read) = (false, false);
        for r in others {
            read |= r.read_seq >= m.seq;
            delivered |= r.delivered_seq >= m.seq || r.read_seq >= m.seq;
        }
        Some(if read {
            Tick::Read
        } else if delivered {
            Tick::Delivered
        } else {
            Tick::Sent
        })
    }

    /// Someone started (or stopped) typing, seen at `now_ms`.
    pub fn typing(&mut self, user: Uuid, active: bool, now_ms: f64) {
        if user == self.me {
            return;
        }
        if active {
            self.typing.insert(user, now_ms + TYPING_TTL_MS);
        } else {
            self.typing.remove(&user);
        }
    }

    /// Who is typing at `now_ms` (expired indicators are dropped).
    pub fn typists(&mut self, now_ms: f64) -> Vec<Uuid> {
        self.typing.retain(|_, until| *until > now_ms);
        let mut v: Vec<Uuid> = self.typing.keys().copied().collect();
        v.sort();
        v
    }

    /// The rows to show: stored messages by `seq`, then optimistic ones.
    pub fn items(&self) -> Vec<Item<'_>> {
        self.messages
            .values()
            .map(Item::Message)
            .chain(self.pending.iter().map(Item::Pending))
            .collect()
    }

    /// The highest `seq` of a message from someone else (what `mark_read`
    /// reports once the agent sees the conversation).
    pub fn last_foreign_seq(&self) -> u64 {
        self.messages
            .values()
            .rev()
            .find(|m| m.author_id != Some(self.me))
            .map_or(0, |m| m.seq)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    const T: Uuid = Uuid::from_u128(0x44);
    const ME: Uuid = Uuid::from_u128(0xAA);
    const CUSTOMER: Uuid = Uuid::from_u128(0xC0);

    fn msg(seq: u64, author: Uuid, kind: MessageKind, cmid: Option<&str>) -> MessageView {
        MessageView {
            id: Uuid::from_u128(1000 + seq as u128),
            ticket_id: T,
            seq,
            author_id: Some(author),
            kind,
            body: format!("m{seq}"),
            client_msg_id: cmid.map(str::to_owned),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn seqs(c: &Conversation) -> Vec<String> {
        c.items()
            .iter()
            .map(|i| match i {
                Item::Message(m) => m.seq.to_string(),
                Item::Pending(p) => format!("~{}", p.client_msg_id),
            })
            .collect()
    }

    #[test]
    fn each_seq_shows_once_in_order_whatever_the_delivery() {
        let mut c = Conversation::new(T, ME);
        // A REST page, then the subscribe replay overlapping it, then live.
        assert_eq!(
            c.insert_page(vec![
                msg(2, CUSTOMER, MessageKind::Customer, None),
                msg(3, CUSTOMER, MessageKind::Customer, None)
            ]),
            2
        );
        assert!(!c.insert(msg(3, CUSTOMER, MessageKind::Customer, None)));
        assert!(c.insert(msg(5, CUSTOMER, MessageKind::Customer, None)));
        assert!(c.insert(msg(4, ME, MessageKind::InternalNote, None)));
        assert!(c.insert(msg(1, CUSTOMER, MessageKind::Customer, None)));
        assert!(!c.insert(msg(5, CUSTOMER, MessageKind::Customer, None)));
        let mut other = msg(6, CUSTOMER, MessageKind::Customer, None);
        other.ticket_id = Uuid::from_u128(0x45);
        assert!(!c.insert(other));
        assert_eq!(seqs(&c), ["1", "2", "3", "4", "5"]);
        assert_eq!(c.last_seq(), 5);
        assert_eq!(c.first_seq(), Some(1));
        assert!(!c.more_before, "seq 1 is the start");
        assert_eq!(c.last_foreign_seq(), 5);
    }

    #[test]
    fn optimistic_sends_are_retried_with_the_same_id_until_acked() {
        let mut c = Conversation::new(T, ME);
        let mut req = 10;
        c.queue("c-1".into(), "hello".into(), false);
        c.queue("c-2".into(), "note".into(), true);
        let frames = c.take_sends(&mut req);
        assert_eq!(frames.len(), 2);
        assert_eq!(req, 12);
        assert!(
            c.take_sends(&mut req).is_empty(),
            "in flight: not sent twice"
        );
        // The connection drops before any ack: both go again, same ids.
        c.disconnected();
        let again = c.take_sends(&mut req);
        let ids: Vec<_> = again
            .iter()
            .map(|f| match f {
                ClientFrame::Send {
                    client_msg_id,
                    internal,
                    ..
                } => (client_msg_id.clone(), *internal),
                _ => panic!("not a send"),
            })
            .collect();
        assert_eq!(ids, [("c-1".to_owned(), false), ("c-2".to_owned(), true)]);
        assert!(c.has_outgoing());
        // Ack of c-1 first, then its message; c-2's message before its ack.
        assert!(c.ack(13, Some(7)));
        assert_eq!(seqs(&c), ["~c-1", "~c-2"]);
        assert!(c.insert(msg(7, ME, MessageKind::Agent, Some("c-1"))));
        assert!(c.insert(msg(8, ME, MessageKind::InternalNote, Some("c-2"))));
        assert!(!c.ack(14, Some(8)) || c.items().len() == 2);
        assert_eq!(seqs(&c), ["7", "8"]);
        assert!(!c.has_outgoing());
        assert!(!c.ack(99, None));
    }

    #[test]
    fn refusals_retry_or_fail() {
        let mut c = Conversation::new(T, ME);
        let mut req = 0;
        c.queue("a".into(), "x".into(), false);
        c.queue("b".into(), "y".into(), false);
        c.take_sends(&mut req);
        assert!(c.refuse(1, &ErrorBody::new(ErrorCode::RateLimited, "slow down")));
        assert!(c.refuse(2, &ErrorBody::new(ErrorCode::TicketClosed, "closed")));
        let again = c.take_sends(&mut req);
        assert_eq!(again.len(), 1, "only the rate-limited one");
        let failed: Vec<_> = c
            .items()
            .iter()
            .filter_map(|i| match i {
                Item::Pending(p) => p.failed.clone(),
                Item::Message(_) => None,
            })
            .collect();
        assert_eq!(failed, ["closed"]);
        c.retry("b");
        assert_eq!(c.take_sends(&mut req).len(), 1);
        assert!(c.refuse(4, &ErrorBody::new(ErrorCode::TicketClosed, "closed")));
        c.discard("b");
        assert_eq!(seqs(&c), ["~a"]);
    }

    #[test]
    fn ticks_follow_other_participants_receipts() {
        let mut c = Conversation::new(T, ME);
        c.insert(msg(1, CUSTOMER, MessageKind::Customer, None));
        c.insert(msg(2, ME, MessageKind::Agent, None));
        c.insert(msg(3, ME, MessageKind::Agent, None));
        c.insert(msg(4, ME, MessageKind::InternalNote, None));
        let m = |s| {
            c.items().iter().find_map(|i| match i {
                Item::Message(m) if m.seq == s => Some((*m).clone()),
                _ => None,
            })
        };
        let (m1, m2, m3, m4) = (m(1).unwrap(), m(2).unwrap(), m(3).unwrap(), m(4).unwrap());
        assert_eq!(c.tick(&m1), None);
        assert_eq!(c.tick(&m4), None);
        assert_eq!(c.tick(&m2), Some(Tick::Sent));
        let r = |user, d, rd| ReceiptView {
            ticket_id: T,
            user_id: user,
            delivered_seq: d,
            read_seq: rd,
        };
        c.receipt(r(ME, 4, 4));
        assert_eq!(c.tick(&m2), Some(Tick::Sent), "my own receipt is no tick");
        c.receipt(r(CUSTOMER, 3, 2));
        assert_eq!(c.tick(&m2), Some(Tick::Read));
        assert_eq!(c.tick(&m3), Some(Tick::Delivered));
        c.receipt(r(CUSTOMER, 1, 1));
        assert_eq!(
            c.tick(&m3),
            Some(Tick::Delivered),
            "receipts never move back"
        );
        assert_eq!(Tick::Read.as_str(), "read");
    }

    #[test]
    fn typing_expires_and_stops_with_a_message() {
        let mut c = Conversation::new(T, ME);
        c.typing(CUSTOMER, true, 0.0);
        c.typing(ME, true, 0.0);
        assert_eq!(c.typists(1000.0), [CUSTOMER]);
        assert!(c.typists(TYPING_TTL_MS + 1.0).is_empty());
        c.typing(CUSTOMER, true, 0.0);
        c.insert(msg(1, CUSTOMER, MessageKind::Customer, None));
        assert!(c.typists(1.0).is_empty());
        c.typing(CUSTOMER, true, 0.0);
        c.typing(CUSTOMER, false, 1.0);
        assert!(c.typists(2.0).is_empty());
        c.typing(CUSTOMER, true, 0.0);
        c.disconnected();
        assert!(c.typists(2.0).is_empty());
    }
}
