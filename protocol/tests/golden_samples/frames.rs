//! The samples of `neurochat_protocol::v1::frames`: every client and server frame.

use std::collections::BTreeMap;

use neurochat_protocol::PROTOCOL_VERSION;
use neurochat_protocol::v1::*;

use super::{
    AGENT, CATEGORY, MESSAGE, SESSION, TICKET, at, message_view, receipt_view, ticket_view,
};
use crate::{Sample, Unknown, sample};

pub(super) fn client_frames() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Auth {
            token: "eyJhbGciOiJIUzI1NiJ9.access.sig".to_owned(),
        },
        ClientFrame::Subscribe {
            req: 1,
            ticket_id: TICKET,
            last_seq: 5,
        },
        ClientFrame::SubscribeInbox { req: 2 },
        ClientFrame::Unsubscribe {
            req: 3,
            ticket_id: TICKET,
        },
        ClientFrame::Send {
            req: 4,
            ticket_id: TICKET,
            client_msg_id: "c-7f3a".to_owned(),
            body: "Please try resetting your password.".to_owned(),
            internal: false,
        },
        ClientFrame::CreateTicket {
            req: 5,
            subject: "Cannot log in".to_owned(),
            body: "The login page says my password is wrong.".to_owned(),
            client_msg_id: "c-1a2b".to_owned(),
            category_id: Some(CATEGORY),
        },
        ClientFrame::TypingStart { ticket_id: TICKET },
        ClientFrame::TypingStop { ticket_id: TICKET },
        ClientFrame::MarkDelivered {
            ticket_id: TICKET,
            seq: 7,
        },
        ClientFrame::MarkRead {
            ticket_id: TICKET,
            seq: 6,
        },
        ClientFrame::SetAvailability {
            req: 6,
            availability: Availability::Away,
        },
        ClientFrame::Claim {
            req: 7,
            ticket_id: TICKET,
        },
        ClientFrame::Ping { nonce: Some(42) },
    ]
}

pub(super) fn server_frames() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Hello {
            protocol: PROTOCOL_VERSION,
            session_id: SESSION,
            server_time: at(20),
            limits: Limits {
                max_frame_bytes: 65_536,
                max_body_chars: 10_000,
                messages_per_minute: 60,
            },
        },
        ServerFrame::Reauth { expires_at: at(35) },
        ServerFrame::Ack {
            req: 5,
            message_id: Some(MESSAGE),
            seq: Some(1),
            ticket_id: Some(TICKET),
        },
        ServerFrame::Message {
            message: message_view(),
        },
        ServerFrame::Receipt {
            receipt: receipt_view(),
        },
        ServerFrame::Typing {
            ticket_id: TICKET,
            user_id: AGENT,
            active: true,
        },
        ServerFrame::TicketEvent {
            ticket: ticket_view(),
            change: TicketChange::Status,
        },
        ServerFrame::Availability {
            user_id: AGENT,
            availability: Availability::Online,
        },
        ServerFrame::Escalation {
            ticket_id: TICKET,
            reason: "No agent reply for 30 minutes.".to_owned(),
        },
        ServerFrame::Error {
            req: Some(4),
            error: ErrorBody::new(ErrorCode::TicketClosed, "The ticket is closed."),
        },
        ServerFrame::Pong {
            nonce: Some(42),
            server_time: at(21),
        },
    ]
}

pub(super) fn frame_samples() -> Vec<Sample> {
    use Unknown::*;
    let mut out = vec![
        sample(
            "frames.ticket_change",
            Vocabulary,
            TicketChange::ALL.to_vec(),
        ),
        sample(
            "frames.close_codes",
            Vocabulary,
            close_codes::ALL
                .iter()
                .map(|&c| (close_codes::name(c).unwrap().to_owned(), c))
                .collect::<BTreeMap<String, u16>>(),
        ),
    ];

    // Every ClientFrame variant. Adding a variant breaks this match; give it
    // the next index, grow the array and add a frame to `client_frames`.
    let mut seen = [false; 13];
    for frame in client_frames() {
        let (index, name) = match &frame {
            ClientFrame::Auth { .. } => (0, "auth"),
            ClientFrame::Subscribe { .. } => (1, "subscribe"),
            ClientFrame::SubscribeInbox { .. } => (2, "subscribe_inbox"),
            ClientFrame::Unsubscribe { .. } => (3, "unsubscribe"),
            ClientFrame::Send { .. } => (4, "send"),
            ClientFrame::CreateTicket { .. } => (5, "create_ticket"),
            ClientFrame::TypingStart { .. } => (6, "typing_start"),
            ClientFrame::TypingStop { .. } => (7, "typing_stop"),
            ClientFrame::MarkDelivered { .. } => (8, "mark_delivered"),
            ClientFrame::MarkRead { .. } => (9, "mark_read"),
            ClientFrame::SetAvailability { .. } => (10, "set_availability"),
            ClientFrame::Ping { .. } => (11, "ping"),
            ClientFrame::Claim { .. } => (12, "claim"),
        };
        seen[index] = true;
        out.push(sample(format!("frames.client.{name}"), Rejected, frame));
    }
    assert!(
        seen.iter().all(|s| *s),
        "a ClientFrame variant has no sample"
    );

    // Every ServerFrame variant; same rule as above.
    let mut seen = [false; 11];
    for frame in server_frames() {
        let (index, name) = match &frame {
            ServerFrame::Hello { .. } => (0, "hello"),
            ServerFrame::Reauth { .. } => (1, "reauth"),
            ServerFrame::Ack { .. } => (2, "ack"),
            ServerFrame::Message { .. } => (3, "message"),
            ServerFrame::Receipt { .. } => (4, "receipt"),
            ServerFrame::Typing { .. } => (5, "typing"),
            ServerFrame::TicketEvent { .. } => (6, "ticket_event"),
            ServerFrame::Availability { .. } => (7, "availability"),
            ServerFrame::Escalation { .. } => (8, "escalation"),
            ServerFrame::Error { .. } => (9, "error"),
            ServerFrame::Pong { .. } => (10, "pong"),
        };
        seen[index] = true;
        out.push(sample(format!("frames.server.{name}"), Ignored, frame));
    }
    assert!(
        seen.iter().all(|s| *s),
        "a ServerFrame variant has no sample"
    );

    // Minimal forms: optional fields omitted.
    out.push(sample(
        "frames.client.ping.minimal",
        Rejected,
        ClientFrame::Ping { nonce: None },
    ));
    out.push(sample(
        "frames.server.ack.minimal",
        Ignored,
        ServerFrame::Ack {
            req: 1,
            message_id: None,
            seq: None,
            ticket_id: None,
        },
    ));
    out.push(sample(
        "frames.server.error.connection",
        Ignored,
        ServerFrame::Error {
            req: None,
            error: ErrorBody::new(ErrorCode::MalformedRequest, "The frame is not valid JSON."),
        },
    ));
    out
}
