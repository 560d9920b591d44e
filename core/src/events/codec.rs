//! JSON encoding of bus events for buses that cross process boundaries
//! (Redis). Private mirror structs keep serde off the domain types; the
//! envelope is versioned so nodes of different versions can tell.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{EscalationReason, Event, TicketChange, Topic};
use crate::domain::{
    Availability, CategoryId, Message, MessageId, MessageKind, Priority, SessionId, Ticket,
    TicketId, TicketStatus, UserId,
};
use crate::ports::BusError;

const VERSION: u8 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u8,
    topic: String,
    event: WireEvent,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessagePosted {
        message: WireMessage,
    },
    TicketChanged {
        ticket: WireTicket,
        change: String,
    },
    Typing {
        ticket_id: Uuid,
        user_id: Uuid,
        active: bool,
    },
    Receipt {
        ticket_id: Uuid,
        user_id: Uuid,
        delivered_seq: i64,
        read_seq: i64,
    },
    AvailabilityChanged {
        user_id: Uuid,
        availability: String,
    },
    Escalated {
        ticket: WireTicket,
        reason: String,
    },
    SessionsRevoked {
        user_id: Uuid,
        session_id: Option<Uuid>,
    },
}

#[derive(Serialize, Deserialize)]
struct WireMessage {
    id: Uuid,
    ticket_id: Uuid,
    seq: i64,
    author_id: Option<Uuid>,
    kind: String,
    body: String,
    client_msg_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct WireTicket {
    id: Uuid,
    number: i64,
    subject: String,
    customer_id: Uuid,
    category_id: Option<Uuid>,
    priority: String,
    status: String,
    assignee_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    first_response_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    closed_at: Option<OffsetDateTime>,
    last_seq: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    awaiting_since: Option<OffsetDateTime>,
    last_agent_seq: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    last_agent_message_at: Option<OffsetDateTime>,
    customer_notified_seq: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    escalated_new_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    escalated_awaiting_since: Option<OffsetDateTime>,
    version: i64,
}

impl From<&Ticket> for WireTicket {
    fn from(t: &Ticket) -> Self {
        WireTicket {
            id: t.id.0,
            number: t.number,
            subject: t.subject.clone(),
            customer_id: t.customer_id.0,
            category_id: t.category_id.map(|c| c.0),
            priority: t.priority.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            assignee_id: t.assignee_id.map(|a| a.0),
            created_at: t.created_at,
            updated_at: t.updated_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            last_seq: t.last_seq,
            awaiting_since: t.awaiting_since,
            last_agent_seq: t.last_agent_seq,
            last_agent_message_at: t.last_agent_message_at,
            customer_notified_seq: t.customer_notified_seq,
            escalated_new_at: t.escalated_new_at,
            escalated_awaiting_since: t.escalated_awaiting_since,
            version: t.version,
        }
    }
}

impl TryFrom<WireTicket> for Ticket {
    type Error = BusError;
    fn try_from(t: WireTicket) -> Result<Self, BusError> {
        Ok(Ticket {
            id: TicketId(t.id),
            number: t.number,
            subject: t.subject,
            customer_id: UserId(t.customer_id),
            category_id: t.category_id.map(CategoryId),
            priority: Priority::parse(&t.priority).ok_or_else(|| bad("priority"))?,
            status: TicketStatus::parse(&t.status).ok_or_else(|| bad("status"))?,
            assignee_id: t.assignee_id.map(UserId),
            created_at: t.created_at,
            updated_at: t.updated_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            last_seq: t.last_seq,
            awaiting_since: t.awaiting_since,
            last_agent_seq: t.last_agent_seq,
            last_agent_message_at: t.last_agent_message_at,
            customer_notified_seq: t.customer_notified_seq,
            escalated_new_at: t.escalated_new_at,
            escalated_awaiting_since: t.escalated_awaiting_since,
            version: t.version,
        })
    }
}

fn change_name(c: TicketChange) -> &'static str {
    match c {
        TicketChange::Created => "created",
        TicketChange::Claimed => "claimed",
        TicketChange::Assigned => "assigned",
        TicketChange::Unassigned => "unassigned",
        TicketChange::Status => "status",
        TicketChange::Priority => "priority",
        TicketChange::Category => "category",
        TicketChange::Activity => "activity",
    }
}

fn parse_change(s: &str) -> Option<TicketChange> {
    [
        TicketChange::Created,
        TicketChange::Claimed,
        TicketChange::Assigned,
        TicketChange::Unassigned,
        TicketChange::Status,
        TicketChange::Priority,
        TicketChange::Category,
        TicketChange::Activity,
    ]
    .into_iter()
    .find(|c| change_name(*c) == s)
}

fn bad(what: &str) -> BusError {
    BusError::Codec(format!("unknown {what}"))
}

/// Encodes an event published on `topic` as one JSON string.
pub fn encode(topic: &Topic, event: &Event) -> Result<String, BusError> {
    let event = match event {
        Event::MessagePosted(m) => WireEvent::MessagePosted {
            message: WireMessage {
                id: m.id.0,
                ticket_id: m.ticket_id.0,
                seq: m.seq,
                author_id: m.author_id.map(|a| a.0),
                kind: m.kind.as_str().to_owned(),
                body: m.body.clone(),
                client_msg_id: m.client_msg_id.clone(),
                created_at: m.created_at,
            },
        },
        Event::TicketChanged { ticket, change } => WireEvent::TicketChanged {
            ticket: ticket.into(),
            change: change_name(*change).to_owned(),
        },
        Event::Escalated { ticket, reason } => WireEvent::Escalated {
            ticket: ticket.into(),
            reason: reason.as_str().to_owned(),
        },
        Event::Typing {
            ticket_id,
            user_id,
            active,
        } => WireEvent::Typing {
            ticket_id: ticket_id.0,
            user_id: user_id.0,
            active: *active,
        },
        Event::Receipt {
            ticket_id,
            user_id,
            delivered_seq,
            read_seq,
        } => WireEvent::Receipt {
            ticket_id: ticket_id.0,
            user_id: user_id.0,
            delivered_seq: *delivered_seq,
            read_seq: *read_seq,
        },
        Event::AvailabilityChanged {
            user_id,
            availability,
        } => WireEvent::AvailabilityChanged {
            user_id: user_id.0,
            availability: availability.as_str().to_owned(),
        },
        Event::SessionsRevoked {
            user_id,
            session_id,
        } => WireEvent::SessionsRevoked {
            user_id: user_id.0,
            session_id: session_id.map(|s| s.0),
        },
    };
    serde_json::to_string(&Envelope {
        v: VERSION,
        topic: topic.key(),
        event,
    })
    .map_err(|e| BusError::Codec(e.to_string()))
}

/// Decodes what [`encode`] produced.
pub fn decode(json: &str) -> Result<(Topic, Event), BusError> {
    let env: Envelope = serde_json::from_str(json).map_err(|e| BusError::Codec(e.to_string()))?;
    if env.v != VERSION {
        return Err(BusError::Codec(format!(
            "unsupported event version {}",
            env.v
        )));
    }
    let topic = Topic::parse_key(&env.topic).ok_or_else(|| bad("topic"))?;
    let event = match env.event {
        WireEvent::MessagePosted { message: m } => Event::MessagePosted(Message {
            id: MessageId(m.id),
            ticket_id: TicketId(m.ticket_id),
            seq: m.seq,
            author_id: m.author_id.map(UserId),
            kind: MessageKind::parse(&m.kind).ok_or_else(|| bad("message kind"))?,
            body: m.body,
            client_msg_id: m.client_msg_id,
            created_at: m.created_at,
        }),
        WireEvent::TicketChanged { ticket, change } => Event::TicketChanged {
            ticket: ticket.try_into()?,
            change: parse_change(&change).ok_or_else(|| bad("ticket change"))?,
        },
        WireEvent::Escalated { ticket, reason } => Event::Escalated {
            ticket: ticket.try_into()?,
            reason: EscalationReason::parse(&reason).ok_or_else(|| bad("escalation reason"))?,
        },
        WireEvent::Typing {
            ticket_id,
            user_id,
            active,
        } => Event::Typing {
            ticket_id: TicketId(ticket_id),
            user_id: UserId(user_id),
            active,
        },
        WireEvent::Receipt {
            ticket_id,
            user_id,
            delivered_seq,
            read_seq,
        } => Event::Receipt {
            ticket_id: TicketId(ticket_id),
            user_id: UserId(user_id),
            delivered_seq,
            read_seq,
        },
        WireEvent::AvailabilityChanged {
            user_id,
            availability,
        } => Event::AvailabilityChanged {
            user_id: UserId(user_id),
            availability: Availability::parse(&availability).ok_or_else(|| bad("availability"))?,
        },
        WireEvent::SessionsRevoked {
            user_id,
            session_id,
        } => Event::SessionsRevoked {
            user_id: UserId(user_id),
            session_id: session_id.map(SessionId),
        },
    };
    Ok((topic, event))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ports::truncate_millis;

    #[test]
    fn every_event_round_trips() {
        let now = truncate_millis(OffsetDateTime::now_utc());
        let tid = TicketId(Uuid::now_v7());
        let uid = UserId(Uuid::now_v7());
        let ticket = Ticket {
            id: tid,
            number: 42,
            subject: "Refund".into(),
            customer_id: uid,
            category_id: Some(CategoryId(Uuid::now_v7())),
            priority: Priority::High,
            status: TicketStatus::InProgress,
            assignee_id: None,
            created_at: now,
            updated_at: now,
            first_response_at: Some(now),
            resolved_at: None,
            closed_at: None,
            last_seq: 3,
            awaiting_since: Some(now),
            last_agent_seq: 2,
            last_agent_message_at: Some(now),
            customer_notified_seq: 1,
            escalated_new_at: None,
            escalated_awaiting_since: Some(now),
            version: 7,
        };
        let message = Message {
            id: MessageId(Uuid::now_v7()),
            ticket_id: tid,
            seq: 3,
            author_id: Some(uid),
            kind: MessageKind::InternalNote,
            body: "line\n\"quoted\" ✓".into(),
            client_msg_id: Some("c-1".into()),
            created_at: now,
        };
        let cases = [
            (
                Topic::TicketStaff(tid),
                Event::MessagePosted(message.clone()),
            ),
            (Topic::Ticket(tid), Event::MessagePosted(message)),
            (
                Topic::Inbox,
                Event::TicketChanged {
                    ticket: ticket.clone(),
                    change: TicketChange::Claimed,
                },
            ),
            (
                Topic::Inbox,
                Event::Escalated {
                    ticket,
                    reason: EscalationReason::Unanswered,
                },
            ),
            (
                Topic::Ticket(tid),
                Event::Typing {
                    ticket_id: tid,
                    user_id: uid,
                    active: true,
                },
            ),
            (
                Topic::Ticket(tid),
                Event::Receipt {
                    ticket_id: tid,
                    user_id: uid,
                    delivered_seq: 3,
                    read_seq: 2,
                },
            ),
            (
                Topic::Presence,
                Event::AvailabilityChanged {
                    user_id: uid,
                    availability: Availability::Away,
                },
            ),
            (
                Topic::User(uid),
                Event::SessionsRevoked {
                    user_id: uid,
                    session_id: None,
                },
            ),
        ];
        for (topic, event) in cases {
            let json = encode(&topic, &event).unwrap();
            assert_eq!(decode(&json).unwrap(), (topic, event), "{json}");
        }
    }

    #[test]
    fn garbage_is_a_codec_error() {
        for bad in [
            "",
            "{}",
            "[]",
            r#"{"v":2,"topic":"inbox","event":{"type":"typing"}}"#,
            r#"{"v":1,"topic":"nowhere","event":{"type":"sessions_revoked","user_id":"00000000-0000-0000-0000-000000000000","session_id":null}}"#,
        ] {
            assert!(matches!(decode(bad), Err(BusError::Codec(_))), "{bad}");
        }
    }
}
