//! One client connection: authentication, subscriptions with resume,
//! requests, live events, heartbeats, re-authentication and limits.
//!
//! [`run`] is generic over a `Sink`/`Stream` of [`WsFrame`]s, so the same code
//! serves tokio-tungstenite ([`crate::serve`]), axum's WebSocket upgrade, and
//! tests that drive it through channels.

use std::collections::HashMap;
use std::fmt::Display;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::Sink;
use futures_util::stream::{SelectAll, Stream, StreamExt};
use neurochat_core::domain::{Availability, MessageKind, TicketId};
use neurochat_core::events::{Event, Topic};
use neurochat_core::ports::Delivery;
use neurochat_core::service::chat::{HISTORY_PAGE_MAX, HistoryPage, PostMessage};
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Error, Principal, RequestContext};
use neurochat_protocol::v1::{
    ClientFrame, ErrorBody, ErrorCode, Limits, MessageView, ReceiptView, ServerFrame, TicketView,
    close_codes,
};
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::time::Instant as TokioInstant;

use crate::frame::WsFrame;
use crate::gateway::{ConnectionSlot, Gateway};
use crate::outbox::{Outbox, PushError};
use crate::ratelimit::TokenBucket;

/// How long a replay may wait for room in the outbound queue.
const REPLAY_PATIENCE: Duration = Duration::from_secs(10);
/// Ticket versions remembered to drop duplicate ticket events.
const SEEN_VERSIONS_MAX: usize = 4096;

/// What the transport knows about the peer.
#[derive(Debug, Clone, Default)]
pub struct PeerInfo {
    /// The client's IP address, for the audit log.
    pub source_ip: Option<String>,
}

/// Where a live event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Ticket(TicketId),
    Inbox,
    Presence,
    User,
}

type Live = Pin<Box<dyn Stream<Item = (Source, Delivery)> + Send>>;

/// A followed ticket.
struct Followed {
    /// Highest `seq` written to the client: everything at or below it is
    /// never sent again, so each message is shown exactly once.
    last_seq: i64,
    /// Dropping it ends the ticket's live streams.
    _stop: oneshot::Sender<()>,
}

/// Why a session ends.
enum End {
    /// Close after flushing, with this code and reason.
    Close(u16, &'static str),
    /// Close now, dropping what is queued (slow consumer).
    CloseNow(u16, &'static str),
    /// The peer is gone.
    Gone,
}

struct Session {
    gw: Arc<Gateway>,
    out: Outbox,
    principal: Principal,
    token: String,
    ctx: RequestContext,
    expires_at: Option<OffsetDateTime>,
    reauth_sent: bool,
    followed: HashMap<TicketId, Followed>,
    inbox: bool,
    live: SelectAll<Live>,
    bucket: TokenBucket,
    typing_sent: HashMap<TicketId, Instant>,
    seen_versions: HashMap<TicketId, i64>,
    violations: u32,
    slot: ConnectionSlot,
}

/// Runs one connection to its end. Never panics on client input; every
/// failure becomes an `error` frame or a documented close code.
pub async fn run<Si, St, E>(gateway: Arc<Gateway>, sink: Si, mut stream: St, peer: PeerInfo)
where
    Si: Sink<WsFrame> + Send + Unpin + 'static,
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: Display,
{
    let cfg = gateway.config.clone();
    let (mut out, writer) = Outbox::start(sink, cfg.outbound_queue);
    let Some(mut slot) = gateway.open_connection() else {
        out.close_now(close_codes::TOO_MANY_CONNECTIONS, "server_full");
        drop(out);
        let _ = writer.await;
        return;
    };
    let ctx = RequestContext {
        source_ip: peer.source_ip,
    };

    // 1. Authenticate: the first frame, within the deadline.
    let (principal, token) = match authenticate(&gateway, &mut stream, &out).await {
        Ok(ok) => ok,
        Err(end) => {
            finish(out, writer, end).await;
            return;
        }
    };
    if !slot.bind(&principal).await {
        finish(
            out,
            writer,
            End::Close(close_codes::TOO_MANY_CONNECTIONS, "too_many_connections"),
        )
        .await;
        return;
    }
    let desk = gateway.desk.clone();
    let expires_at = desk.verify_access_token(&token).ok().map(|c| c.expires_at);
    let hello = ServerFrame::Hello {
        protocol: neurochat_protocol::PROTOCOL_VERSION,
        session_id: principal
            .session_id()
            .map(|s| s.as_uuid())
            .unwrap_or_default(),
        server_time: desk.now(),
        limits: Limits {
            max_frame_bytes: u32::try_from(cfg.max_frame_bytes).unwrap_or(u32::MAX),
            max_body_chars: u32::try_from(neurochat_core::domain::validate::BODY_MAX)
                .unwrap_or(u32::MAX),
            messages_per_minute: cfg.frames_per_second.saturating_mul(60),
        },
    };
    if out.push(&hello).is_err() {
        finish(out, writer, End::Gone).await;
        return;
    }
    let mut s = Session {
        bucket: TokenBucket::new(cfg.frames_per_second, cfg.frame_burst),
        gw: gateway.clone(),
        out,
        principal,
        token,
        ctx,
        expires_at,
        reauth_sent: false,
        followed: HashMap::new(),
        inbox: false,
        live: SelectAll::new(),
        typing_sent: HashMap::new(),
        seen_versions: HashMap::new(),
        violations: 0,
        slot,
    };
    // The user's own channel: revocations, assignments, notifications.
    if let Ok(sub) = desk
        .subscribe(&s.principal, Topic::User(s.principal.user_id()))
        .await
    {
        s.live.push(sub.map(|d| (Source::User, d)).boxed());
    }

    // 2. Serve until something ends the session.
    let end = s.serve(&mut stream).await;
    let Session { out, .. } = s;
    finish(out, writer, end).await;
}

async fn finish(mut out: Outbox, writer: tokio::task::JoinHandle<()>, end: End) {
    match end {
        End::Close(code, reason) => out.close_after_flush(code, reason).await,
        End::CloseNow(code, reason) => out.close_now(code, reason),
        End::Gone => {}
    }
    drop(out);
    let _ = writer.await;
}

/// Waits for the `auth` frame and checks its token.
async fn authenticate<St, E>(
    gw: &Gateway,
    stream: &mut St,
    out: &Outbox,
) -> Result<(Principal, String), End>
where
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: Display,
{
    let deadline = TokioInstant::now() + gw.config.auth_timeout;
    loop {
        let next = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Err(End::Close(close_codes::AUTH_TIMEOUT, "auth_timeout")),
            Ok(None | Some(Err(_))) | Ok(Some(Ok(WsFrame::Close(_)))) => return Err(End::Gone),
            Ok(Some(Ok(f))) => f,
        };
        let text = match next {
            WsFrame::Text(t) => t,
            WsFrame::Ping(_) | WsFrame::Pong(_) => continue,
            WsFrame::Binary(_) | WsFrame::Close(_) => {
                return Err(End::Close(close_codes::AUTH_FAILED, "auth_failed"));
            }
        };
        if text.len() > gw.config.max_frame_bytes {
            return Err(End::Close(close_codes::FRAME_TOO_LARGE, "frame_too_large"));
        }
        let Ok(ClientFrame::Auth { token }) = serde_json::from_str::<ClientFrame>(&text) else {
            let _ = out.push(&ServerFrame::error(
                None,
                ErrorBody::new(
                    ErrorCode::Unauthenticated,
                    "The first frame must be `auth`.",
                ),
            ));
            return Err(End::Close(close_codes::AUTH_FAILED, "auth_failed"));
        };
        return match gw.desk.authenticate_bearer(&token).await {
            Ok(p) => Ok((p, token)),
            Err(e) => {
                let _ = out.push(&ServerFrame::error(None, e.to_body()));
                Err(End::Close(close_codes::AUTH_FAILED, "auth_failed"))
            }
        };
    }
}

impl Session {
    async fn serve<St, E>(&mut self, stream: &mut St) -> End
    where
        St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
        E: Display,
    {
        let cfg = self.gw.config.clone();
        let mut shutdown = self.gw.shutdown_signal();
        let mut ping = tokio::time::interval(cfg.ping_interval);
        ping.tick().await;
        let idle = tokio::time::sleep(cfg.idle_timeout);
        tokio::pin!(idle);
        loop {
            let token_deadline = self.token_deadline();
            tokio::select! {
                biased;
                _ = shutdown.changed() => return End::Close(close_codes::GOING_AWAY, "going_away"),
                () = &mut idle => return End::Gone,
                () = sleep_until_opt(token_deadline) => {
                    if let Some(end) = self.on_token_deadline() {
                        return end;
                    }
                }
                frame = stream.next() => {
                    idle.as_mut().reset(TokioInstant::now() + cfg.idle_timeout);
                    let frame = match frame {
                        None | Some(Err(_)) => return End::Gone,
                        Some(Ok(f)) => f,
                    };
                    if let Some(end) = self.on_frame(frame).await {
                        return end;
                    }
                }
                item = self.live.next(), if !self.live.is_empty() => {
                    if let Some((source, delivery)) = item
                        && let Some(end) = self.on_live(source, delivery).await
                    {
                        return end;
                    }
                }
                _ = ping.tick() => {
                    if let Err(e) = self.out.push_raw(WsFrame::Ping(Vec::new())) {
                        return self.push_failed(e);
                    }
                }
            }
        }
    }

    /// When the token needs attention next: the re-auth request, then the close.
    fn token_deadline(&self) -> Option<TokioInstant> {
        let exp = self.expires_at?;
        let cfg = &self.gw.config;
        let now = self.gw.desk.now();
        let at = if self.reauth_sent {
            exp + cfg.reauth_grace
        } else {
            exp - cfg.reauth_lead
        };
        let wait = (at - now).max(time::Duration::ZERO);
        Some(TokioInstant::now() + Duration::try_from(wait).unwrap_or(Duration::ZERO))
    }

    fn on_token_deadline(&mut self) -> Option<End> {
        let exp = self.expires_at?;
        if self.reauth_sent {
            return Some(End::Close(close_codes::TOKEN_EXPIRED, "token_expired"));
        }
        self.reauth_sent = true;
        match self.out.push(&ServerFrame::Reauth { expires_at: exp }) {
            Ok(()) => None,
            Err(e) => Some(self.push_failed(e)),
        }
    }

    fn push_failed(&self, e: PushError) -> End {
        match e {
            PushError::Full => {
                self.slot
                    .stats()
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
                End::CloseNow(close_codes::SLOW_CONSUMER, "slow_consumer")
            }
            PushError::Closed => End::Gone,
        }
    }

    fn send(&self, frame: &ServerFrame) -> Option<End> {
        self.out.push(frame).err().map(|e| self.push_failed(e))
    }

    /// Replies to a request with an error; counts it as a violation when the
    /// client should have known better.
    fn reply_error(&mut self, req: Option<u64>, body: ErrorBody, violation: bool) -> Option<End> {
        if let Some(end) = self.send(&ServerFrame::error(req, body)) {
            return Some(end);
        }
        if violation {
            self.violations += 1;
            if self.violations > self.gw.config.max_violations {
                return Some(End::Close(
                    close_codes::PROTOCOL_VIOLATION,
                    "protocol_violation",
                ));
            }
        }
        None
    }

    async fn on_frame(&mut self, frame: WsFrame) -> Option<End> {
        let text = match frame {
            WsFrame::Text(t) => t,
            WsFrame::Ping(_) | WsFrame::Pong(_) => return None,
            WsFrame::Close(_) => return Some(End::Gone),
            WsFrame::Binary(_) => {
                return self.reply_error(
                    None,
                    ErrorBody::new(
                        ErrorCode::MalformedRequest,
                        "Binary frames are not supported.",
                    ),
                    true,
                );
            }
        };
        if text.len() > self.gw.config.max_frame_bytes {
            return Some(End::Close(close_codes::FRAME_TOO_LARGE, "frame_too_large"));
        }
        let frame: ClientFrame = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                let req = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("req").and_then(serde_json::Value::as_u64));
                let body = ErrorBody::new(
                    ErrorCode::MalformedRequest,
                    format!("Malformed frame: {}", short(&e)),
                );
                return self.reply_error(req, body, true);
            }
        };
        let exempt = matches!(frame, ClientFrame::Ping { .. } | ClientFrame::Auth { .. });
        if !exempt && !self.bucket.try_take() {
            let body = ErrorBody::new(ErrorCode::RateLimited, "Too many frames; slow down.");
            if let Some(end) = self.send(&ServerFrame::error(frame.req(), body)) {
                return Some(end);
            }
            self.violations += 1;
            return (self.violations > self.gw.config.max_violations)
                .then_some(End::Close(close_codes::RATE_LIMITED, "rate_limited"));
        }
        self.on_request(frame).await
    }

    async fn on_request(&mut self, frame: ClientFrame) -> Option<End> {
        let desk = self.gw.desk.clone();
        let p = self.principal.clone();
        let ack = |req: u64| ServerFrame::Ack {
            req,
            message_id: None,
            seq: None,
            ticket_id: None,
        };
        match frame {
            ClientFrame::Auth { token } => return self.reauthenticate(token).await,
            ClientFrame::Ping { nonce } => {
                return self.send(&ServerFrame::Pong {
                    nonce,
                    server_time: desk.now(),
                });
            }
            ClientFrame::Subscribe {
                req,
                ticket_id,
                last_seq,
            } => {
                let last = i64::try_from(last_seq).unwrap_or(i64::MAX);
                return match self.follow(TicketId(ticket_id), last).await {
                    Ok(None) => self.send(&ack(req)),
                    Ok(Some(end)) => Some(end),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::Unsubscribe { req, ticket_id } => {
                self.followed.remove(&TicketId(ticket_id));
                return self.send(&ack(req));
            }
            ClientFrame::SubscribeInbox { req } => {
                if self.inbox {
                    return self.send(&ack(req));
                }
                let inbox = desk.subscribe(&p, Topic::Inbox).await;
                let presence = desk.subscribe(&p, Topic::Presence).await;
                return match (inbox, presence) {
                    (Ok(i), Ok(pr)) => {
                        self.inbox = true;
                        self.live.push(i.map(|d| (Source::Inbox, d)).boxed());
                        self.live.push(pr.map(|d| (Source::Presence, d)).boxed());
                        self.send(&ack(req))
                    }
                    (Err(e), _) | (_, Err(e)) => self.reply(req, e),
                };
            }
            ClientFrame::Send {
                req,
                ticket_id,
                client_msg_id,
                body,
                internal,
            } => {
                let input = PostMessage {
                    ticket_id: TicketId(ticket_id),
                    body,
                    client_msg_id,
                    internal,
                };
                return match desk.post_message(&p, input).await {
                    Ok(posted) => self.send(&ServerFrame::Ack {
                        req,
                        message_id: Some(posted.message.id.as_uuid()),
                        seq: u64::try_from(posted.message.seq).ok(),
                        ticket_id: Some(ticket_id),
                    }),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::CreateTicket {
                req,
                subject,
                body,
                client_msg_id,
                category_id,
            } => {
                let input = NewTicket {
                    subject,
                    body,
                    client_msg_id,
                    category_id: category_id.map(Into::into),
                    priority: None,
                };
                return match desk.create_ticket(&p, input, &self.ctx).await {
                    Ok((ticket, message)) => self.send(&ServerFrame::Ack {
                        req,
                        message_id: Some(message.id.as_uuid()),
                        seq: u64::try_from(message.seq).ok(),
                        ticket_id: Some(ticket.id.as_uuid()),
                    }),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::Claim { req, ticket_id } => {
                return match desk.claim_ticket(&p, TicketId(ticket_id), &self.ctx).await {
                    Ok(t) => self.send(&ServerFrame::Ack {
                        req,
                        message_id: None,
                        seq: None,
                        ticket_id: Some(t.id.as_uuid()),
                    }),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::SetAvailability { req, availability } => {
                let a: Availability = availability.into();
                return match desk
                    .set_agent_settings(&p, p.user_id(), Some(a), None)
                    .await
                {
                    Ok(_) => self.send(&ack(req)),
                    Err(e) => self.reply(req, e),
                };
            }
            ClientFrame::TypingStart { ticket_id } => {
                let t = TicketId(ticket_id);
                let now = Instant::now();
                let throttled = self
                    .typing_sent
                    .get(&t)
                    .is_some_and(|at| now.duration_since(*at) < self.gw.config.typing_interval);
                if throttled {
                    return None;
                }
                if self.typing_sent.len() > self.gw.config.max_subscriptions {
                    self.typing_sent.clear();
                }
                self.typing_sent.insert(t, now);
                if let Err(e) = desk.set_typing(&p, t, true).await {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::TypingStop { ticket_id } => {
                self.typing_sent.remove(&TicketId(ticket_id));
                if let Err(e) = desk.set_typing(&p, TicketId(ticket_id), false).await {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::MarkDelivered { ticket_id, seq } => {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                if let Err(e) = desk
                    .mark_receipt(&p, TicketId(ticket_id), Some(seq), None)
                    .await
                {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
            ClientFrame::MarkRead { ticket_id, seq } => {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                if let Err(e) = desk
                    .mark_receipt(&p, TicketId(ticket_id), None, Some(seq))
                    .await
                {
                    return self.reply_error(None, e.to_body(), false);
                }
            }
        }
        None
    }

    /// Replies to request `req` with a service error; internal causes are
    /// logged here and never leave the process.
    fn reply(&mut self, req: u64, e: Error) -> Option<End> {
        if e.is_internal() {
            tracing::error!(error = %e, "request failed");
        }
        let violation = matches!(
            e.code(),
            ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::ValidationFailed
        );
        self.reply_error(Some(req), e.to_body(), violation)
    }

    async fn reauthenticate(&mut self, token: String) -> Option<End> {
        match self.gw.desk.authenticate_bearer(&token).await {
            Ok(p) if p.user_id() == self.principal.user_id() => {
                self.expires_at = self
                    .gw
                    .desk
                    .verify_access_token(&token)
                    .ok()
                    .map(|c| c.expires_at);
                self.reauth_sent = false;
                self.principal = p;
                self.token = token;
                None
            }
            Ok(_) => Some(End::Close(close_codes::AUTH_FAILED, "auth_failed")),
            Err(e) => {
                let _ = self.out.push(&ServerFrame::error(None, e.to_body()));
                Some(End::Close(close_codes::AUTH_FAILED, "auth_failed"))
            }
        }
    }

    /// Follows a ticket from `after_seq`: live streams first (so nothing
    /// published meanwhile is missed), then the stored gap, then live events
    /// with anything at or below the last written `seq` dropped.
    async fn follow(&mut self, ticket: TicketId, after_seq: i64) -> Result<Option<End>, Error> {
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
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let stop = futures_util::future::FutureExt::shared(stop_rx);
        let tagged = |s: neurochat_core::ports::Subscription| -> Live {
            s.map(move |d| (Source::Ticket(ticket), d))
                .take_until(stop.clone())
                .boxed()
        };
        self.live.push(tagged(public));
        if let Some(s) = staff {
            self.live.push(tagged(s));
        }
        // Re-subscribing replaces the old streams (dropping its stop handle ends them).
        self.followed.insert(
            ticket,
            Followed {
                last_seq: after_seq.max(0),
                _stop: stop_tx,
            },
        );
        Ok(self.catch_up(ticket, i64::MAX).await)
    }

    /// Writes stored messages after the ticket's last written `seq` and below
    /// `below`, in order.
    async fn catch_up(&mut self, ticket: TicketId, below: i64) -> Option<End> {
        // The store serves at most HISTORY_PAGE_MAX per read; a larger page
        // would look like the last one and end the replay early.
        let page = self.gw.config.replay_page.clamp(1, HISTORY_PAGE_MAX);
        let mut replayed = false;
        loop {
            let from = self.followed.get(&ticket).map(|f| f.last_seq)?;
            let batch = match self
                .gw
                .desk
                .list_messages(&self.principal, ticket, HistoryPage::After(from), page)
                .await
            {
                Ok(b) => b,
                Err(e) => return self.reply_error(None, e.to_body(), false),
            };
            let full = batch.len() as u32 >= page;
            for m in batch.iter().filter(|m| m.seq < below) {
                let frame = ServerFrame::Message {
                    message: MessageView::from(m),
                };
                if let Err(e) = self.out.push_paced(&frame, REPLAY_PATIENCE).await {
                    return Some(self.push_failed(e));
                }
                self.slot
                    .stats()
                    .messages_relayed
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(f) = self.followed.get_mut(&ticket) {
                    f.last_seq = m.seq;
                }
                replayed = true;
            }
            if !full || batch.last().is_some_and(|m| m.seq >= below) {
                if replayed && let Err(e) = self.out.wait_headroom(REPLAY_PATIENCE).await {
                    return Some(self.push_failed(e));
                }
                return None;
            }
        }
    }

    async fn on_live(&mut self, source: Source, delivery: Delivery) -> Option<End> {
        let event = match delivery {
            Delivery::Event(e) => e,
            Delivery::Lagged(_) => {
                // Events were dropped: messages are re-read from the store;
                // ticket state arrives with the next change.
                if let Source::Ticket(t) = source {
                    return self.catch_up(t, i64::MAX).await;
                }
                return None;
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
                        return self.send(&ServerFrame::Message {
                            message: (&m).into(),
                        });
                    }
                    return None;
                };
                if m.seq <= f.last_seq {
                    return None;
                }
                if m.seq > f.last_seq + 1
                    && let Some(end) = self.catch_up(m.ticket_id, m.seq).await
                {
                    return Some(end);
                }
                if let Some(f) = self.followed.get_mut(&m.ticket_id) {
                    if m.seq <= f.last_seq {
                        return None;
                    }
                    f.last_seq = m.seq;
                }
                self.slot
                    .stats()
                    .messages_relayed
                    .fetch_add(1, Ordering::Relaxed);
                self.send(&ServerFrame::Message {
                    message: (&m).into(),
                })
            }
            Event::TicketChanged { ticket, change } => {
                let seen = self.seen_versions.get(&ticket.id).copied().unwrap_or(0);
                if ticket.version <= seen && change != neurochat_core::events::TicketChange::Created
                {
                    return None;
                }
                if self.seen_versions.len() >= SEEN_VERSIONS_MAX {
                    self.seen_versions.clear();
                }
                self.seen_versions
                    .insert(ticket.id, ticket.version.max(seen));
                if !self.principal.is_staff() && ticket.customer_id != self.principal.user_id() {
                    return None;
                }
                self.send(&ServerFrame::TicketEvent {
                    ticket: TicketView::from(&ticket),
                    change: change.into(),
                })
            }
            Event::Typing {
                ticket_id,
                user_id,
                active,
            } => {
                if user_id == self.principal.user_id() || !self.followed.contains_key(&ticket_id) {
                    return None;
                }
                self.send(&ServerFrame::Typing {
                    ticket_id: ticket_id.as_uuid(),
                    user_id: user_id.as_uuid(),
                    active,
                })
            }
            Event::Receipt {
                ticket_id,
                user_id,
                delivered_seq,
                read_seq,
            } => self.send(&ServerFrame::Receipt {
                receipt: ReceiptView {
                    ticket_id: ticket_id.as_uuid(),
                    user_id: user_id.as_uuid(),
                    delivered_seq: u64::try_from(delivered_seq).unwrap_or(0),
                    read_seq: u64::try_from(read_seq).unwrap_or(0),
                },
            }),
            Event::AvailabilityChanged {
                user_id,
                availability,
            } => self.send(&ServerFrame::Availability {
                user_id: user_id.as_uuid(),
                availability: availability.into(),
            }),
            Event::Escalated { ticket, reason } => {
                if !self.principal.is_staff() {
                    return None;
                }
                self.send(&ServerFrame::Escalation {
                    ticket_id: ticket.id.as_uuid(),
                    reason: reason.as_str().to_owned(),
                })
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

async fn sleep_until_opt(at: Option<TokioInstant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The first line of a parse error, without echoing client input at length.
fn short(e: &serde_json::Error) -> String {
    let s = e.to_string();
    s.chars().take(120).collect()
}
