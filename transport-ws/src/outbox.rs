//! The per-connection outbound queue and the task that writes it to the
//! socket. The queue is bounded: a client that stops reading fills it and is
//! cut off (`slow_consumer`), so server memory stays bounded.
//!
//! The queue is a `VecDeque` behind a mutex rather than a tokio `mpsc`
//! channel: the channel allocates a block of 32 slots and a cache-padded
//! header up front (~1.8 KiB), which every idle connection would carry. This
//! queue allocates only while frames wait and frees its buffer once drained.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{Sink, SinkExt};
use neurochat_protocol::v1::ServerFrame;
use tokio::sync::Notify;

use crate::frame::WsFrame;

/// How long a close frame may take to write before the socket is dropped.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long what is still queued may take to write once the session ended.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue is full: the client reads too slowly.
    Full,
    /// The writer is gone (socket closed).
    Closed,
}

/// What the session and its writer share.
struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// Wakes the writer: a frame was queued, or the session ended.
    queued: Notify,
    /// Wakes the writer's cut-off: an urgent close, or the session ended.
    control: Notify,
    /// Wakes the session: room was freed, or the writer ended.
    room: Notify,
}

#[derive(Default)]
struct State {
    queue: VecDeque<WsFrame>,
    /// Set by [`Outbox::close_now`]: write this close instead of the queue.
    urgent: Option<(u16, &'static str)>,
    /// The session dropped its [`Outbox`]: nothing more will be queued.
    session_gone: bool,
    /// The writer ended: nothing more will be written.
    writer_gone: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `need` frames fit, or the writer is gone.
    async fn room_for(&self, need: usize) -> Result<(), PushError> {
        loop {
            {
                let st = self.lock();
                if st.writer_gone {
                    return Err(PushError::Closed);
                }
                if self.capacity - st.queue.len() >= need {
                    return Ok(());
                }
            }
            // `notify_one` keeps a permit when nobody waits yet, so room
            // freed between the check and this await is not missed.
            self.room.notified().await;
        }
    }
}

/// The session's handle on its outbound queue. Dropping it ends the queue:
/// the writer writes what is left (within the drain timeout) and closes.
pub(crate) struct Outbox {
    shared: Arc<Shared>,
}

impl Outbox {
    /// Starts the writer task over `sink` with a queue of `capacity` frames.
    pub(crate) fn start<Si>(sink: Si, capacity: usize) -> (Outbox, tokio::task::JoinHandle<()>)
    where
        Si: Sink<WsFrame> + Send + Unpin + 'static,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
            queued: Notify::new(),
            control: Notify::new(),
            room: Notify::new(),
        });
        let handle = tokio::spawn(write_loop(sink, WriterEnd(shared.clone())));
        (Outbox { shared }, handle)
    }

    /// Frames that can be queued right now without waiting.
    pub(crate) fn free(&self) -> usize {
        self.shared.capacity - self.shared.lock().queue.len()
    }

    /// Queues a frame without waiting (live events: a full queue means a slow client).
    pub(crate) fn push(&self, frame: &ServerFrame) -> Result<(), PushError> {
        self.push_raw(WsFrame::Text(encode(frame)))
    }

    /// Queues a raw frame without waiting.
    pub(crate) fn push_raw(&self, frame: WsFrame) -> Result<(), PushError> {
        {
            let mut st = self.shared.lock();
            if st.writer_gone {
                return Err(PushError::Closed);
            }
            if st.queue.len() >= self.shared.capacity {
                return Err(PushError::Full);
            }
            st.queue.push_back(frame);
        }
        self.shared.queued.notify_one();
        Ok(())
    }

    /// Queues a frame, waiting up to `patience` for room (replays, which may
    /// be long, are paced by the socket instead of cut off at once).
    pub(crate) async fn push_paced(
        &self,
        frame: &ServerFrame,
        patience: Duration,
    ) -> Result<(), PushError> {
        self.push_waiting(WsFrame::Text(encode(frame)), patience)
            .await
    }

    /// Queues a frame once there is room, waiting up to `patience`. Only the
    /// session queues, so room found stays free until the push.
    async fn push_waiting(&self, frame: WsFrame, patience: Duration) -> Result<(), PushError> {
        match tokio::time::timeout(patience, self.shared.room_for(1)).await {
            Ok(Ok(())) => self.push_raw(frame),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(PushError::Full),
        }
    }

    /// Waits (up to `patience`) until `need` frames (at most the whole
    /// queue) can be queued: a replay page is written only when it fits
    /// with room to spare, so the session never waits mid-page.
    pub(crate) async fn room(&self, need: usize, patience: Duration) -> Result<(), PushError> {
        let need = need.min(self.shared.capacity);
        match tokio::time::timeout(patience, self.shared.room_for(need)).await {
            Ok(result) => result,
            Err(_) => Err(PushError::Full),
        }
    }

    /// The queue's capacity in frames.
    pub(crate) fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Waits (up to `patience`) until at least half the queue is free again.
    /// A replay leaves the queue full while the client is still reading it;
    /// the replies and live events that follow are queued without waiting
    /// and would otherwise take a reading client for a slow one.
    pub(crate) async fn wait_headroom(&self, patience: Duration) -> Result<(), PushError> {
        self.room((self.shared.capacity / 2).max(1), patience).await
    }

    /// Closes after everything already queued has been written.
    pub(crate) async fn close_after_flush(&self, code: u16, reason: &str) {
        let _ = self
            .push_waiting(WsFrame::close(code, reason), CLOSE_WRITE_TIMEOUT)
            .await;
    }

    /// Closes now, dropping whatever is queued.
    pub(crate) fn close_now(&mut self, code: u16, reason: &'static str) {
        {
            let mut st = self.shared.lock();
            if st.urgent.is_some() {
                return;
            }
            st.urgent = Some((code, reason));
        }
        self.shared.control.notify_one();
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shared.lock().session_gone = true;
        self.shared.queued.notify_one();
        self.shared.control.notify_one();
    }
}

/// The writer's handle on the queue; dropping it (the writer ended, however)
/// refuses further frames and frees what is still queued.
struct WriterEnd(Arc<Shared>);

impl Drop for WriterEnd {
    fn drop(&mut self) {
        let queue = {
            let mut st = self.0.lock();
            st.writer_gone = true;
            std::mem::take(&mut st.queue)
        };
        drop(queue);
        self.0.room.notify_one();
    }
}

/// Serialises a server frame. Server frames are plain data: serialising
/// cannot fail, but a failure would become an `internal` error frame rather
/// than a panic.
pub(crate) fn encode(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","error":{"code":"internal","message":"Internal error."}}"#.to_owned()
    })
}

/// The writer task. Not an `async fn`: an async fn keeps a second copy of
/// its arguments for its whole life, an async block does not; that is room
/// every idle connection would carry.
#[allow(clippy::manual_async_fn)]
fn write_loop<Si>(mut sink: Si, end: WriterEnd) -> impl Future<Output = ()>
where
    Si: Sink<WsFrame> + Send + Unpin,
{
    async move {
        let shared = &*end.0;
        // What cuts the queue short, even in the middle of a write the peer does
        // not drain (a full socket): an urgent close, or — once the session has
        // ended and dropped its handle — the drain deadline. Otherwise a client
        // that stops reading would keep this task, and the session waiting for
        // it, alive for as long as it keeps its socket open.
        let cut = async {
            loop {
                {
                    let mut st = shared.lock();
                    if let Some(close) = st.urgent.take() {
                        return Some(close);
                    }
                    if st.session_gone {
                        break;
                    }
                }
                shared.control.notified().await;
            }
            // Boxed: needed once, at the end; inline it would be room every
            // waiting writer carries.
            Box::pin(tokio::time::sleep(DRAIN_TIMEOUT)).await;
            None
        };
        let ended = tokio::select! {
            biased;
            close = cut => close.map_or(Drained::Ended, |(code, reason)| Drained::Urgent(code, reason)),
            ended = drain(&mut sink, shared) => ended,
        };
        // The closing writes have their own deadlines, and are outside the
        // select so their timers do not add to a waiting writer's size.
        match ended {
            Drained::Urgent(code, reason) => {
                let _ = tokio::time::timeout(
                    CLOSE_WRITE_TIMEOUT,
                    sink.send(WsFrame::close(code, reason)),
                )
                .await;
            }
            Drained::CloseFed => {
                let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.flush()).await;
            }
            Drained::Ended => {}
        }
        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.close()).await;
    }
}

/// How the writing of the queue ended.
enum Drained {
    /// The queue ended, the drain deadline passed, or the socket failed.
    Ended,
    /// A queued close frame was fed to the socket; it still needs a flush.
    CloseFed,
    /// An urgent close cut the queue short: write this close frame.
    Urgent(u16, &'static str),
}

/// Writes queued frames until the queue ends, a close frame is fed or the
/// socket fails. (Not an `async fn`, for the reason given at `write_loop`.)
#[allow(clippy::manual_async_fn)]
fn drain<'a, Si>(sink: &'a mut Si, shared: &'a Shared) -> impl Future<Output = Drained> + 'a
where
    Si: Sink<WsFrame> + Send + Unpin,
{
    async move {
        loop {
            let next = {
                let mut st = shared.lock();
                let next = st.queue.pop_front();
                if next.is_none() && st.session_gone {
                    return Drained::Ended;
                }
                if st.queue.is_empty() {
                    // Drained: give the buffer back, so an idle connection
                    // holds none.
                    st.queue = VecDeque::new();
                }
                next
            };
            let Some(frame) = next else {
                shared.queued.notified().await;
                continue;
            };
            shared.room.notify_one();
            let is_close = matches!(frame, WsFrame::Close(_));
            // Feed without flushing while more is queued: one flush per burst.
            if sink.feed(frame).await.is_err() {
                return Drained::Ended;
            }
            if is_close {
                return Drained::CloseFed;
            }
            let mut burst_over = shared.lock().queue.is_empty();
            if burst_over {
                // Let the tasks that are ready run first: under load they
                // queue more for this socket, and one write then carries it
                // all (a send per frame was most of a busy server's time).
                // With nothing else to run this returns at once.
                tokio::task::yield_now().await;
                burst_over = shared.lock().queue.is_empty();
            }
            if burst_over && sink.flush().await.is_err() {
                return Drained::Ended;
            }
        }
    }
}
