//! The live session over the gateway as one pure reducer: which requests
//! are in flight (by `req`), what a server frame changes in the inbox and
//! the open conversation, and what must happen next ([`Effect`]s: frames
//! to send, regions to redraw, notifications). The web layer feeds it
//! frames and carries out its effects; it decides nothing itself.

use std::collections::HashMap;

use neurochat_protocol::v1::{
    Availability, ClientFrame, ErrorCode, Limits, MessageView, ServerFrame, TicketChange,
    TicketView,
};
use uuid::Uuid;

use crate::conversation::{Conversation, retriable};
use crate::inbox::{Change, Inbox};
use crate::query::InboxFilter;

/// What a request frame was for (its `ack` or `error` is routed by `req`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `subscribe_inbox`.
    Inbox,
    /// `subscribe` of a ticket.
    Subscribe(Uuid),
    /// `unsubscribe` of a ticket.
    Unsubscribe(Uuid),
    /// `claim` of a ticket.
    Claim(Uuid),
    /// `set_availability`.
    Availability,
    /// `send` of the open conversation (the outbox tracks which).
    Send,
}

/// A part of the page to draw again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// The inbox list (and the tab title).
    Inbox,
    /// The open ticket's header (assignee, claim, notice, controls).
    Head,
    /// The open conversation's messages.
    Messages,
    /// The typing indicator.
    Typing,
    /// The availability switch.
    Availability,
}

/// What the web layer must do after an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write this frame to the socket.
    Send(ClientFrame),
    /// Draw a region again.
    Render(Region),
    /// Tell the agent (toast, sound, desktop notification).
    Notify {
        /// Short title.
        title: String,
        /// The text.
        body: String,
    },
    /// A short message in the corner.
    Toast(String),
    /// Reload the inbox's first page over REST (events sent while offline
    /// are not replayed).
    ReloadInbox,
    /// Another agent won a claim: fetch the ticket and say who.
    ClaimLost(Uuid),
    /// The gateway wants a fresh `auth`: refresh the tokens, then send it.
    Reauth,
    /// Retriable sends were refused: flush the outbox again later.
    FlushLater,
    /// The live inbox is on: read the agent's availability again (the
    /// gateway sets it when the socket connects, which may be after the
    /// page read it, and before the presence events were followed).
    ReloadAvailability,
    /// The agent's read positions moved: persist them.
    SaveReadPositions,
}

/// The live state of one logged-in agent.
#[derive(Debug, Clone)]
pub struct Live {
    /// The agent.
    pub me: Uuid,
    /// The ticket list.
    pub inbox: Inbox,
    /// The open ticket's last known state.
    pub open: Option<TicketView>,
    /// The open ticket's conversation.
    pub conv: Option<Conversation>,
    /// "Already claimed by …" after a lost claim of the open ticket.
    pub claimed_notice: Option<String>,
    /// The agent's availability as last known.
    pub availability: Option<Availability>,
    /// Bumped whenever the availability changes here (the agent's choice,
    /// or the server's presence event), so an older REST answer is dropped.
    pub availability_changes: u32,
    /// The gateway's limits (from `hello`).
    pub limits: Option<Limits>,
    online: bool,
    connected_before: bool,
    subscribed: Option<Uuid>,
    next_req: u64,
    requests: HashMap<u64, Purpose>,
    read_sent: HashMap<Uuid, u64>,
}

impl Default for Live {
    /// Nobody's (before login).
    fn default() -> Self {
        Live::new(Uuid::nil())
    }
}

impl Live {
    /// The state of agent `me` right after login.
    pub fn new(me: Uuid) -> Self {
        Live {
            me,
            inbox: Inbox::new(me, InboxFilter::default()),
            open: None,
            conv: None,
            claimed_notice: None,
            availability: None,
            availability_changes: 0,
            limits: None,
            online: false,
            connected_before: false,
            subscribed: None,
            next_req: 0,
            requests: HashMap::new(),
            read_sent: HashMap::new(),
        }
    }

    /// Whether the gateway said `hello` on the current connection.
    pub fn online(&self) -> bool {
        self.online
    }

    fn request(&mut self, purpose: Purpose, build: impl FnOnce(u64) -> ClientFrame) -> Effect {
        self.next_req += 1;
        self.requests.insert(self.next_req, purpose);
        Effect::Send(build(self.next_req))
    }

    fn subscribing(&self) -> bool {
        self.requests
            .values()
            .any(|p| matches!(p, Purpose::Subscribe(_)))
    }

    /// `hello`: follow the inbox and the open ticket (from its last `seq`);
    /// after a reconnect also reload the list.
    pub fn connected(&mut self) -> Vec<Effect> {
        self.online = true;
        let mut fx = vec![self.request(Purpose::Inbox, |req| ClientFrame::SubscribeInbox { req })];
        if self.connected_before {
            fx.push(Effect::ReloadInbox);
        }
        self.connected_before = true;
        fx.extend(self.subscribe_open());
        fx
    }

    /// The socket closed: requests in flight are lost, sends go again
    /// after the next `subscribe`, nobody is typing any more.
    pub fn disconnected(&mut self) -> Vec<Effect> {
        self.online = false;
        self.subscribed = None;
        self.requests.clear();
        self.read_sent.clear();
        if let Some(c) = self.conv.as_mut() {
            c.disconnected();
        }
        vec![
            Effect::Render(Region::Typing),
            Effect::Render(Region::Messages),
        ]
    }

    /// Opens a ticket (`known`: its state from the list, if listed). The
    /// previous one is left (typing stopped, unsubscribed). The caller
    /// loads history, then calls [`Live::history`].
    pub fn open_ticket(&mut self, id: Uuid, known: Option<TicketView>) -> Vec<Effect> {
        if self.conv.as_ref().is_some_and(|c| c.ticket_id == id) {
            return Vec::new();
        }
        let mut fx = self.close_ticket();
        self.conv = Some(Conversation::new(id, self.me));
        self.open = known;
        self.claimed_notice = None;
        fx.push(Effect::Render(Region::Head));
        fx
    }

    /// Leaves the open ticket.
    pub fn close_ticket(&mut self) -> Vec<Effect> {
        let Some(c) = self.conv.take() else {
            return Vec::new();
        };
        self.open = None;
        self.claimed_notice = None;
        self.subscribed = None;
        self.requests
            .retain(|_, p| !matches!(p, Purpose::Subscribe(_) | Purpose::Send));
        if !self.online {
            return Vec::new();
        }
        let id = c.ticket_id;
        vec![
            Effect::Send(ClientFrame::TypingStop { ticket_id: id }),
            self.request(Purpose::Unsubscribe(id), |req| ClientFrame::Unsubscribe {
                req,
                ticket_id: id,
            }),
        ]
    }

    /// The open ticket's state arrived (REST); older snapshots are ignored.
    pub fn ticket_loaded(&mut self, t: TicketView) -> Vec<Effect> {
        if self
            .open
            .as_ref()
            .is_none_or(|o| o.id == t.id && o.updated_at <= t.updated_at)
            && self.conv.as_ref().is_some_and(|c| c.ticket_id == t.id)
        {
            self.open = Some(t.clone());
        }
        self.inbox.upsert(t);
        vec![Effect::Render(Region::Head), Effect::Render(Region::Inbox)]
    }

    /// A page of history of ticket `id` arrived (REST): `full` when the page
    /// was full (more may lie before it). Then follow it live.
    pub fn history(&mut self, id: Uuid, messages: Vec<MessageView>, full: bool) -> Vec<Effect> {
        let Some(c) = self.conv.as_mut().filter(|c| c.ticket_id == id) else {
            return Vec::new();
        };
        c.insert_page(messages);
        c.more_before = full && c.first_seq().is_some_and(|s| s > 1);
        c.history_loaded = true;
        vec![Effect::Render(Region::Messages)]
    }

    /// The open ticket `id`'s history is on screen: mark it read as far as
    /// shown (if the page is visible), without waiting for the live
    /// `subscribe` — an agent who moves on before its `ack` has still read
    /// what was shown. Nothing if another ticket was opened meanwhile.
    pub fn history_shown(&mut self, id: Uuid, visible: bool) -> Vec<Effect> {
        if self.conv.as_ref().is_some_and(|c| c.ticket_id == id) {
            self.seen(visible)
        } else {
            Vec::new()
        }
    }

    /// An earlier page (`before_seq`) arrived.
    pub fn earlier(&mut self, id: Uuid, messages: Vec<MessageView>, full: bool) -> Vec<Effect> {
        self.history(id, messages, full)
    }

    /// `subscribe` of the open ticket from the last `seq` held (online
    /// only; nothing when it is subscribed or being subscribed already).
    pub fn subscribe_open(&mut self) -> Vec<Effect> {
        if !self.online {
            return Vec::new();
        }
        let Some((id, last)) = self
            .conv
            .as_ref()
            .filter(|c| c.history_loaded)
            .map(|c| (c.ticket_id, c.last_seq()))
        else {
            return Vec::new();
        };
        if self.subscribed == Some(id)
            || self.requests.values().any(|p| *p == Purpose::Subscribe(id))
        {
            return Vec::new();
        }
        vec![
            self.request(Purpose::Subscribe(id), |req| ClientFrame::Subscribe {
                req,
                ticket_id: id,
                last_seq: last,
            }),
        ]
    }

    /// Queues an optimistic send on the open ticket and sends what can go.
    pub fn compose(&mut self, client_msg_id: String, body: String, internal: bool) -> Vec<Effect> {
        let Some(c) = self.conv.as_mut() else {
            return Vec::new();
        };
        c.queue(client_msg_id, body, internal);
        let mut fx = vec![Effect::Render(Region::Messages)];
        fx.extend(self.flush());
        fx
    }

    /// Sends the outbox (online and subscribed only; a send before the
    /// `subscribe` ack could be stored before the replay ends, which is
    /// harmless, but waiting keeps the order simple).
    pub fn flush(&mut self) -> Vec<Effect> {
        if !self.online || self.subscribing() {
            return Vec::new();
        }
        let Some(c) = self.conv.as_mut() else {
            return Vec::new();
        };
        let mut next = self.next_req;
        let frames = c.take_sends(&mut next);
        for req in self.next_req + 1..=next {
            self.requests.insert(req, Purpose::Send);
        }
        self.next_req = next;
        let mut fx: Vec<Effect> = frames.into_iter().map(Effect::Send).collect();
        if !fx.is_empty() {
            fx.push(Effect::Render(Region::Messages));
        }
        fx
    }

    /// The agent sees the open conversation (`visible`: the tab is shown):
    /// the unread count clears, and `mark_read` reports the last message of
    /// someone else once.
    pub fn seen(&mut self, visible: bool) -> Vec<Effect> {
        let Some(c) = self.conv.as_ref() else {
            return Vec::new();
        };
        if !visible {
            return Vec::new();
        }
        let (id, last, foreign) = (c.ticket_id, c.last_seq(), c.last_foreign_seq());
        self.inbox.mark_read(id, last);
        let mut fx = vec![Effect::SaveReadPositions, Effect::Render(Region::Inbox)];
        let sent = self.read_sent.get(&id).copied().unwrap_or(0);
        if foreign > sent && self.online && !self.subscribing() {
            self.read_sent.insert(id, foreign);
            fx.push(Effect::Send(ClientFrame::MarkRead {
                ticket_id: id,
                seq: foreign,
            }));
        }
        fx
    }

    /// Claims a ticket over the socket; `None` when offline (use REST).
    pub fn claim(&mut self, id: Uuid) -> Option<Vec<Effect>> {
        self.claimed_notice = None;
        if !self.online {
            return None;
        }
        Some(vec![self.request(Purpose::Claim(id), |req| {
            ClientFrame::Claim { req, ticket_id: id }
        })])
    }

    /// A claim was lost: the notice until the winner is known.
    pub fn claim_lost(&mut self, id: Uuid, winner: Option<&str>) -> Vec<Effect> {
        if self.conv.as_ref().is_some_and(|c| c.ticket_id == id) {
            self.claimed_notice = Some(match winner {
                Some(name) => format!("Already claimed by {name}."),
                None => "Another agent already claimed this ticket.".to_owned(),
            });
        }
        vec![Effect::Render(Region::Head)]
    }

    /// Sets availability over the socket; `None` when offline (use REST).
    pub fn set_availability(&mut self, v: Availability) -> Option<Vec<Effect>> {
        self.availability = Some(v);
        self.availability_changes = self.availability_changes.wrapping_add(1);
        if !self.online {
            return None;
        }
        Some(vec![self.request(Purpose::Availability, |req| {
            ClientFrame::SetAvailability {
                req,
                availability: v,
            }
        })])
    }

    /// A frame from the gateway, seen at `now_ms` with the tab `visible`
    /// or not.
    pub fn frame(&mut self, frame: ServerFrame, now_ms: f64, visible: bool) -> Vec<Effect> {
        match frame {
            ServerFrame::Hello { limits, .. } => {
                self.limits = Some(limits);
                self.connected()
            }
            ServerFrame::Reauth { .. } => vec![Effect::Reauth],
            ServerFrame::Ack { req, seq, .. } => match self.requests.remove(&req) {
                Some(Purpose::Subscribe(id)) => {
                    if self.conv.as_ref().is_some_and(|c| c.ticket_id == id) {
                        self.subscribed = Some(id);
                    }
                    let mut fx = self.flush();
                    fx.extend(self.seen(visible));
                    fx
                }
                Some(Purpose::Claim(_)) => vec![Effect::Toast("Claimed.".into())],
                Some(Purpose::Inbox) => vec![Effect::ReloadAvailability],
                Some(Purpose::Send) => {
                    if self.conv.as_mut().is_some_and(|c| c.ack(req, seq)) {
                        vec![Effect::Render(Region::Messages)]
                    } else {
                        Vec::new()
                    }
                }
                _ => Vec::new(),
            },
            ServerFrame::Error {
                req: Some(req),
                error,
            } => match self.requests.remove(&req) {
                // The notice waits for the winner's name (ClaimLost looks
                // it up, then calls `claim_lost`).
                Some(Purpose::Claim(id)) if error.code == ErrorCode::AlreadyClaimed => {
                    vec![Effect::ClaimLost(id)]
                }
                Some(Purpose::Claim(_)) => {
                    vec![Effect::Toast(format!("Claim failed: {}", error.message))]
                }
                Some(Purpose::Subscribe(_)) => vec![Effect::Toast(format!(
                    "Could not follow the ticket: {}",
                    error.message
                ))],
                Some(Purpose::Send) => {
                    if self.conv.as_mut().is_some_and(|c| c.refuse(req, &error)) {
                        let mut fx = vec![Effect::Render(Region::Messages)];
                        if retriable(error.code) {
                            fx.push(Effect::FlushLater);
                        }
                        fx
                    } else {
                        Vec::new()
                    }
                }
                Some(Purpose::Inbox) => vec![Effect::Toast(format!(
                    "Live inbox unavailable: {}",
                    error.message
                ))],
                _ => vec![Effect::Toast(error.message)],
            },
            ServerFrame::Error { req: None, error } => vec![Effect::Toast(error.message)],
            ServerFrame::Message { message } => self.message(message, visible),
            ServerFrame::Receipt { receipt } => match self.conv.as_mut() {
                Some(c) if c.ticket_id == receipt.ticket_id => {
                    c.receipt(receipt);
                    vec![Effect::Render(Region::Messages)]
                }
                _ => Vec::new(),
            },
            ServerFrame::Typing {
                ticket_id,
                user_id,
                active,
            } => match self.conv.as_mut() {
                Some(c) if c.ticket_id == ticket_id => {
                    c.typing(user_id, active, now_ms);
                    vec![Effect::Render(Region::Typing)]
                }
                _ => Vec::new(),
            },
            ServerFrame::TicketEvent { ticket, change } => self.ticket_event(ticket, change),
            ServerFrame::Availability {
                user_id,
                availability,
            } if user_id == self.me => {
                self.availability = Some(availability);
                self.availability_changes = self.availability_changes.wrapping_add(1);
                vec![Effect::Render(Region::Availability)]
            }
            ServerFrame::Availability { .. } => Vec::new(),
            ServerFrame::Escalation { ticket_id, reason } => {
                let label = self
                    .inbox
                    .get(ticket_id)
                    .map_or_else(|| "a ticket".to_owned(), |t| format!("#{}", t.number));
                vec![Effect::Notify {
                    title: format!("Escalation: {label}"),
                    body: reason,
                }]
            }
            ServerFrame::Pong { .. } => Vec::new(),
        }
    }

    fn message(&mut self, message: MessageView, visible: bool) -> Vec<Effect> {
        let ticket = message.ticket_id;
        let mine = message.author_id == Some(self.me);
        let mut fx = Vec::new();
        if self.inbox.note_message(ticket, message.seq) {
            fx.push(Effect::Render(Region::Inbox));
        }
        let label = self
            .inbox
            .get(ticket)
            .map(|t| format!("#{} {}", t.number, t.subject));
        let inserted = self
            .conv
            .as_mut()
            .filter(|c| c.ticket_id == ticket)
            .map(|c| c.insert(message.clone()));
        match inserted {
            Some(true) => {
                fx.push(Effect::Render(Region::Messages));
                fx.push(Effect::Render(Region::Typing));
                if !mine && !visible {
                    // Here but not seen yet: delivered (read comes with
                    // the agent's eyes, see `seen`).
                    if self.online {
                        fx.push(Effect::Send(ClientFrame::MarkDelivered {
                            ticket_id: ticket,
                            seq: message.seq,
                        }));
                    }
                    fx.push(Effect::Notify {
                        title: "New message".into(),
                        body: message.body,
                    });
                }
                fx.extend(self.seen(visible));
            }
            Some(false) => {}
            None if !mine => fx.push(Effect::Notify {
                title: format!(
                    "New message on {}",
                    label.unwrap_or_else(|| "a ticket".into())
                ),
                body: message.body,
            }),
            None => {}
        }
        fx
    }

    fn ticket_event(&mut self, ticket: TicketView, change: TicketChange) -> Vec<Effect> {
        let mut fx = Vec::new();
        let is_open = self
            .open
            .as_ref()
            .is_some_and(|o| o.id == ticket.id && o.updated_at <= ticket.updated_at)
            || (self.open.is_none()
                && self.conv.as_ref().is_some_and(|c| c.ticket_id == ticket.id));
        if is_open {
            if ticket.assignee_id == Some(self.me) {
                self.claimed_notice = None;
            }
            self.open = Some(ticket.clone());
            fx.push(Effect::Render(Region::Head));
        }
        match self.inbox.apply_event(ticket, change) {
            Change::None => {}
            Change::New(t) => {
                fx.push(Effect::Render(Region::Inbox));
                fx.push(Effect::Notify {
                    title: format!("New ticket #{}", t.number),
                    body: t.subject,
                });
            }
            Change::Updated | Change::Removed => fx.push(Effect::Render(Region::Inbox)),
        }
        fx
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use neurochat_protocol::v1::{
        ErrorBody, Limits, MessageKind, Page, Priority, ReceiptView, TicketStatus,
    };
    use time::OffsetDateTime;

    const ME: Uuid = Uuid::from_u128(0xAA);
    const OTHER: Uuid = Uuid::from_u128(0xBB);
    const CUSTOMER: Uuid = Uuid::from_u128(0xC0);
    const T: Uuid = Uuid::from_u128(0x44);

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_225_600 + min * 60).unwrap()
    }

    fn ticket(id: Uuid, updated: i64) -> TicketView {
        TicketView {
            id,
            number: 7,
            subject: "Cannot log in".into(),
            customer_id: CUSTOMER,
            category_id: None,
            priority: Priority::Normal,
            status: TicketStatus::New,
            assignee_id: None,
            created_at: at(0),
            updated_at: at(updated),
            first_response_at: None,
            resolved_at: None,
            last_seq: 1,
        }
    }

    fn msg(seq: u64, author: Uuid, cmid: Option<&str>) -> MessageView {
        MessageView {
            id: Uuid::from_u128(1000 + seq as u128),
            ticket_id: T,
            seq,
            author_id: Some(author),
            kind: if author == CUSTOMER {
                MessageKind::Customer
            } else {
                MessageKind::Agent
            },
            body: format!("m{seq}"),
            client_msg_id: cmid.map(str::to_owned),
            created_at: at(seq as i64),
        }
    }

    fn hello() -> ServerFrame {
        ServerFrame::Hello {
            protocol: 1,
            session_id: Uuid::from_u128(7),
            server_time: at(0),
            limits: Limits {
                max_frame_bytes: 65536,
                max_body_chars: 10000,
                messages_per_minute: 60,
            },
        }
    }

    fn sent(fx: &[Effect]) -> Vec<ClientFrame> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Send(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    fn req_of(f: &ClientFrame) -> u64 {
        f.req().unwrap()
    }

    fn ack(req: u64, seq: Option<u64>) -> ServerFrame {
        ServerFrame::Ack {
            req,
            message_id: None,
            seq,
            ticket_id: None,
        }
    }

    /// Logged in, list loaded, ticket T open with one message, online and
    /// subscribed.
    fn live_with_open_ticket() -> Live {
        let mut l = Live::new(ME);
        l.inbox.replace(Page::last(vec![ticket(T, 1)]));
        l.open_ticket(T, Some(ticket(T, 1)));
        l.history(T, vec![msg(1, CUSTOMER, None)], false);
        let fx = l.frame(hello(), 0.0, true);
        let frames = sent(&fx);
        assert!(matches!(frames[0], ClientFrame::SubscribeInbox { .. }));
        assert!(matches!(
            frames[1],
            ClientFrame::Subscribe {
                ticket_id: T,
                last_seq: 1,
                ..
            }
        ));
        let sub = req_of(&frames[1]);
        let fx = l.frame(ack(sub, None), 0.0, true);
        assert!(
            sent(&fx).contains(&ClientFrame::MarkRead {
                ticket_id: T,
                seq: 1
            }),
            "{fx:?}"
        );
        l
    }

    #[test]
    fn first_connect_subscribes_and_a_reconnect_resumes_and_reloads() {
        let mut l = live_with_open_ticket();
        assert!(l.online());
        assert_eq!(l.limits.map(|x| x.max_body_chars), Some(10000));
        l.frame(
            ServerFrame::Message {
                message: msg(2, CUSTOMER, None),
            },
            0.0,
            true,
        );
        l.disconnected();
        assert!(!l.online());
        let fx = l.frame(hello(), 0.0, true);
        assert!(fx.contains(&Effect::ReloadInbox));
        assert!(
            sent(&fx)
                .iter()
                .any(|f| matches!(f, ClientFrame::Subscribe { last_seq: 2, .. }))
        );
    }

    #[test]
    fn sends_wait_for_the_subscribe_and_go_again_after_a_reconnect() {
        let mut l = Live::new(ME);
        l.open_ticket(T, None);
        // Online before the history arrived: no subscribe yet (it would
        // replay everything), then from the page's last seq.
        let fx = l.frame(hello(), 0.0, true);
        assert!(
            !sent(&fx)
                .iter()
                .any(|f| matches!(f, ClientFrame::Subscribe { .. }))
        );
        l.history(T, vec![msg(1, CUSTOMER, None)], false);
        let fx = l.subscribe_open();
        assert!(matches!(
            sent(&fx)[0],
            ClientFrame::Subscribe { last_seq: 1, .. }
        ));
        l.disconnected();
        // Offline: queued, nothing sent.
        let fx = l.compose("c-1".into(), "hello".into(), false);
        assert!(sent(&fx).is_empty());
        let fx = l.frame(hello(), 0.0, true);
        let sub = sent(&fx)
            .iter()
            .find(|f| matches!(f, ClientFrame::Subscribe { .. }))
            .map(req_of)
            .unwrap();
        assert!(l.flush().is_empty(), "not before the subscribe ack");
        let fx = l.frame(ack(sub, None), 0.0, true);
        let sends = sent(&fx);
        assert!(
            matches!(&sends[0], ClientFrame::Send { client_msg_id, .. } if client_msg_id == "c-1")
        );
        // Lost with the connection: the same id goes again.
        l.disconnected();
        let fx = l.frame(hello(), 0.0, true);
        let sub = sent(&fx)
            .iter()
            .find(|f| matches!(f, ClientFrame::Subscribe { .. }))
            .map(req_of)
            .unwrap();
        let fx = l.frame(ack(sub, None), 0.0, true);
        let again = sent(&fx);
        assert!(
            matches!(&again[0], ClientFrame::Send { client_msg_id, .. } if client_msg_id == "c-1")
        );
        // The stored message (replayed or live) replaces it; the ack too.
        l.frame(
            ServerFrame::Message {
                message: msg(2, ME, Some("c-1")),
            },
            0.0,
            true,
        );
        let fx = l.frame(ack(req_of(&again[0]), Some(2)), 0.0, true);
        assert!(fx.is_empty() || fx == [Effect::Render(Region::Messages)]);
        assert!(!l.conv.as_ref().unwrap().has_outgoing());
        assert_eq!(l.conv.as_ref().unwrap().items().len(), 2, "seq 1 and 2");
    }

    #[test]
    fn a_rate_limited_send_is_flushed_later_and_a_refused_one_fails() {
        let mut l = live_with_open_ticket();
        let fx = l.compose("c-1".into(), "x".into(), false);
        let req = req_of(&sent(&fx)[0]);
        let fx = l.frame(
            ServerFrame::Error {
                req: Some(req),
                error: ErrorBody::new(ErrorCode::RateLimited, "slow"),
            },
            0.0,
            true,
        );
        assert!(fx.contains(&Effect::FlushLater));
        let fx = l.flush();
        let req = req_of(&sent(&fx)[0]);
        let fx = l.frame(
            ServerFrame::Error {
                req: Some(req),
                error: ErrorBody::new(ErrorCode::TicketClosed, "closed"),
            },
            0.0,
            true,
        );
        assert_eq!(fx, [Effect::Render(Region::Messages)]);
        assert!(l.flush().is_empty());
    }

    #[test]
    fn a_lost_claim_says_so_and_asks_who_won() {
        let mut l = live_with_open_ticket();
        let fx = l.claim(T).unwrap();
        let req = req_of(&sent(&fx)[0]);
        let fx = l.frame(
            ServerFrame::Error {
                req: Some(req),
                error: ErrorBody::new(ErrorCode::AlreadyClaimed, "taken"),
            },
            0.0,
            true,
        );
        assert_eq!(fx, [Effect::ClaimLost(T)]);
        assert!(l.claimed_notice.is_none(), "not before the winner is known");
        l.claim_lost(T, Some("Otto"));
        assert_eq!(
            l.claimed_notice.as_deref(),
            Some("Already claimed by Otto.")
        );
        // The winner's claim arrives as an event: the header follows.
        let mut claimed = ticket(T, 5);
        claimed.assignee_id = Some(OTHER);
        let fx = l.frame(
            ServerFrame::TicketEvent {
                ticket: claimed,
                change: TicketChange::Claimed,
            },
            0.0,
            true,
        );
        assert!(fx.contains(&Effect::Render(Region::Head)));
        assert_eq!(l.open.as_ref().unwrap().assignee_id, Some(OTHER));
        // Offline: the caller uses REST.
        l.disconnected();
        assert!(l.claim(T).is_none());
    }

    #[test]
    fn a_won_claim_is_acknowledged() {
        let mut l = live_with_open_ticket();
        let fx = l.claim(T).unwrap();
        let fx = l.frame(ack(req_of(&sent(&fx)[0]), None), 0.0, true);
        assert_eq!(fx, [Effect::Toast("Claimed.".into())]);
    }

    #[test]
    fn new_tickets_notify_and_stale_events_do_not_touch_the_header() {
        let mut l = live_with_open_ticket();
        let other = Uuid::from_u128(0x55);
        let fx = l.frame(
            ServerFrame::TicketEvent {
                ticket: ticket(other, 3),
                change: TicketChange::Created,
            },
            0.0,
            true,
        );
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::Notify { title, .. } if title == "New ticket #7"))
        );
        assert_eq!(l.inbox.new_count(), 1);
        let mut newer = ticket(T, 9);
        newer.priority = Priority::Urgent;
        l.frame(
            ServerFrame::TicketEvent {
                ticket: newer,
                change: TicketChange::Priority,
            },
            0.0,
            true,
        );
        let fx = l.frame(
            ServerFrame::TicketEvent {
                ticket: ticket(T, 2),
                change: TicketChange::Resync,
            },
            0.0,
            true,
        );
        assert!(!fx.contains(&Effect::Render(Region::Head)));
        assert_eq!(l.open.as_ref().unwrap().priority, Priority::Urgent);
    }

    #[test]
    fn messages_show_once_notify_when_hidden_and_move_receipts() {
        let mut l = live_with_open_ticket();
        let m = ServerFrame::Message {
            message: msg(2, CUSTOMER, None),
        };
        let fx = l.frame(m.clone(), 0.0, false);
        assert!(
            fx.iter().any(|e| matches!(e, Effect::Notify { .. })),
            "tab hidden"
        );
        assert!(sent(&fx).contains(&ClientFrame::MarkDelivered {
            ticket_id: T,
            seq: 2
        }));
        assert!(
            !sent(&fx)
                .iter()
                .any(|f| matches!(f, ClientFrame::MarkRead { .. })),
            "not seen yet"
        );
        assert!(l.frame(m, 0.0, true).is_empty() || l.conv.as_ref().unwrap().items().len() == 2);
        assert_eq!(l.conv.as_ref().unwrap().items().len(), 2);
        let fx = l.seen(true);
        assert!(sent(&fx).contains(&ClientFrame::MarkRead {
            ticket_id: T,
            seq: 2
        }));
        assert!(sent(&l.seen(true)).is_empty(), "reported once");
        // A message on another ticket (own channel) notifies.
        let mut elsewhere = msg(3, CUSTOMER, None);
        elsewhere.ticket_id = Uuid::from_u128(0x66);
        let fx = l.frame(ServerFrame::Message { message: elsewhere }, 0.0, true);
        assert!(fx.iter().any(
            |e| matches!(e, Effect::Notify { title, .. } if title == "New message on a ticket")
        ));
        // Receipts and typing of the open ticket redraw.
        let fx = l.frame(
            ServerFrame::Receipt {
                receipt: ReceiptView {
                    ticket_id: T,
                    user_id: CUSTOMER,
                    delivered_seq: 2,
                    read_seq: 2,
                },
            },
            0.0,
            true,
        );
        assert_eq!(fx, [Effect::Render(Region::Messages)]);
        let fx = l.frame(
            ServerFrame::Typing {
                ticket_id: T,
                user_id: CUSTOMER,
                active: true,
            },
            0.0,
            true,
        );
        assert_eq!(fx, [Effect::Render(Region::Typing)]);
        assert_eq!(l.conv.as_mut().unwrap().typists(1.0), [CUSTOMER]);
    }

    #[test]
    fn switching_tickets_unsubscribes_the_old_one() {
        let mut l = live_with_open_ticket();
        let next = Uuid::from_u128(0x77);
        let fx = l.open_ticket(next, None);
        let frames = sent(&fx);
        assert_eq!(frames[0], ClientFrame::TypingStop { ticket_id: T });
        assert!(matches!(
            frames[1],
            ClientFrame::Unsubscribe { ticket_id: T, .. }
        ));
        assert!(l.open_ticket(next, None).is_empty(), "already open");
        assert!(l.subscribe_open().is_empty(), "no history yet");
        l.history(next, Vec::new(), false);
        let fx = l.subscribe_open();
        assert!(l.subscribe_open().is_empty(), "being subscribed already");
        assert!(
            matches!(sent(&fx)[0], ClientFrame::Subscribe { ticket_id, last_seq: 0, .. } if ticket_id == next)
        );
    }

    #[test]
    fn the_inbox_ack_asks_for_the_availability_again() {
        let mut l = Live::new(ME);
        let frames = sent(&l.frame(hello(), 0.0, true));
        let ClientFrame::SubscribeInbox { req } = frames[0] else {
            panic!("{frames:?}")
        };
        let fx = l.frame(ack(req, None), 0.0, true);
        assert!(fx.iter().any(|e| matches!(e, Effect::ReloadAvailability)));
        let before = l.availability_changes;
        l.set_availability(Availability::Away);
        assert_ne!(
            l.availability_changes, before,
            "a choice outdates a pending read"
        );
    }

    #[test]
    fn shown_history_counts_as_read_before_the_subscribe_ack() {
        let mut l = Live::new(ME);
        l.inbox.replace(Page::last(vec![ticket(T, 2)]));
        let _ = l.frame(hello(), 0.0, true);
        l.open_ticket(T, Some(ticket(T, 2)));
        l.history(
            T,
            vec![msg(1, CUSTOMER, None), msg(2, CUSTOMER, None)],
            false,
        );
        // Not visible: nothing is marked.
        assert!(l.history_shown(T, false).is_empty());
        let fx = l.history_shown(T, true);
        assert!(fx.iter().any(|e| matches!(e, Effect::SaveReadPositions)));
        // Another ticket opened meanwhile: the late page marks nothing.
        let other = Uuid::from_u128(99);
        l.open_ticket(other, None);
        assert!(l.history_shown(T, true).is_empty());
    }

    #[test]
    fn availability_follows_the_server() {
        let mut l = live_with_open_ticket();
        assert!(l.set_availability(Availability::Away).is_some());
        let fx = l.frame(
            ServerFrame::Availability {
                user_id: ME,
                availability: Availability::Online,
            },
            0.0,
            true,
        );
        assert_eq!(fx, [Effect::Render(Region::Availability)]);
        assert_eq!(l.availability, Some(Availability::Online));
        assert!(
            l.frame(
                ServerFrame::Availability {
                    user_id: OTHER,
                    availability: Availability::Away
                },
                0.0,
                true
            )
            .is_empty()
        );
        l.disconnected();
        assert!(l.set_availability(Availability::Offline).is_none());
    }
}
