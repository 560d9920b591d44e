//! The per-connection outbound queue and the task that writes it to the
//! socket. The queue is bounded: a client that stops reading fills it and is
//! cut off (`slow_consumer`), so server memory stays bounded.

use std::time::Duration;

use futures_util::{Sink, SinkExt};
use neurochat_protocol::v1::ServerFrame;
use tokio::sync::{mpsc, oneshot};

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

/// The session's handle on its outbound queue.
pub(crate) struct Outbox {
    tx: mpsc::Sender<WsFrame>,
    urgent: Option<oneshot::Sender<(u16, String)>>,
}

impl Outbox {
    /// Starts the writer task over `sink` with a queue of `capacity` frames.
    pub(crate) fn start<Si>(sink: Si, capacity: usize) -> (Outbox, tokio::task::JoinHandle<()>)
    where
        Si: Sink<WsFrame> + Send + Unpin + 'static,
    {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let (urgent_tx, urgent_rx) = oneshot::channel();
        let handle = tokio::spawn(write_loop(sink, rx, urgent_rx));
        (
            Outbox {
                tx,
                urgent: Some(urgent_tx),
            },
            handle,
        )
    }

    /// Frames that can be queued right now without waiting.
    pub(crate) fn free(&self) -> usize {
        self.tx.capacity()
    }

    /// Queues a frame without waiting (live events: a full queue means a slow client).
    pub(crate) fn push(&self, frame: &ServerFrame) -> Result<(), PushError> {
        self.push_raw(WsFrame::Text(encode(frame)))
    }

    /// Queues a raw frame without waiting.
    pub(crate) fn push_raw(&self, frame: WsFrame) -> Result<(), PushError> {
        self.tx.try_send(frame).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => PushError::Full,
            mpsc::error::TrySendError::Closed(_) => PushError::Closed,
        })
    }

    /// Queues a frame, waiting up to `patience` for room (replays, which may
    /// be long, are paced by the socket instead of cut off at once).
    pub(crate) async fn push_paced(
        &self,
        frame: &ServerFrame,
        patience: Duration,
    ) -> Result<(), PushError> {
        match tokio::time::timeout(patience, self.tx.send(WsFrame::Text(encode(frame)))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(PushError::Closed),
            Err(_) => Err(PushError::Full),
        }
    }

    /// Waits (up to `patience`) until at least half the queue is free again.
    /// A replay leaves the queue full while the client is still reading it;
    /// the replies and live events that follow are queued without waiting
    /// and would otherwise take a reading client for a slow one.
    pub(crate) async fn wait_headroom(&self, patience: Duration) -> Result<(), PushError> {
        let half = (self.tx.max_capacity() / 2).max(1);
        match tokio::time::timeout(patience, self.tx.reserve_many(half)).await {
            Ok(Ok(_permits)) => Ok(()),
            Ok(Err(_)) => Err(PushError::Closed),
            Err(_) => Err(PushError::Full),
        }
    }

    /// Closes after everything already queued has been written.
    pub(crate) async fn close_after_flush(&self, code: u16, reason: &str) {
        let _ = tokio::time::timeout(
            CLOSE_WRITE_TIMEOUT,
            self.tx.send(WsFrame::close(code, reason)),
        )
        .await;
    }

    /// Closes now, dropping whatever is queued.
    pub(crate) fn close_now(&mut self, code: u16, reason: &str) {
        if let Some(u) = self.urgent.take() {
            let _ = u.send((code, reason.to_owned()));
        }
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

async fn write_loop<Si>(
    mut sink: Si,
    mut rx: mpsc::Receiver<WsFrame>,
    urgent: oneshot::Receiver<(u16, String)>,
) where
    Si: Sink<WsFrame> + Send + Unpin,
{
    // What cuts the queue short, even in the middle of a write the peer does
    // not drain (a full socket): an urgent close, or — once the session has
    // ended and dropped its handle — the drain deadline. Otherwise a client
    // that stops reading would keep this task, and the session waiting for
    // it, alive for as long as it keeps its socket open.
    let cut = async {
        match urgent.await {
            Ok(close) => Some(close),
            Err(_) => {
                tokio::time::sleep(DRAIN_TIMEOUT).await;
                None
            }
        }
    };
    let close = tokio::select! {
        biased;
        close = cut => close,
        () = drain(&mut sink, &mut rx) => None,
    };
    if let Some((code, reason)) = close {
        let _ = tokio::time::timeout(
            CLOSE_WRITE_TIMEOUT,
            sink.send(WsFrame::close(code, &reason)),
        )
        .await;
    }
    let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.close()).await;
}

/// Writes queued frames until the queue ends, a close frame is written or the
/// socket fails.
async fn drain<Si>(sink: &mut Si, rx: &mut mpsc::Receiver<WsFrame>)
where
    Si: Sink<WsFrame> + Send + Unpin,
{
    while let Some(frame) = rx.recv().await {
        let is_close = matches!(frame, WsFrame::Close(_));
        // Feed without flushing while more is queued: one flush per burst.
        if sink.feed(frame).await.is_err() {
            return;
        }
        if is_close {
            let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.flush()).await;
            return;
        }
        if rx.is_empty() && sink.flush().await.is_err() {
            return;
        }
    }
}
