//! The fixed sample value of every wire type, one file per protocol module,
//! built from the fixed ids, instants and views below.

mod audit;
mod auth;
mod common;
mod error;
mod frames;
mod messages;
mod metrics;
mod tickets;
mod users;
mod widget;

use neurochat_protocol::v1::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Sample;

// ---------------------------------------------------------------------------
// Fixed sample data
// ---------------------------------------------------------------------------

const CUSTOMER: Uuid = Uuid::from_u128(0x11111111_1111_4111_8111_111111111111);
const AGENT: Uuid = Uuid::from_u128(0x22222222_2222_4222_8222_222222222222);
const ADMIN: Uuid = Uuid::from_u128(0x33333333_3333_4333_8333_333333333333);
const TICKET: Uuid = Uuid::from_u128(0x44444444_4444_4444_8444_444444444444);
const MESSAGE: Uuid = Uuid::from_u128(0x55555555_5555_4555_8555_555555555555);
const CATEGORY: Uuid = Uuid::from_u128(0x66666666_6666_4666_8666_666666666666);
const SESSION: Uuid = Uuid::from_u128(0x77777777_7777_4777_8777_777777777777);
const AUDIT_ENTRY: Uuid = Uuid::from_u128(0x88888888_8888_4888_8888_888888888888);

/// 2026-01-01T00:00:00Z plus `minutes`.
fn at(minutes: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600 + minutes * 60).unwrap()
}

fn customer_view() -> UserView {
    UserView {
        id: CUSTOMER,
        email: Some("carla@example.com".to_owned()),
        display_name: "Carla Customer".to_owned(),
        role: Role::Customer,
        disabled: false,
        verified: true,
        created_at: at(0),
    }
}

fn visitor_view() -> UserView {
    UserView {
        id: CUSTOMER,
        email: None,
        display_name: "Visitor 4821".to_owned(),
        role: Role::Customer,
        disabled: false,
        verified: false,
        created_at: at(0),
    }
}

fn ticket_view() -> TicketView {
    TicketView {
        id: TICKET,
        number: 1042,
        subject: "Cannot log in".to_owned(),
        customer_id: CUSTOMER,
        category_id: Some(CATEGORY),
        priority: Priority::High,
        status: TicketStatus::Resolved,
        assignee_id: Some(AGENT),
        created_at: at(10),
        updated_at: at(45),
        first_response_at: Some(at(12)),
        resolved_at: Some(at(45)),
        last_seq: 7,
    }
}

fn new_ticket_view() -> TicketView {
    TicketView {
        id: TICKET,
        number: 1043,
        subject: "Billing question".to_owned(),
        customer_id: CUSTOMER,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: at(10),
        updated_at: at(10),
        first_response_at: None,
        resolved_at: None,
        last_seq: 1,
    }
}

fn message_view() -> MessageView {
    MessageView {
        id: MESSAGE,
        ticket_id: TICKET,
        seq: 7,
        author_id: Some(AGENT),
        kind: MessageKind::Agent,
        body: "Please try resetting your password.".to_owned(),
        client_msg_id: Some("c-7f3a".to_owned()),
        created_at: at(44),
    }
}

fn receipt_view() -> ReceiptView {
    ReceiptView {
        ticket_id: TICKET,
        user_id: CUSTOMER,
        delivered_seq: 7,
        read_seq: 6,
    }
}

fn category_view() -> CategoryView {
    CategoryView {
        id: CATEGORY,
        name: "Billing".to_owned(),
        archived: false,
        created_at: at(0),
    }
}

fn agent_view() -> AgentView {
    AgentView {
        id: AGENT,
        display_name: "Ana Agent".to_owned(),
        availability: Availability::Online,
        capacity: 5,
    }
}

fn auth_tokens() -> AuthTokens {
    AuthTokens {
        access_token: "eyJhbGciOiJIUzI1NiJ9.access.sig".to_owned(),
        access_expires_at: at(15),
        refresh_token: "rt_0123456789abcdef".to_owned(),
        refresh_expires_at: at(60 * 24 * 30),
        session_id: SESSION,
    }
}

fn hmac_identity() -> HostIdentity {
    HostIdentity::Hmac {
        user_id: "host-user-42".to_owned(),
        email: Some("carla@example.com".to_owned()),
        name: Some("Carla Customer".to_owned()),
        signature: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
    }
}

fn jwt_identity() -> HostIdentity {
    HostIdentity::Jwt {
        token: "eyJhbGciOiJIUzI1NiJ9.host.sig".to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Samples, one module at a time
// ---------------------------------------------------------------------------

pub(crate) fn all_samples() -> Vec<Sample> {
    let mut all = Vec::new();
    all.extend(common::common_samples());
    all.extend(error::error_samples());
    all.extend(auth::auth_samples());
    all.extend(users::user_samples());
    all.extend(audit::audit_samples());
    all.extend(tickets::ticket_samples());
    all.extend(messages::message_samples());
    all.extend(frames::frame_samples());
    all.extend(metrics::metrics_samples());
    all.extend(widget::widget_samples());
    all
}
