//! WebSocket frames as the session sees them, independent of the WebSocket
//! library, so the same session serves tokio-tungstenite, axum and tests
//! driven through channels.

/// One WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A UTF-8 text frame (every protocol frame is one).
    Text(String),
    /// A binary frame (not part of the protocol: a violation).
    Binary(Vec<u8>),
    /// A ping; the library answers it.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame with code and reason.
    Close(Option<(u16, String)>),
}

impl WsFrame {
    /// A close frame.
    pub fn close(code: u16, reason: &str) -> Self {
        WsFrame::Close(Some((code, reason.to_owned())))
    }
}

/// Conversions to and from tokio-tungstenite messages.
pub mod tungstenite {
    use super::WsFrame;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    /// Library message → session frame (`None` for raw frames the library
    /// only yields internally).
    pub fn from_message(m: Message) -> Option<WsFrame> {
        Some(match m {
            Message::Text(t) => WsFrame::Text(t.as_str().to_owned()),
            Message::Binary(b) => WsFrame::Binary(b.to_vec()),
            Message::Ping(b) => WsFrame::Ping(b.to_vec()),
            Message::Pong(b) => WsFrame::Pong(b.to_vec()),
            Message::Close(c) => {
                WsFrame::Close(c.map(|c| (u16::from(c.code), c.reason.as_str().to_owned())))
            }
            Message::Frame(_) => return None,
        })
    }

    /// Session frame → library message.
    pub fn to_message(f: WsFrame) -> Message {
        match f {
            WsFrame::Text(t) => Message::Text(t.into()),
            WsFrame::Binary(b) => Message::Binary(b.into()),
            WsFrame::Ping(b) => Message::Ping(b.into()),
            WsFrame::Pong(b) => Message::Pong(b.into()),
            WsFrame::Close(c) => Message::Close(c.map(|(code, reason)| CloseFrame {
                code: code.into(),
                reason: reason.into(),
            })),
        }
    }
}
