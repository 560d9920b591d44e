//! `GET /ws`: the WebSocket upgrade to the real-time gateway. The session
//! itself is `neurochat_transport_ws::session::run`, the same code the
//! standalone tungstenite server runs; this file only adapts axum's socket
//! types to its library-neutral `WsFrame`s and applies the `Origin`
//! allow-list and socket limits that server applies.

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_protocol::v1::ErrorCode;
use neurochat_transport_ws::{PeerInfo, WsFrame, session};

use crate::error::{ApiError, Problem};
use crate::extract::ClientIp;
use crate::state::AppState;

/// Opens a real-time connection (WebSocket protocol v1: the first frame must
/// be `auth` with an access or visitor token; see PROTOCOL.md).
#[utoipa::path(
    get, path = "/ws", tag = "realtime",
    responses(
        (status = 101, description = "Switching protocols: the WebSocket protocol v1 session starts."),
        (status = 400, description = "`malformed_request`: not a WebSocket upgrade request.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the browser `Origin` is not allowed.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let gateway = state.0.gateway.clone();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !gateway.config().origin_allowed(origin) {
        return ApiError::new(ErrorCode::Forbidden, "This origin may not connect.").into_response();
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => {
            return ApiError::new(
                ErrorCode::MalformedRequest,
                "Expected a WebSocket upgrade request.",
            )
            .with_status(rejection.status())
            .into_response();
        }
    };
    let max = gateway.config().max_frame_bytes;
    let peer = PeerInfo {
        source_ip: ip.0.map(|ip| ip.to_string()),
    };
    // Same socket sizing as the standalone server: small buffers for many
    // mostly idle connections, written frames collected until the session
    // flushes at the end of a burst (one `send` per burst); the session
    // answers frames above `max_frame_bytes` itself, the library limit is
    // only a backstop.
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(neurochat_transport_ws::WRITE_BUFFER_BYTES)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(max * 4)
        .max_frame_size(max * 4)
        .on_upgrade(move |socket| connection(gateway, socket, peer))
}

async fn connection(
    gateway: std::sync::Arc<neurochat_transport_ws::Gateway>,
    socket: WebSocket,
    peer: PeerInfo,
) {
    let (sink, stream) = socket.split();
    let sink = sink.with(|f| futures_util::future::ok::<_, axum::Error>(to_message(f)));
    let stream = stream.map(|m| m.map(from_message));
    session::run(gateway, Box::pin(sink), Box::pin(stream), peer).await;
}

fn from_message(m: Message) -> WsFrame {
    match m {
        Message::Text(t) => WsFrame::Text(t.as_str().to_owned()),
        Message::Binary(b) => WsFrame::Binary(b.to_vec()),
        Message::Ping(b) => WsFrame::Ping(b.to_vec()),
        Message::Pong(b) => WsFrame::Pong(b.to_vec()),
        Message::Close(c) => WsFrame::Close(c.map(|c| (c.code, c.reason.as_str().to_owned()))),
    }
}

fn to_message(f: WsFrame) -> Message {
    match f {
        WsFrame::Text(t) => Message::Text(t.into()),
        WsFrame::Binary(b) => Message::Binary(b.into()),
        WsFrame::Ping(b) => Message::Ping(b.into()),
        WsFrame::Pong(b) => Message::Pong(b.into()),
        WsFrame::Close(c) => Message::Close(c.map(|(code, reason)| CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}
