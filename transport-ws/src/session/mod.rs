//! One client connection: authentication, subscriptions with resume,
//! requests, live events, heartbeats, re-authentication and limits.
//!
//! [`run`] is generic over a `Sink`/`Stream` of [`WsFrame`]s, so the same code
//! serves tokio-tungstenite ([`crate::serve`]), axum's WebSocket upgrade, and
//! tests that drive it through channels.

mod live;
mod requests;

use std::collections::{HashMap, VecDeque};
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::{Either, OptionFuture};
use futures_util::stream::{SelectAll, Stream, StreamExt};
use futures_util::{FutureExt as _, Sink};
use neurochat_core::domain::TicketId;
use neurochat_core::events::Topic;
use neurochat_core::ports::Delivery;
use neurochat_core::{Principal, RequestContext};
use neurochat_protocol::v1::{ClientFrame, ErrorBody, ErrorCode, Limits, ServerFrame, close_codes};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant as TokioInstant;

use crate::frame::WsFrame;
use crate::gateway::{ConnectionSlot, Gateway};
use crate::outbox::{Outbox, PushError};
use crate::ratelimit::TokenBucket;

/// How long a replay may wait for room in the outbound queue.
const REPLAY_PATIENCE: Duration = Duration::from_secs(10);
/// Pipelined `send`s (or `create_ticket`s) stored together: one group
/// commit per connection turn.
const PIPELINE_MAX: usize = 64;
/// Live events handled in one turn once one woke the session.
const LIVE_DRAIN: usize = 32;

/// Requests a connection may pipeline: consecutive ones of a kind are
/// stored together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batchable {
    Send,
    CreateTicket,
}
/// Tickets whose last written version a connection remembers, to drop
/// duplicate ticket events; the longest-known is forgotten first. Room for
/// a whole inbox resynchronisation plus the bus's buffer.
const SEEN_VERSIONS_MAX: usize = 32_768;
/// How far before the inbox mark a resynchronisation starts reading: a
/// ticket's `updated_at` is taken before its commit and its event published
/// after it, so events can reach the topic slightly out of `updated_at`
/// order. Tickets re-read twice cost a version check, not a frame.
const INBOX_RESYNC_MARGIN: time::Duration = time::Duration::seconds(1);
/// The most tickets one inbox resynchronisation re-reads (a guard against a
/// runaway, far above what a connection can miss in a burst: past it, the
/// oldest changes are not re-sent and a warning is logged).
const INBOX_RESYNC_MAX: usize = 100_000;

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

/// Per-ticket state only some connections ever need (typing throttles,
/// ticket-event versions): boxed on first use, so an idle connection holds a
/// pointer rather than two empty maps.
#[derive(Default)]
struct Rarely {
    typing_sent: HashMap<TicketId, Instant>,
    seen_versions: SeenVersions,
    /// Inbox subscribers: the latest `updated_at` of a ticket event written
    /// from the inbox topic, or when the inbox was subscribed; a
    /// resynchronisation after a lag re-reads tickets changed since (less
    /// [`INBOX_RESYNC_MARGIN`]).
    inbox_mark: Option<OffsetDateTime>,
    /// Followed tickets whose missed messages are being re-read from the
    /// store, a page per turn, in turn.
    behind: VecDeque<TicketId>,
}

/// The last ticket version written per ticket, for at most
/// [`SEEN_VERSIONS_MAX`] tickets (first seen, first forgotten).
#[derive(Default)]
struct SeenVersions {
    versions: HashMap<TicketId, i64>,
    order: VecDeque<TicketId>,
}

impl SeenVersions {
    /// Records `version` of `ticket` unless a version at least as new was
    /// already written.
    fn record(&mut self, ticket: TicketId, version: i64) -> Seen {
        if let Some(seen) = self.versions.get_mut(&ticket) {
            if version <= *seen {
                return Seen::Already;
            }
            *seen = version;
            return Seen::Newer;
        }
        if self.order.len() >= SEEN_VERSIONS_MAX
            && let Some(oldest) = self.order.pop_front()
        {
            self.versions.remove(&oldest);
        }
        self.order.push_back(ticket);
        self.versions.insert(ticket, version);
        Seen::First
    }
}

/// What [`SeenVersions::record`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// The ticket is new to the connection (or long forgotten).
    First,
    /// An older version of it was written.
    Newer,
    /// This version or a newer one was written: drop the event.
    Already,
}

impl Seen {
    fn is_new(self) -> bool {
        self != Seen::Already
    }
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
    rarely: Option<Box<Rarely>>,
    violations: u32,
    slot: ConnectionSlot,
}

/// Runs one connection to its end. Never panics on client input; every
/// failure becomes an `error` frame or a documented close code.
// Not an `async fn`: an async fn keeps a second copy of its arguments for
// its whole life, an async block does not; that is room every idle
// connection would carry.
#[allow(clippy::manual_async_fn)]
pub fn run<Si, St, E>(
    gateway: Arc<Gateway>,
    sink: Si,
    mut stream: St,
    peer: PeerInfo,
) -> impl Future<Output = ()>
where
    Si: Sink<WsFrame> + Send + Unpin + 'static,
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: Display,
{
    async move {
        let (mut out, writer) = Outbox::start(sink, gateway.config.outbound_queue);
        let Some(slot) = gateway.open_connection() else {
            out.close_now(close_codes::TOO_MANY_CONNECTIONS, "server_full");
            drop(out);
            let _ = writer.await;
            return;
        };
        // Boxed: opening awaits the desk and the store, a state several
        // times that of a serving session, which every idle connection
        // would otherwise carry for life; so would closing, for its timers.
        // The session is boxed too: a value moved between async fns keeps a
        // copy in each of them.
        let closing = match Box::pin(open(gateway, &mut stream, out, slot, peer)).await {
            Ok(mut s) => {
                let end = s.serve(&mut stream).await;
                let Session { out, slot, .. } = *s;
                Closing { out, slot, end }
            }
            Err(closing) => *closing,
        };
        Box::pin(finish(closing, writer)).await;
    }
}

/// Opens the session: authenticates (the first frame, within the deadline),
/// binds the slot to the user, says `hello` and follows the user's own
/// channel. On failure, hands back what closing needs.
async fn open<St, E>(
    gateway: Arc<Gateway>,
    stream: &mut St,
    out: Outbox,
    mut slot: ConnectionSlot,
    peer: PeerInfo,
) -> Result<Box<Session>, Box<Closing>>
where
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: Display,
{
    let (principal, token) = match authenticate(&gateway, stream, &out).await {
        Ok(ok) => ok,
        Err(end) => return Err(Box::new(Closing { out, slot, end })),
    };
    if !slot.bind(&principal).await {
        let end = End::Close(close_codes::TOO_MANY_CONNECTIONS, "too_many_connections");
        return Err(Box::new(Closing { out, slot, end }));
    }
    let cfg = &gateway.config;
    let desk = &gateway.desk;
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
        return Err(Box::new(Closing {
            out,
            slot,
            end: End::Gone,
        }));
    }
    // The user's own channel: revocations, assignments, notifications.
    let user = desk
        .subscribe(&principal, Topic::User(principal.user_id()))
        .await;
    let mut s = Box::new(Session {
        bucket: TokenBucket::new(cfg.frames_per_second, cfg.frame_burst),
        gw: gateway.clone(),
        out,
        principal,
        token,
        ctx: RequestContext {
            source_ip: peer.source_ip,
        },
        expires_at,
        reauth_sent: false,
        followed: HashMap::new(),
        inbox: false,
        live: SelectAll::new(),
        rarely: None,
        violations: 0,
        slot,
    });
    if let Ok(sub) = user {
        s.live.push(sub.map(|d| (Source::User, d)).boxed());
    }
    Ok(s)
}

/// A session that ends: its queue, its counted slot, and why.
struct Closing {
    out: Outbox,
    slot: ConnectionSlot,
    end: End,
}

async fn finish(closing: Closing, writer: tokio::task::JoinHandle<()>) {
    let Closing { mut out, slot, end } = closing;
    match end {
        End::Close(code, reason) => out.close_after_flush(code, reason).await,
        End::CloseNow(code, reason) => out.close_now(code, reason),
        End::Gone => {}
    }
    drop(out);
    let _ = writer.await;
    // The connection counts until its last frame is written.
    drop(slot);
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
    /// Serves until something ends the session.
    // Not an `async fn`, for the reason given at `run`.
    #[allow(clippy::manual_async_fn)]
    fn serve<'a, St, E>(&'a mut self, stream: &'a mut St) -> impl Future<Output = End> + 'a
    where
        St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
        E: Display,
    {
        async move {
            let mut shutdown = self.gw.shutdown_signal();
            let start = TokioInstant::now();
            let mut idle_at = start + self.gw.config.idle_timeout;
            let mut ping_at = start + self.gw.config.ping_interval;
            // One timer for the idle timeout, the token deadline and the next
            // ping: a timer is ~100 bytes that every idle connection carries.
            let timer = tokio::time::sleep_until(idle_at.min(ping_at));
            tokio::pin!(timer);
            loop {
                let token_at = self.token_deadline();
                let replay_room = if self.replaying() {
                    self.replay_room()
                } else {
                    0
                };
                {
                    let wake_at = token_at.map_or(idle_at, |t| t.min(idle_at)).min(ping_at);
                    if timer.deadline() != wake_at {
                        timer.as_mut().reset(wake_at);
                    }
                }
                // Handling a frame or an event awaits the desk and the store, a
                // state many times that of a waiting session, which every idle
                // connection would otherwise carry: the select only starts it,
                // boxed, and it runs after the select is gone.
                let handling = tokio::select! {
                    biased;
                    _ = shutdown.changed() => return End::Close(close_codes::GOING_AWAY, "going_away"),
                    () = &mut timer => {
                        let now = TokioInstant::now();
                        if now >= idle_at {
                            return End::Gone;
                        }
                        if token_at.is_some_and(|t| now >= t)
                            && let Some(end) = self.on_token_deadline()
                        {
                            return end;
                        }
                        if now >= ping_at {
                            ping_at = now + self.gw.config.ping_interval;
                            if let Err(e) = self.out.push_raw(WsFrame::Ping(Vec::new())) {
                                return self.push_failed(e);
                            }
                        }
                        continue;
                    }
                    frame = stream.next() => match frame {
                        None | Some(Err(_)) => return End::Gone,
                        Some(Ok(frame)) => {
                            idle_at = TokioInstant::now() + self.gw.config.idle_timeout;
                            Either::Left(Box::pin(self.on_frames(frame, stream)))
                        }
                    },
                    // Before live events, which a busy ticket could keep
                    // ready for ever; a replay turn handles those waiting.
                    // Boxed, and only while replaying: every idle
                    // connection's select would carry its state otherwise.
                    Some(turn) = OptionFuture::from((replay_room > 0).then(|| {
                        Box::pin(replay_turn_ready(&self.out, replay_room, &self.gw.replays))
                    })), if replay_room > 0 => match turn {
                        Ok(turn) => Either::Right(Either::Left(Box::pin(self.replay_turn(turn)))),
                        Err(e) => return self.push_failed(e),
                    },
                    item = self.live.next(), if !self.live.is_empty() => match item {
                        Some((source, delivery)) => Either::Right(Either::Right(Box::pin(self.on_live_burst(source, delivery)))),
                        None => continue,
                    },
                };
                if let Some(end) = handling.await {
                    return end;
                }
            }
        }
    }

    /// Handles a live event and then the ones already waiting (up to
    /// [`LIVE_DRAIN`]) in the same turn: a busy agent's inbox delivers
    /// hundreds a second, and a trip round the select per event (its timer
    /// re-armed, every branch polled) is what let the inbox fall behind.
    async fn on_live_burst(&mut self, source: Source, delivery: Delivery) -> Option<End> {
        if let Some(end) = self.on_live(source, delivery).await {
            return Some(end);
        }
        self.drain_live().await
    }

    /// Handles the live events already waiting, up to [`LIVE_DRAIN`].
    async fn drain_live(&mut self) -> Option<End> {
        for _ in 0..LIVE_DRAIN {
            let Some(Some((source, delivery))) = self.live.next().now_or_never() else {
                break;
            };
            if let Some(end) = self.on_live(source, delivery).await {
                return Some(end);
            }
        }
        None
    }

    fn rarely(&mut self) -> &mut Rarely {
        self.rarely.get_or_insert_with(Box::default)
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

    /// Queues a live event. A full queue is given `slow_consumer_grace` to
    /// drain before the client counts as slow: one batch of pipelined sends
    /// publishes many events at once, more than a reading client's queue
    /// may have room for in that instant.
    async fn send_live(&mut self, frame: &ServerFrame) -> Option<End> {
        match self.out.push(frame) {
            Ok(()) => None,
            Err(PushError::Full) => self
                .out
                .push_paced(frame, self.gw.config.slow_consumer_grace)
                .await
                .err()
                .map(|e| self.push_failed(e)),
            Err(e) => Some(self.push_failed(e)),
        }
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

    /// Handles `first` and, when it is a `send`, every further `send` the
    /// client has already pipelined behind it (up to [`PIPELINE_MAX`]): they
    /// are stored together and acknowledged in order. The first frame that is
    /// not such a `send` is handled after them, so replies keep the client's
    /// order.
    async fn on_frames<St, E>(&mut self, first: WsFrame, stream: &mut St) -> Option<End>
    where
        St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
        E: Display,
    {
        // Every request's reply is queued without waiting. A reading client's
        // queue can be full at this instant — a batch of sends elsewhere
        // publishes many live events at once, which fill it before its
        // socket writer runs — so the request waits for room as those events
        // did, and only a queue that stays full marks a slow client.
        if self.out.free() == 0
            && let Err(e) = self
                .out
                .wait_headroom(self.gw.config.slow_consumer_grace)
                .await
        {
            return Some(self.push_failed(e));
        }
        let Some((kind, request)) = self.take_batchable(&first, None) else {
            return self.on_frame(first).await;
        };
        let mut batch = vec![request];
        let mut after = None;
        let mut gone = false;
        // Every request gets its reply queued at once: take no more than fit.
        let most = PIPELINE_MAX.min(self.out.free()).max(1);
        while batch.len() < most {
            let Some(next) = stream.next().now_or_never() else {
                break;
            };
            let Some(Ok(frame)) = next else {
                gone = true;
                break;
            };
            match self.take_batchable(&frame, Some(kind)) {
                Some((_, request)) => batch.push(request),
                None => {
                    after = Some(frame);
                    break;
                }
            }
        }
        let end = match kind {
            Batchable::Send => self.on_sends(batch).await,
            Batchable::CreateTicket => self.on_creates(batch).await,
        };
        if let Some(end) = end {
            return Some(end);
        }
        if gone {
            return Some(End::Gone);
        }
        match after {
            Some(frame) => self.on_frame(frame).await,
            None => None,
        }
    }

    /// The frame as a well-formed `send` or `create_ticket` (of `kind`, if
    /// given) within the rate limit, or `None` (handled one at a time by
    /// [`Self::on_frame`], which answers it).
    fn take_batchable(
        &mut self,
        frame: &WsFrame,
        kind: Option<Batchable>,
    ) -> Option<(Batchable, ClientFrame)> {
        let WsFrame::Text(text) = frame else {
            return None;
        };
        let tag = match kind {
            Some(Batchable::Send) => "\"send\"",
            Some(Batchable::CreateTicket) => "\"create_ticket\"",
            None if text.contains("\"send\"") => "\"send\"",
            None => "\"create_ticket\"",
        };
        if text.len() > self.gw.config.max_frame_bytes || !text.contains(tag) {
            return None;
        }
        let parsed: ClientFrame = serde_json::from_str(text).ok()?;
        let found = match parsed {
            ClientFrame::Send { .. } => Batchable::Send,
            ClientFrame::CreateTicket { .. } => Batchable::CreateTicket,
            _ => return None,
        };
        if kind.is_some_and(|k| k != found) || !self.bucket.try_take() {
            return None;
        }
        Some((found, parsed))
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
}

/// The first line of a parse error, without echoing client input at length.
/// Resolves when a replay page may be written: `room` frames free in the
/// outbound queue (waiting up to [`REPLAY_PATIENCE`]), then one of the
/// gateway's replay turns, held while the page is written.
async fn replay_turn_ready(
    out: &Outbox,
    room: usize,
    turns: &Arc<Semaphore>,
) -> Result<OwnedSemaphorePermit, PushError> {
    out.room(room, REPLAY_PATIENCE).await?;
    // The gateway never closes the semaphore.
    turns
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PushError::Closed)
}

fn short(e: &serde_json::Error) -> String {
    let s = e.to_string();
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_versions_drop_old_versions_and_forget_the_longest_known_first() {
        let t = |n: u128| TicketId(uuid::Uuid::from_u128(n));
        let mut seen = SeenVersions::default();
        assert_eq!(seen.record(t(1), 1), Seen::First);
        assert_eq!(seen.record(t(1), 1), Seen::Already, "same version again");
        assert_eq!(seen.record(t(1), 3), Seen::Newer);
        assert_eq!(seen.record(t(1), 2), Seen::Already, "an older version");
        for n in 2..=SEEN_VERSIONS_MAX as u128 {
            assert_eq!(seen.record(t(n), 1), Seen::First);
        }
        // Full: the next new ticket pushes out the first one seen (t(1)),
        // never one of the recent ones.
        assert_eq!(seen.record(t(0), 1), Seen::First);
        assert_eq!(seen.record(t(SEEN_VERSIONS_MAX as u128), 1), Seen::Already);
        assert_eq!(seen.record(t(1), 3), Seen::First, "t(1) was forgotten");
        assert_eq!(seen.versions.len(), SEEN_VERSIONS_MAX);
        assert_eq!(seen.order.len(), SEEN_VERSIONS_MAX);
    }
}
