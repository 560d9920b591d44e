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
#[path = "live_tests.rs"]
mod tests;
