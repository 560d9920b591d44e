//! Following tickets (resume: live first, then the stored gap, then live
//! with `seq` de-duplication) and turning live events into frames.

use std::sync::atomic::Ordering;

use futures_util::stream::StreamExt;
use neurochat_core::Error;
use neurochat_core::domain::{
    MessageKind, Ticket, TicketCursor, TicketFilter, TicketId, TicketSort,
};
use neurochat_core::events::{Event, Topic};
use neurochat_core::ports::Delivery;
use neurochat_core::service::chat::{HISTORY_PAGE_MAX, HistoryPage};
use neurochat_protocol::v1::{
    ErrorCode, MessageView, ReceiptView, ServerFrame, TicketChange, TicketView, close_codes,
};
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::{
    End, Followed, INBOX_RESYNC_MARGIN, INBOX_RESYNC_MAX, Live, REPLAY_PATIENCE, Seen, Session,
    Source,
};

impl Session {
    /// Follows a ticket from `after_seq`: live streams first (so nothing
    /// published meanwhile is missed), then the stored gap, then live events
    /// with anything at or below the last written `seq` dropped.
    pub(super) async fn follow(
        &mut self,
        ticket: TicketId,
        after_seq: i64,
    ) -> Result<Option<End>, Error> {
        if !self.followed.contains_key(&ticket)
            && self.followed.len() >= self.gw.config.max_subscriptions
        {
            return Err(Error::rule(
                ErrorCode::RateLimited,
                "Too many subscriptions on this connection.",
            ));
        }
        let desk = self.gw.desk.clone();
        let public = desk
            .subscribe(&self.principal, Topic::Ticket(ticket))
            .await?;
        let staff = if self.principal.is_staff() {
            Some(
                desk.subscribe(&self.principal, Topic::TicketStaff(ticket))
                    .await?,
            )
        } else {
            None
        };
        // One stream per ticket (staff get its staff topic merged in), so a
        // plain oneshot can stop it: no shared stop future, one entry in
        // `live`.
        let events = match staff {
            Some(staff) => futures_util::stream::select(public, staff).boxed(),
            None => public,
        };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let live: Live = events
            .map(move |d| (Source::Ticket(ticket), d))
            .take_until(stop_rx)
            .boxed();
        self.live.push(live);
        // Re-subscribing replaces the old stream (dropping its stop handle ends it).
        self.followed.insert(
            ticket,
            Followed {
                last_seq: after_seq.max(0),
                _stop: stop_tx,
            },
        );
        Ok(self.catch_up(ticket).await)
    }

    /// Writes every stored message after the ticket's last written `seq`, in
    /// order, before anything else (a `subscribe`'s replay, acknowledged
    /// after it); then waits for half the outbound queue to be free again.
    pub(super) async fn catch_up(&mut self, ticket: TicketId) -> Option<End> {
        let size = self.replay_page_size();
        let mut replayed = false;
        loop {
            match self.replay_page(ticket, size).await {
                Err(end) => return Some(end),
                Ok(page) => {
                    replayed |= page.wrote;
                    if page.last {
                        break;
                    }
                }
            }
        }
        if replayed && let Err(e) = self.out.wait_headroom(REPLAY_PATIENCE).await {
            return Some(self.push_failed(e));
        }
        None
    }

    /// Marks a followed ticket as behind: live events were dropped (the bus
    /// lagged) or one arrived past a gap. Its missed messages are re-read
    /// from the store a page per turn of the session ([`Session::replay_turn`]),
    /// so the client's requests and other events are served in between.
    fn fall_behind(&mut self, ticket: TicketId) {
        let behind = &mut self.rarely().behind;
        if !behind.contains(&ticket) {
            behind.push_back(ticket);
        }
    }

    /// Whether a followed ticket is waiting for a replay page.
    pub(super) fn replaying(&self) -> bool {
        self.rarely.as_ref().is_some_and(|r| !r.behind.is_empty())
    }

    /// Outbound room a replay turn waits for: a page, plus half the queue
    /// left free for the replies and live events that follow it.
    pub(super) fn replay_room(&self) -> usize {
        self.turn_page_size() as usize + self.out.capacity() / 2
    }

    fn replay_page_size(&self) -> u32 {
        // The store serves at most HISTORY_PAGE_MAX per read; a larger page
        // would look like the last one and end the replay early.
        self.gw.config.replay_page.clamp(1, HISTORY_PAGE_MAX)
    }

    /// A replay turn's page: one that fits in the half of the queue it may
    /// fill, so the turn (and the gateway's replay turn it holds) never
    /// waits for the client to read.
    fn turn_page_size(&self) -> u32 {
        let half = self.out.capacity() - self.out.capacity() / 2;
        self.replay_page_size()
            .min(u32::try_from(half).unwrap_or(u32::MAX))
            .max(1)
    }

    /// One page of the replay of the first ticket behind, under one of the
    /// gateway's replay `turn`s (the caller also waited for
    /// [`Session::replay_room`]); the ticket goes to the back of the queue
    /// unless that page was its last. Then the live events already waiting,
    /// so a long replay does not hold them back either.
    pub(super) async fn replay_turn(&mut self, turn: OwnedSemaphorePermit) -> Option<End> {
        let ticket = self.rarely.as_mut()?.behind.pop_front()?;
        if !self.followed.contains_key(&ticket) {
            return None;
        }
        match self.replay_page(ticket, self.turn_page_size()).await {
            Err(end) => return Some(end),
            Ok(page) if !page.last => self.rarely().behind.push_back(ticket),
            Ok(_) => {}
        }
        drop(turn);
        self.drain_live().await
    }

    /// Writes the next page (up to `page` messages) of stored messages
    /// after the ticket's last written `seq`.
    async fn replay_page(&mut self, ticket: TicketId, page: u32) -> Result<ReplayPage, End> {
        let Some(from) = self.followed.get(&ticket).map(|f| f.last_seq) else {
            return Ok(ReplayPage::NOTHING);
        };
        let batch = match self
            .gw
            .desk
            .list_messages(&self.principal, ticket, HistoryPage::After(from), page)
            .await
        {
            Ok(b) => b,
            Err(e) => {
                return self
                    .reply_error(None, e.to_body(), false)
                    .map_or(Ok(ReplayPage::NOTHING), Err);
            }
        };
        let last = (batch.len() as u32) < page;
        for m in &batch {
            let frame = ServerFrame::Message {
                message: MessageView::from(m),
            };
            if let Err(e) = self.out.push_paced(&frame, REPLAY_PATIENCE).await {
                return Err(self.push_failed(e));
            }
            self.slot
                .stats()
                .messages_relayed
                .fetch_add(1, Ordering::Relaxed);
            if let Some(f) = self.followed.get_mut(&ticket) {
                f.last_seq = m.seq;
            }
        }
        Ok(ReplayPage {
            wrote: !batch.is_empty(),
            last,
        })
    }

    /// Writes a ticket event unless this connection already has that
    /// ticket at this version or a newer one (the same change can arrive
    /// on several topics, and again through a resynchronisation).
    async fn ticket_event(&mut self, ticket: &Ticket, change: TicketChange) -> Option<End> {
        // `activity` moves `last_seq`, not the version, so the version
        // check would drop it; a repeat only repeats a snapshot.
        if change != TicketChange::Activity {
            let seen = &mut self.rarely().seen_versions;
            if !seen.record(ticket.id, ticket.version).is_new() {
                return None;
            }
        }
        self.write_ticket_event(ticket, change).await
    }

    /// Writes a ticket event (after the version check), if the connection
    /// may see the ticket.
    async fn write_ticket_event(&mut self, ticket: &Ticket, change: TicketChange) -> Option<End> {
        if !self.principal.is_staff() && ticket.customer_id != self.principal.user_id() {
            return None;
        }
        self.send_live(&ServerFrame::TicketEvent {
            ticket: TicketView::from(ticket),
            change,
        })
        .await
    }

    /// After the inbox topic dropped events for this connection: re-reads
    /// the tickets changed since the inbox mark and writes those this
    /// connection has not seen at their current version, as `created` when
    /// they were opened since, else as `resync`. So a lagging agent still
    /// learns of every ticket.
    async fn resync_inbox(&mut self) -> Option<End> {
        self.slot
            .stats()
            .inbox_resyncs
            .fetch_add(1, Ordering::Relaxed);
        // Set when the inbox was subscribed, the only way to lag on it.
        let mark = self.rarely().inbox_mark?;
        let from = mark - INBOX_RESYNC_MARGIN;
        // Newest first, from now (later changes are on the bus, behind the
        // lag) down to `from`: every ticket changed in the window is read
        // (the cap only guards against a runaway), and those the connection
        // already has at their version cost no frame.
        let mut filter = TicketFilter {
            updated_from: Some(from),
            updated_to: Some(self.gw.desk.now() + time::Duration::milliseconds(1)),
            sort: TicketSort::UpdatedDesc,
            limit: 100,
            ..TicketFilter::default()
        };
        let mut read = 0usize;
        let mut newest = mark;
        while read < INBOX_RESYNC_MAX {
            let page = match self
                .gw
                .desk
                .list_tickets(&self.principal, filter.clone())
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "inbox resynchronisation failed");
                    return None;
                }
            };
            read += page.len();
            for ticket in &page {
                newest = newest.max(ticket.updated_at);
                // `created` only for a ticket this connection never had: one
                // it had at an older version gets its new state as `resync`.
                let seen = &mut self.rarely().seen_versions;
                let change = match seen.record(ticket.id, ticket.version) {
                    Seen::Already => continue,
                    Seen::First if ticket.created_at >= from => TicketChange::Created,
                    Seen::First | Seen::Newer => TicketChange::Resync,
                };
                if let Some(end) = self.write_ticket_event(ticket, change).await {
                    return Some(end);
                }
            }
            match page.last() {
                Some(last) if page.len() as u32 >= filter.limit => {
                    filter.after = Some(TicketCursor::of(last, TicketSort::UpdatedDesc));
                }
                _ => break,
            }
        }
        if read >= INBOX_RESYNC_MAX {
            tracing::warn!(read, "inbox resynchronisation stopped at its cap");
        }
        let rarely = self.rarely();
        rarely.inbox_mark = rarely.inbox_mark.max(Some(newest));
        None
    }

    pub(super) async fn on_live(&mut self, source: Source, delivery: Delivery) -> Option<End> {
        let event = match delivery {
            Delivery::Event(e) => e,
            Delivery::Lagged(_) => {
                // Events were dropped: messages and the inbox are re-read
                // from the store. Presence arrives with the next change.
                return match source {
                    Source::Ticket(t) => {
                        self.fall_behind(t);
                        None
                    }
                    Source::Inbox => self.resync_inbox().await,
                    Source::Presence | Source::User => None,
                };
            }
        };
        match event {
            Event::MessagePosted(m) => {
                let Some(f) = self.followed.get(&m.ticket_id) else {
                    // Not followed here: only the user's own channel forwards it,
                    // as a notification.
                    if source == Source::User
                        && (self.principal.is_staff() || m.kind != MessageKind::InternalNote)
                    {
                        return self
                            .send_live(&ServerFrame::Message {
                                message: (&m).into(),
                            })
                            .await;
                    }
                    return None;
                };
                if m.seq <= f.last_seq {
                    return None;
                }
                if m.seq > f.last_seq + 1 {
                    // Stored before it was published: the replay brings it,
                    // after the ones in the gap.
                    self.fall_behind(m.ticket_id);
                    return None;
                }
                if let Some(f) = self.followed.get_mut(&m.ticket_id) {
                    f.last_seq = m.seq;
                }
                self.slot
                    .stats()
                    .messages_relayed
                    .fetch_add(1, Ordering::Relaxed);
                self.send_live(&ServerFrame::Message {
                    message: (&m).into(),
                })
                .await
            }
            Event::TicketChanged { ticket, change } => {
                if source == Source::Inbox {
                    let rarely = self.rarely();
                    rarely.inbox_mark = rarely.inbox_mark.max(Some(ticket.updated_at));
                }
                self.ticket_event(&ticket, change.into()).await
            }
            Event::Typing {
                ticket_id,
                user_id,
                active,
            } => {
                if user_id == self.principal.user_id() || !self.followed.contains_key(&ticket_id) {
                    return None;
                }
                self.send_live(&ServerFrame::Typing {
                    ticket_id: ticket_id.as_uuid(),
                    user_id: user_id.as_uuid(),
                    active,
                })
                .await
            }
            Event::Receipt {
                ticket_id,
                user_id,
                delivered_seq,
                read_seq,
            } => {
                self.send_live(&ServerFrame::Receipt {
                    receipt: ReceiptView {
                        ticket_id: ticket_id.as_uuid(),
                        user_id: user_id.as_uuid(),
                        delivered_seq: u64::try_from(delivered_seq).unwrap_or(0),
                        read_seq: u64::try_from(read_seq).unwrap_or(0),
                    },
                })
                .await
            }
            Event::AvailabilityChanged {
                user_id,
                availability,
            } => {
                self.send_live(&ServerFrame::Availability {
                    user_id: user_id.as_uuid(),
                    availability: availability.into(),
                })
                .await
            }
            Event::Escalated { ticket, reason } => {
                if !self.principal.is_staff() {
                    return None;
                }
                self.send_live(&ServerFrame::Escalation {
                    ticket_id: ticket.id.as_uuid(),
                    reason: reason.as_str().to_owned(),
                })
                .await
            }
            Event::SessionsRevoked { .. } => {
                // Something about this user's sessions changed: re-check ours.
                let desk = &self.gw.desk;
                match desk.authenticate_bearer(&self.token).await {
                    Ok(p) => {
                        self.principal = p;
                        None
                    }
                    // Expired but within the re-auth grace: the token can no
                    // longer say whether the session lives, the store can.
                    Err(e) if e.code() == ErrorCode::TokenExpired => {
                        let sid = self.principal.session_id()?;
                        match desk.store().fetch_session(sid).await {
                            Ok(Some(s)) if s.is_active(desk.now()) => None,
                            Ok(_) => {
                                Some(End::Close(close_codes::SESSION_REVOKED, "session_revoked"))
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "could not re-check a session");
                                None
                            }
                        }
                    }
                    // A storage hiccup is not a revocation: keep the session.
                    Err(e) if e.is_internal() => {
                        tracing::warn!(error = %e, "could not re-check a session");
                        None
                    }
                    Err(_) => Some(End::Close(close_codes::SESSION_REVOKED, "session_revoked")),
                }
            }
        }
    }
}

/// What one [`Session::replay_page`] did.
struct ReplayPage {
    /// Some message was written.
    wrote: bool,
    /// The page was not full: the ticket has caught up with the store.
    last: bool,
}

impl ReplayPage {
    /// Nothing written and nothing more to read (the ticket is no longer
    /// followed, or the read failed).
    const NOTHING: ReplayPage = ReplayPage {
        wrote: false,
        last: true,
    };
}
