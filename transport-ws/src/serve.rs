//! A standalone WebSocket server on tokio-tungstenite.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::config::GatewayConfig;
use crate::frame::tungstenite::{from_message, to_message};
use crate::gateway::Gateway;
use crate::session::{self, PeerInfo};

/// Bytes of written frames past which a connection's WebSocket writes to
/// the socket without waiting for a flush (tungstenite's
/// `write_buffer_size`; see `socket_config`). An embedder that upgrades
/// connections itself (as `neurochat-http` does) should use the same.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// How long sessions get to flush and close after shutdown.
const DRAIN: Duration = Duration::from_secs(5);

/// Socket buffers sized for many mostly idle connections (tungstenite's
/// defaults are 128 KiB each way).
///
/// Written frames collect in the write buffer until it holds
/// [`WRITE_BUFFER_BYTES`] or the session's writer flushes at the end of a
/// burst (`outbox.rs`), so a burst costs one `send`: with 0 (every frame
/// written at once) a saturated server spent most of its time in loopback
/// `send`s, and relayed 31,600 msgs/s instead of 52,000. The buffer only
/// grows while a burst is written, so idle connections cost the same.
pub(crate) fn socket_config(max_frame_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(256 * 1024)
        // The session answers oversized frames with `frame_too_large`; the
        // library's own limit is only a backstop against huge allocations.
        .max_message_size(Some(max_frame_bytes * 4))
        .max_frame_size(Some(max_frame_bytes * 4))
}

/// Accepts WebSocket connections on `listener` until `shutdown` completes,
/// then asks every session to close with `going_away` and waits (up to 5 s)
/// for them to flush. Connections whose `Origin` is not allowed are refused
/// during the handshake with 403.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut sessions = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off a little.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                sessions.spawn(connection(gateway.clone(), tcp));
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    gateway.shutdown();
    let _ = tokio::time::timeout(DRAIN, async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    sessions.abort_all();
}

/// One connection's task. Not an `async fn`: an async fn keeps a second
/// copy of its arguments for its whole life, an async block does not. The
/// peer's address is read from the socket here rather than passed in, for
/// the same reason: what the task is spawned with it carries for life.
#[allow(clippy::manual_async_fn)]
fn connection(gateway: Arc<Gateway>, tcp: TcpStream) -> impl Future<Output = ()> {
    async move {
        let _ = tcp.set_nodelay(true);
        let peer = PeerInfo {
            source_ip: tcp.peer_addr().ok().map(|a| a.ip().to_string()),
        };
        // Boxed: the handshake's state is as large as an idle session's and
        // is needed only briefly; inline, every connection would carry it.
        let Some(ws) = Box::pin(handshake(gateway.config(), tcp)).await else {
            return;
        };
        let (sink, stream) = ws.split();
        let sink = sink.with(|f| {
            futures_util::future::ok::<_, tokio_tungstenite::tungstenite::Error>(to_message(f))
        });
        let stream =
            stream.filter_map(|m| futures_util::future::ready(m.map(from_message).transpose()));
        session::run(gateway, Box::pin(sink), Box::pin(stream), peer).await;
    }
}

/// The WebSocket handshake with the `Origin` check, within the auth timeout.
async fn handshake(cfg: &GatewayConfig, tcp: TcpStream) -> Option<WebSocketStream<TcpStream>> {
    // The callback's signature is tungstenite's; its error type is what it is.
    #[allow(clippy::result_large_err)]
    let check_origin = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let origin = req.headers().get("origin").and_then(|v| v.to_str().ok());
        if cfg.origin_allowed(origin) {
            Ok(resp)
        } else {
            let mut refused = ErrorResponse::new(Some("origin not allowed".to_owned()));
            *refused.status_mut() = StatusCode::FORBIDDEN;
            Err(refused)
        }
    };
    match tokio::time::timeout(
        cfg.auth_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(
            tcp,
            check_origin,
            Some(socket_config(cfg.max_frame_bytes)),
        ),
    )
    .await
    {
        Ok(Ok(ws)) => Some(ws),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "handshake refused");
            None
        }
        Err(_) => None,
    }
}
