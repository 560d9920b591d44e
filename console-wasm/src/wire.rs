//! JSON of the protocol's frames and REST bodies (serde, the very types of
//! `neurochat_protocol::v1`).

use neurochat_protocol::v1::{ClientFrame, ErrorBody, ErrorCode, ServerFrame};
use serde::de::DeserializeOwned;

/// A server frame from a WebSocket text frame; `None` for anything the
/// console does not understand (unknown frame types of a newer server are
/// ignored; unknown fields are ignored by the types themselves).
pub fn parse_server_frame(text: &str) -> Option<ServerFrame> {
    serde_json::from_str(text).ok()
}

/// A client frame as its WebSocket text.
pub fn client_frame(frame: &ClientFrame) -> String {
    // A ClientFrame is plain data: serializing it cannot fail.
    serde_json::to_string(frame).unwrap_or_default()
}

/// A REST body of type `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unexpected answer from the server: {e}"))
}

/// Any serializable request body as JSON.
pub fn body<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The error of a failed REST call (`application/problem+json` carries the
/// protocol's `code` and `message`); a body that is not one becomes
/// `internal` with the HTTP status.
pub fn problem(status: u16, text: &str) -> ErrorBody {
    serde_json::from_str::<ErrorBody>(text).unwrap_or_else(|_| {
        ErrorBody::new(
            ErrorCode::Internal,
            format!("The server answered HTTP {status}."),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use neurochat_protocol::v1::TicketChange;
    use uuid::Uuid;

    #[test]
    fn server_frames_parse_and_unknown_ones_are_skipped() {
        let f = parse_server_frame(r#"{"type":"ack","req":5,"seq":1,"extra":true}"#);
        assert!(matches!(
            f,
            Some(ServerFrame::Ack {
                req: 5,
                seq: Some(1),
                ..
            })
        ));
        assert!(parse_server_frame(r#"{"type":"brand_new","x":1}"#).is_none());
        assert!(parse_server_frame("not json").is_none());
        let ev = parse_server_frame(
            r#"{"type":"ticket_event","change":"resync","ticket":{"id":"44444444-4444-4444-8444-444444444444","number":1,"subject":"s","customer_id":"11111111-1111-4111-8111-111111111111","priority":"high","status":"new","created_at":"2026-01-01T00:10:00Z","updated_at":"2026-01-01T00:10:00Z","last_seq":1}}"#,
        );
        assert!(matches!(
            ev,
            Some(ServerFrame::TicketEvent {
                change: TicketChange::Resync,
                ..
            })
        ));
    }

    #[test]
    fn client_frames_are_the_protocol_json() {
        let t = Uuid::from_u128(0x44);
        let text = client_frame(&ClientFrame::Send {
            req: 4,
            ticket_id: t,
            client_msg_id: "c-1".into(),
            body: "hi".into(),
            internal: true,
        });
        let back: ClientFrame = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.req(), Some(4));
        assert!(text.contains(r#""type":"send""#));
        assert!(text.contains(r#""internal":true"#));
    }

    #[test]
    fn problems_carry_their_code() {
        let p = problem(
            409,
            r#"{"type":"urn:neurochat:problem:already_claimed","title":"Conflict","status":409,"detail":"d","code":"already_claimed","message":"Someone else claimed it."}"#,
        );
        assert_eq!(p.code, ErrorCode::AlreadyClaimed);
        assert_eq!(p.message, "Someone else claimed it.");
        assert_eq!(problem(502, "<html>").code, ErrorCode::Internal);
    }
}
