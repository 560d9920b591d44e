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
    mut urgent: oneshot::Receiver<(u16, String)>,
) where
    Si: Sink<WsFrame> + Send + Unpin,
{
    // Once the session drops its urgent handle, only the queue is left to drain.
    let mut urgent_open = true;
    loop {
        tokio::select! {
            biased;
            close = &mut urgent, if urgent_open => {
                match close {
                    Ok((code, reason)) => {
                        let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.send(WsFrame::close(code, &reason))).await;
                        break;
                    }
                    Err(_) => urgent_open = false,
                }
            }
            next = rx.recv() => {
                let Some(frame) = next else { break };
                let is_close = matches!(frame, WsFrame::Close(_));
                // Feed without flushing while more is queued: one flush per burst.
                if sink.feed(frame).await.is_err() {
                    break;
                }
                if is_close {
                    let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.flush()).await;
                    break;
                }
                if rx.is_empty() && sink.flush().await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = tokio::time::timeout(CLOSE_WRITE_TIMEOUT, sink.close()).await;
}
