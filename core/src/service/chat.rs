//! Chat: posting messages (idempotent by `client_msg_id`), history pages,
//! read receipts, and typing indicators that expire by themselves.

use std::collections::HashMap;
use std::sync::Mutex;

use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};

use crate::Desk;
use crate::domain::validate;
use crate::domain::{
    InsertMessage, Message, MessageId, MessageKind, NewMessage, Receipt, Ticket, TicketId,
    TicketStatus, UserId,
};
use crate::error::{Error, Result};
use crate::events::{Event, TicketChange, Topic};
use crate::ports::{StoreError, Subscription};
use crate::principal::Principal;

/// Largest history page.
pub const HISTORY_PAGE_MAX: u32 = 200;

/// A message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostMessage {
    /// The ticket.
    pub ticket_id: TicketId,
    /// 1..=4000 characters after trimming; newline and tab are the only
    /// control characters allowed.
    pub body: String,
    /// The client's idempotency key: resending it returns the original message.
    pub client_msg_id: String,
    /// An internal note (staff only; never shown to the customer).
    pub internal: bool,
}

/// A posted message and the ticket after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The stored message (the original one for a resend).
    pub message: Message,
    /// The ticket now.
    pub ticket: Ticket,
    /// True when this was a resend of an already stored message.
    pub duplicate: bool,
}

/// Which part of a ticket's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryPage {
    /// The newest messages.
    Latest,
    /// Messages with a `seq` below this one (scrolling back).
    Before(i64),
    /// Messages with a `seq` above this one (catching up).
    After(i64),
}

/// What the sender of a message sees of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    /// Stored.
    Sent,
    /// Reached another participant's device.
    Delivered,
    /// Seen by another participant.
    Read,
}

/// The status of `message` for its author, from the other participants' receipts.
pub fn delivery_status(message: &Message, receipts: &[Receipt]) -> DeliveryStatus {
    let others = receipts
        .iter()
        .filter(|r| Some(r.user_id) != message.author_id);
    let mut status = DeliveryStatus::Sent;
    for r in others {
        if r.read_seq >= message.seq {
            return DeliveryStatus::Read;
        }
        if r.delivered_seq >= message.seq {
            status = DeliveryStatus::Delivered;
        }
    }
    status
}

/// Live typing indicators: a generation per (ticket, user), so the expiry
/// timer of an indicator that was refreshed or stopped does nothing.
#[derive(Debug, Default)]
pub(crate) struct TypingTracker {
    live: Mutex<HashMap<(TicketId, UserId), u64>>,
}

impl TypingTracker {
    fn start(&self, key: (TicketId, UserId)) -> u64 {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let g = live.get(&key).copied().unwrap_or(0) + 1;
        live.insert(key, g);
        g
    }

    /// Ends the indicator; `generation` ends it only if it was not refreshed since.
    fn stop(&self, key: (TicketId, UserId), generation: Option<u64>) -> bool {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match (live.get(&key), generation) {
            (Some(g), Some(want)) if *g != want => false,
            (Some(_), _) => {
                live.remove(&key);
                true
            }
            (None, _) => false,
        }
    }

    /// Indicators currently shown (for tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Desk {
    /// Posts a message. Customers write to their own tickets, staff to any;
    /// internal notes are staff-only. Resending a `client_msg_id` returns the
    /// original message (no duplicate). A customer message reopens a resolved
    /// ticket; a closed ticket is read-only (`ticket_closed`: start a new one).
    pub async fn post_message(&self, principal: &Principal, input: PostMessage) -> Result<Posted> {
        self.post_messages(principal, vec![input])
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::Internal("no outcome for a posted message".into())))
    }

    /// [`post_message`](Self::post_message) for several messages of one
    /// principal, in order: one outcome per input, each as that call alone
    /// would give it. The messages are stored together (one group commit),
    /// so a client that pipelines its sends pays for one write, not many;
    /// messages to one ticket get increasing `seq`s in input order.
    #[tracing::instrument(skip_all, fields(count = inputs.len()))]
    pub async fn post_messages(
        &self,
        principal: &Principal,
        inputs: Vec<PostMessage>,
    ) -> Vec<Result<Posted>> {
        let mut outcomes: Vec<Option<Result<Posted>>> = Vec::with_capacity(inputs.len());
        let mut news = Vec::with_capacity(inputs.len());
        let mut places = Vec::with_capacity(inputs.len());
        for input in inputs {
            match self.prepare_post(principal, input).await {
                Ok(new) => {
                    places.push(outcomes.len());
                    news.push(new);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        if !news.is_empty() {
            let mut stored = self.inner.store.insert_messages(&news).await.into_iter();
            for (place, new) in places.into_iter().zip(news) {
                let outcome = stored
                    .next()
                    .unwrap_or_else(|| Err(StoreError::backend(MissingOutcome)));
                outcomes[place] = Some(self.finish_post(principal, new, outcome).await);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::Internal("no outcome".into()))))
            .collect()
    }

    /// Validates and authorizes one post; the message to store.
    async fn prepare_post(&self, principal: &Principal, input: PostMessage) -> Result<NewMessage> {
        let mut bad = Vec::new();
        let body = validate::body("body", &input.body, &mut bad);
        validate::client_msg_id("client_msg_id", &input.client_msg_id, &mut bad);
        let Some(body) = body else {
            return Err(Error::Validation(bad));
        };
        validate::finish(bad)?;
        self.authorize_ticket(principal, input.ticket_id).await?;
        let kind = match (principal.is_staff(), input.internal) {
            (false, true) => return Err(Error::Forbidden),
            (false, false) => MessageKind::Customer,
            (true, false) => MessageKind::Agent,
            (true, true) => MessageKind::InternalNote,
        };
        // A missing or closed ticket is the store's answer (`NotFound`,
        // `Conflict`), given inside the write: no read here.
        Ok(NewMessage {
            id: MessageId(self.new_uuid()),
            ticket_id: input.ticket_id,
            author_id: Some(principal.user_id),
            kind,
            body,
            client_msg_id: Some(input.client_msg_id),
            created_at: self.now(),
        })
    }

    /// Announces a stored message (and a reopening) and builds the reply.
    async fn finish_post(
        &self,
        principal: &Principal,
        new: NewMessage,
        stored: std::result::Result<InsertMessage, StoreError>,
    ) -> Result<Posted> {
        let inserted = match stored {
            Ok(i) => i,
            Err(StoreError::Conflict) => return Err(closed()),
            Err(StoreError::NotFound) => return Err(Error::NotFound("ticket")),
            Err(e) => return Err(e.into()),
        };
        let (message, ticket) = match inserted {
            InsertMessage::Duplicate(message) => {
                let ticket = self.fetch_ticket_required(new.ticket_id).await?;
                return Ok(Posted {
                    message,
                    ticket,
                    duplicate: true,
                });
            }
            InsertMessage::Inserted {
                message,
                ticket: after,
                previous_status,
            } => {
                if after.status != previous_status {
                    self.publish_ticket(&after, TicketChange::Status).await;
                }
                (message, after)
            }
        };
        // Internal notes go only where customers can never subscribe.
        let topic = if new.kind == MessageKind::InternalNote {
            Topic::TicketStaff(ticket.id)
        } else {
            Topic::Ticket(ticket.id)
        };
        self.publish(topic, Event::MessagePosted(message.clone()))
            .await;
        if ticket.assignee_id.is_none() {
            // The queue every agent watches: its rows' unread counts move
            // live. (An assigned ticket's messages reach its assignee below;
            // a per-message inbox event for every ticket would cost a frame
            // per agent per message.)
            self.publish(
                Topic::Inbox,
                Event::TicketChanged {
                    ticket: ticket.clone(),
                    change: TicketChange::Activity,
                },
            )
            .await;
        }
        if new.kind == MessageKind::Customer
            && let Some(assignee) = ticket.assignee_id
        {
            // The assignee's own channel, so the console can notify of new
            // messages on tickets they are not looking at.
            self.publish(Topic::User(assignee), Event::MessagePosted(message.clone()))
                .await;
        }
        // Sending a message ends the sender's typing indicator.
        self.end_typing(ticket.id, principal.user_id, None).await;
        Ok(Posted {
            message,
            ticket,
            duplicate: false,
        })
    }

    /// A page of a ticket's history in ascending `seq` order, at most `limit`
    /// (1..=200). Customers read only their own tickets and never see
    /// internal notes (so they may see gaps in `seq`).
    pub async fn list_messages(
        &self,
        principal: &Principal,
        ticket_id: TicketId,
        page: HistoryPage,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let ticket = self.get_ticket(principal, ticket_id).await?;
        let limit = match limit {
            0 => 50,
            n => n.min(HISTORY_PAGE_MAX),
        };
        let staff = principal.is_staff();
        let store = &self.inner.store;
        Ok(match page {
            HistoryPage::Latest => {
                store
                    .list_messages_before(ticket.id, i64::MAX, limit, staff)
                    .await?
            }
            HistoryPage::Before(seq) => {
                store
                    .list_messages_before(ticket.id, seq, limit, staff)
                    .await?
            }
            HistoryPage::After(seq) => {
                store
                    .list_messages_after(ticket.id, seq, limit, staff)
                    .await?
            }
        })
    }

    /// Moves the principal's delivered and/or read position on a ticket
    /// forward (never back; clamped to the newest message) and tells the other
    /// participants when it moved.
    pub async fn mark_receipt(
        &self,
        principal: &Principal,
        ticket_id: TicketId,
        delivered_seq: Option<i64>,
        read_seq: Option<i64>,
    ) -> Result<Receipt> {
        let mut bad = Vec::new();
        for (field, v) in [("delivered_seq", delivered_seq), ("read_seq", read_seq)] {
            if v.is_some_and(|v| v < 0) {
                bad.push(crate::error::FieldViolation::new(
                    field,
                    FieldErrorCode::OutOfRange,
                    "Must not be negative.",
                ));
            }
        }
        validate::finish(bad)?;
        let ticket = self.get_ticket(principal, ticket_id).await?;
        let clamp = |v: Option<i64>| v.unwrap_or(0).min(ticket.last_seq);
        let store = &self.inner.store;
        let before = store
            .list_receipts(ticket.id)
            .await?
            .into_iter()
            .find(|r| r.user_id == principal.user_id)
            .map(|r| (r.delivered_seq, r.read_seq));
        let receipt = store
            .update_receipt(
                ticket.id,
                principal.user_id,
                clamp(delivered_seq),
                clamp(read_seq),
                self.now(),
            )
            .await?;
        if before != Some((receipt.delivered_seq, receipt.read_seq)) {
            self.publish(
                Topic::Ticket(ticket.id),
                Event::Receipt {
                    ticket_id: ticket.id,
                    user_id: principal.user_id,
                    delivered_seq: receipt.delivered_seq,
                    read_seq: receipt.read_seq,
                },
            )
            .await;
        }
        Ok(receipt)
    }

    /// Every participant's receipt on a ticket the principal can see.
    pub async fn list_receipts(
        &self,
        principal: &Principal,
        ticket_id: TicketId,
    ) -> Result<Vec<Receipt>> {
        let ticket = self.get_ticket(principal, ticket_id).await?;
        Ok(self.inner.store.list_receipts(ticket.id).await?)
    }

    /// Starts (or refreshes) or stops the principal's typing indicator on a
    /// ticket. Never stored: it goes over the bus only, and a started
    /// indicator ends by itself after the configured time (8 s by default)
    /// unless refreshed.
    pub async fn set_typing(
        &self,
        principal: &Principal,
        ticket_id: TicketId,
        active: bool,
    ) -> Result<()> {
        let ticket = self.get_ticket(principal, ticket_id).await?;
        if ticket.status == TicketStatus::Closed {
            return Err(closed());
        }
        let key = (ticket.id, principal.user_id);
        if !active {
            self.end_typing(ticket.id, principal.user_id, None).await;
            return Ok(());
        }
        let generation = self.inner.typing.start(key);
        self.publish(
            Topic::Ticket(ticket.id),
            Event::Typing {
                ticket_id: ticket.id,
                user_id: principal.user_id,
                active: true,
            },
        )
        .await;
        let desk = self.clone();
        let ttl = std::time::Duration::try_from(self.inner.config.tickets.typing_ttl)
            .unwrap_or(std::time::Duration::from_secs(8));
        tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            desk.end_typing(key.0, key.1, Some(generation)).await;
        });
        Ok(())
    }

    async fn end_typing(&self, ticket_id: TicketId, user_id: UserId, generation: Option<u64>) {
        if self.inner.typing.stop((ticket_id, user_id), generation) {
            self.publish(
                Topic::Ticket(ticket_id),
                Event::Typing {
                    ticket_id,
                    user_id,
                    active: false,
                },
            )
            .await;
        }
    }

    /// Subscribes the principal to a topic it may see: a ticket it can read,
    /// its own user channel; staff also the inbox, presence and tickets'
    /// staff channels (internal notes). Anything else is refused here, so no
    /// transport can forget the check.
    pub async fn subscribe(&self, principal: &Principal, topic: Topic) -> Result<Subscription> {
        match &topic {
            Topic::Ticket(id) => {
                self.get_ticket(principal, *id).await?;
            }
            Topic::TicketStaff(id) => {
                crate::service::tickets::require_staff(principal)?;
                self.get_ticket(principal, *id).await?;
            }
            Topic::Inbox | Topic::Presence => crate::service::tickets::require_staff(principal)?,
            Topic::User(id) if *id == principal.user_id => {}
            Topic::User(_) => return Err(Error::Forbidden),
        }
        Ok(self.inner.bus.subscribe(topic).await?)
    }

    /// Typing indicators currently shown (for metrics and tests).
    pub fn typing_indicators(&self) -> usize {
        self.inner.typing.len()
    }
}

/// A store answered fewer messages than it was given.
#[derive(Debug, thiserror::Error)]
#[error("the store returned no outcome for a message")]
struct MissingOutcome;

fn closed() -> Error {
    Error::rule(
        ErrorCode::TicketClosed,
        "This ticket is closed; start a new conversation.",
    )
}
