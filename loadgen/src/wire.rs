//! Client side of the protocol: connecting, authenticating, requests, and
//! quick (substring) reading of server frames on the hot path.

use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_protocol::v1::{ClientFrame, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A client connection.
pub type Ws = WebSocketStream<TcpStream>;

/// TCP connect + WebSocket handshake + `auth` → `hello`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A request's `ack`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Socket buffers: small for the thousands of idle connections, larger for
/// the busy ones. Not much larger: tungstenite zero-fills the whole read
/// buffer for every read from the socket, and with 64 KiB that zeroing was
/// most of the load generator's time (and after an idle pause, page faults
/// that held the first reads of a phase back for tens of milliseconds).
pub fn ws_config(busy: bool) -> WebSocketConfig {
    let base = WebSocketConfig::default();
    if busy {
        base.read_buffer_size(8 * 1024)
    } else {
        base.read_buffer_size(4 * 1024).write_buffer_size(0)
    }
}

/// Connects to the gateway on `127.0.0.1:port` and authenticates with `token`.
pub async fn connect(port: u16, token: &str, busy: bool) -> Result<Ws> {
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .context("TCP connect")?;
        tcp.set_nodelay(true)?;
        let url = format!("ws://127.0.0.1:{port}/");
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config(busy)))
                .await
                .context("WebSocket handshake")?;
        let auth = ClientFrame::Auth {
            token: token.to_owned(),
        };
        ws.send(text(serde_json::to_string(&auth)?)).await?;
        let hello = next_text(&mut ws).await?;
        match serde_json::from_str::<ServerFrame>(&hello) {
            Ok(ServerFrame::Hello { .. }) => Ok(ws),
            _ => bail!("expected `hello`, got {}", short(&hello)),
        }
    })
    .await
    .map_err(|_| anyhow!("connect + auth timed out after {CONNECT_TIMEOUT:?}"))?
}

/// Sends a request frame and waits for its `ack` (frames pushed meanwhile
/// are skipped). Returns the `ack` text.
pub async fn request(ws: &mut Ws, frame: &ClientFrame) -> Result<String> {
    let req = frame.req().context("not a request frame")?;
    ws.send(text(serde_json::to_string(frame)?)).await?;
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        loop {
            let t = next_text(ws).await?;
            match serde_json::from_str::<ServerFrame>(&t) {
                Ok(ServerFrame::Ack { req: r, .. }) if r == req => return Ok(t),
                Ok(ServerFrame::Error {
                    req: Some(r),
                    error,
                }) if r == req => {
                    bail!(
                        "request {req} failed: {} {}",
                        error.code.as_str(),
                        error.message
                    )
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| anyhow!("request {req} timed out after {REQUEST_TIMEOUT:?}"))?
}

/// The next text frame (pings are answered by the library on read).
pub async fn next_text(ws: &mut Ws) -> Result<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(c))) => bail!("closed by server: {}", close_reason(c.as_ref())),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection ended"),
        }
    }
}

/// A text message.
pub fn text(s: String) -> Message {
    Message::Text(s.into())
}

/// `4008 slow_consumer`.
pub fn close_reason(c: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    c.map_or_else(
        || "no close frame".to_owned(),
        |c| format!("{} {}", u16::from(c.code), c.reason.as_str()),
    )
}

/// The first 160 characters, for error messages.
pub fn short(s: &str) -> String {
    s.chars().take(160).collect()
}

// ---------------------------------------------------------------------------
// Quick reading. Server frames are serialised by serde with the `type` tag
// first and struct fields in declaration order, so routing by prefix and
// reading a key's value by substring is exact for the frames used here (the
// first frame of each kind is cross-checked with a full parse).

/// Frame kinds the load generator cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ack,
    Error,
    Message,
    TicketEvent,
    Other,
}

pub fn kind(t: &str) -> Kind {
    let Some(rest) = t.strip_prefix(r#"{"type":""#) else {
        return Kind::Other;
    };
    if rest.starts_with(r#"ack""#) {
        Kind::Ack
    } else if rest.starts_with(r#"message""#) {
        Kind::Message
    } else if rest.starts_with(r#"ticket_event""#) {
        Kind::TicketEvent
    } else if rest.starts_with(r#"error""#) {
        Kind::Error
    } else {
        Kind::Other
    }
}

/// The unsigned number right after the first occurrence of `key`
/// (e.g. `"seq":`).
pub fn num_after(t: &str, key: &str) -> Option<u64> {
    let start = t.find(key)? + key.len();
    let rest = t.get(start..)?;
    let len = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest.get(..len)?.parse().ok()
}

/// The string right after the first occurrence of `key` (which ends with
/// the opening quote, e.g. `"ticket_id":"`), up to the closing quote.
pub fn str_after<'a>(t: &'a str, key: &str) -> Option<&'a str> {
    let start = t.find(key)? + key.len();
    let rest = t.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// A UUID in its hyphenated form, as a number.
pub fn uuid_after(t: &str, key: &str) -> Option<u128> {
    uuid::Uuid::try_parse(str_after(t, key)?)
        .ok()
        .map(|u| u.as_u128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_reading_matches_the_serialised_frames() {
        let ack = r#"{"type":"ack","req":7,"message_id":"0190f0a0-0000-7000-8000-000000000001","seq":42,"ticket_id":"0190f0a0-0000-7000-8000-000000000002"}"#;
        assert_eq!(kind(ack), Kind::Ack);
        assert_eq!(num_after(ack, r#""req":"#), Some(7));
        assert_eq!(num_after(ack, r#""seq":"#), Some(42));
        assert_eq!(
            uuid_after(ack, r#""ticket_id":""#),
            Some(0x0190f0a0_0000_7000_8000_000000000002)
        );
        let ev = r#"{"type":"ticket_event","ticket":{"id":"0190f0a0-0000-7000-8000-000000000003","number":1,"last_seq":9},"change":"created"}"#;
        assert_eq!(kind(ev), Kind::TicketEvent);
        assert_eq!(num_after(ev, r#""seq":"#), None);
        assert_eq!(kind(r#"{"type":"messages"}"#), Kind::Other);
        assert_eq!(kind("[]"), Kind::Other);
    }
}
