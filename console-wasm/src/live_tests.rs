//! Tests of the live state (`live.rs`).

use super::*;
use neurochat_protocol::v1::{
    ErrorBody, Limits, MessageKind, Page, Priority, ReceiptView, TicketStatus,
};
use time::OffsetDateTime;

const ME: Uuid = Uuid::from_u128(0xAA);
const OTHER: Uuid = Uuid::from_u128(0xBB);
const CUSTOMER: Uuid = Uuid::from_u128(0xC0);
const T: Uuid = Uuid::from_u128(0x44);

fn at(min: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600 + min * 60).unwrap()
}

fn ticket(id: Uuid, updated: i64) -> TicketView {
    TicketView {
        id,
        number: 7,
        subject: "Cannot log in".into(),
        customer_id: CUSTOMER,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: at(0),
        updated_at: at(updated),
        first_response_at: None,
        resolved_at: None,
        last_seq: 1,
    }
}

fn msg(seq: u64, author: Uuid, cmid: Option<&str>) -> MessageView {
    MessageView {
        id: Uuid::from_u128(1000 + seq as u128),
        ticket_id: T,
        seq,
        author_id: Some(author),
        kind: if author == CUSTOMER {
            MessageKind::Customer
        } else {
            MessageKind::Agent
        },
        body: format!("m{seq}"),
        client_msg_id: cmid.map(str::to_owned),
        created_at: at(seq as i64),
    }
}

fn hello() -> ServerFrame {
    ServerFrame::Hello {
        protocol: 1,
        session_id: Uuid::from_u128(7),
        server_time: at(0),
        limits: Limits {
            max_frame_bytes: 65536,
            max_body_chars: 10000,
            messages_per_minute: 60,
        },
    }
}

fn sent(fx: &[Effect]) -> Vec<ClientFrame> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn req_of(f: &ClientFrame) -> u64 {
    f.req().unwrap()
}

fn ack(req: u64, seq: Option<u64>) -> ServerFrame {
    ServerFrame::Ack {
        req,
        message_id: None,
        seq,
        ticket_id: None,
    }
}

/// Logged in, list loaded, ticket T open with one message, online and
/// subscribed.
fn live_with_open_ticket() -> Live {
    let mut l = Live::new(ME);
    let load = l.inbox.begin_load();
    l.inbox.replace(load, Page::last(vec![ticket(T, 1)]));
    l.open_ticket(T, Some(ticket(T, 1)));
    l.history(T, vec![msg(1, CUSTOMER, None)], false);
    let fx = l.frame(hello(), 0.0, true);
    let frames = sent(&fx);
    assert!(matches!(frames[0], ClientFrame::SubscribeInbox { .. }));
    assert!(matches!(
        frames[1],
        ClientFrame::Subscribe {
            ticket_id: T,
            last_seq: 1,
            ..
        }
    ));
    let sub = req_of(&frames[1]);
    let fx = l.frame(ack(sub, None), 0.0, true);
    assert!(
        sent(&fx).contains(&ClientFrame::MarkRead {
            ticket_id: T,
            seq: 1
        }),
        "{fx:?}"
    );
    l
}

#[test]
fn first_connect_subscribes_and_a_reconnect_resumes_and_reloads() {
    let mut l = live_with_open_ticket();
    assert!(l.online());
    assert_eq!(l.limits.map(|x| x.max_body_chars), Some(10000));
    l.frame(
        ServerFrame::Message {
            message: msg(2, CUSTOMER, None),
        },
        0.0,
        true,
    );
    l.disconnected();
    assert!(!l.online());
    let fx = l.frame(hello(), 0.0, true);
    assert!(fx.contains(&Effect::ReloadInbox));
    assert!(
        sent(&fx)
            .iter()
            .any(|f| matches!(f, ClientFrame::Subscribe { last_seq: 2, .. }))
    );
}

#[test]
fn sends_wait_for_the_subscribe_and_go_again_after_a_reconnect() {
    let mut l = Live::new(ME);
    l.open_ticket(T, None);
    // Online before the history arrived: no subscribe yet (it would
    // replay everything), then from the page's last seq.
    let fx = l.frame(hello(), 0.0, true);
    assert!(
        !sent(&fx)
            .iter()
            .any(|f| matches!(f, ClientFrame::Subscribe { .. }))
    );
    l.history(T, vec![msg(1, CUSTOMER, None)], false);
    let fx = l.subscribe_open();
    assert!(matches!(
        sent(&fx)[0],
        ClientFrame::Subscribe { last_seq: 1, .. }
    ));
    l.disconnected();
    // Offline: queued, nothing sent.
    let fx = l.compose("c-1".into(), "hello".into(), false);
    assert!(sent(&fx).is_empty());
    let fx = l.frame(hello(), 0.0, true);
    let sub = sent(&fx)
        .iter()
        .find(|f| matches!(f, ClientFrame::Subscribe { .. }))
        .map(req_of)
        .unwrap();
    assert!(l.flush().is_empty(), "not before the subscribe ack");
    let fx = l.frame(ack(sub, None), 0.0, true);
    let sends = sent(&fx);
    assert!(matches!(&sends[0], ClientFrame::Send { client_msg_id, .. } if client_msg_id == "c-1"));
    // Lost with the connection: the same id goes again.
    l.disconnected();
    let fx = l.frame(hello(), 0.0, true);
    let sub = sent(&fx)
        .iter()
        .find(|f| matches!(f, ClientFrame::Subscribe { .. }))
        .map(req_of)
        .unwrap();
    let fx = l.frame(ack(sub, None), 0.0, true);
    let again = sent(&fx);
    assert!(matches!(&again[0], ClientFrame::Send { client_msg_id, .. } if client_msg_id == "c-1"));
    // The stored message (replayed or live) replaces it; the ack too.
    l.frame(
        ServerFrame::Message {
            message: msg(2, ME, Some("c-1")),
        },
        0.0,
        true,
    );
    let fx = l.frame(ack(req_of(&again[0]), Some(2)), 0.0, true);
    assert!(fx.is_empty() || fx == [Effect::Render(Region::Messages)]);
    assert!(!l.conv.as_ref().unwrap().has_outgoing());
    assert_eq!(l.conv.as_ref().unwrap().items().len(), 2, "seq 1 and 2");
}

#[test]
fn a_rate_limited_send_is_flushed_later_and_a_refused_one_fails() {
    let mut l = live_with_open_ticket();
    let fx = l.compose("c-1".into(), "x".into(), false);
    let req = req_of(&sent(&fx)[0]);
    let fx = l.frame(
        ServerFrame::Error {
            req: Some(req),
            error: ErrorBody::new(ErrorCode::RateLimited, "slow"),
        },
        0.0,
        true,
    );
    assert!(fx.contains(&Effect::FlushLater));
    let fx = l.flush();
    let req = req_of(&sent(&fx)[0]);
    let fx = l.frame(
        ServerFrame::Error {
            req: Some(req),
            error: ErrorBody::new(ErrorCode::TicketClosed, "closed"),
        },
        0.0,
        true,
    );
    assert_eq!(fx, [Effect::Render(Region::Messages)]);
    assert!(l.flush().is_empty());
}

#[test]
fn a_lost_claim_says_so_and_asks_who_won() {
    let mut l = live_with_open_ticket();
    let fx = l.claim(T).unwrap();
    let req = req_of(&sent(&fx)[0]);
    let fx = l.frame(
        ServerFrame::Error {
            req: Some(req),
            error: ErrorBody::new(ErrorCode::AlreadyClaimed, "taken"),
        },
        0.0,
        true,
    );
    assert_eq!(fx, [Effect::ClaimLost(T)]);
    assert!(l.claimed_notice.is_none(), "not before the winner is known");
    l.claim_lost(T, Some("Otto"));
    assert_eq!(
        l.claimed_notice.as_deref(),
        Some("Already claimed by Otto.")
    );
    // The winner's claim arrives as an event: the header follows.
    let mut claimed = ticket(T, 5);
    claimed.assignee_id = Some(OTHER);
    let fx = l.frame(
        ServerFrame::TicketEvent {
            ticket: claimed,
            change: TicketChange::Claimed,
        },
        0.0,
        true,
    );
    assert!(fx.contains(&Effect::Render(Region::Head)));
    assert_eq!(l.open.as_ref().unwrap().assignee_id, Some(OTHER));
    // Offline: the caller uses REST.
    l.disconnected();
    assert!(l.claim(T).is_none());
}

#[test]
fn a_won_claim_is_acknowledged() {
    let mut l = live_with_open_ticket();
    let fx = l.claim(T).unwrap();
    let fx = l.frame(ack(req_of(&sent(&fx)[0]), None), 0.0, true);
    assert_eq!(fx, [Effect::Toast("Claimed.".into())]);
}

#[test]
fn new_tickets_notify_and_stale_events_do_not_touch_the_header() {
    let mut l = live_with_open_ticket();
    let other = Uuid::from_u128(0x55);
    let fx = l.frame(
        ServerFrame::TicketEvent {
            ticket: ticket(other, 3),
            change: TicketChange::Created,
        },
        0.0,
        true,
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Notify { title, .. } if title == "New ticket #7"))
    );
    assert_eq!(l.inbox.new_count(), 1);
    let mut newer = ticket(T, 9);
    newer.priority = Priority::Urgent;
    l.frame(
        ServerFrame::TicketEvent {
            ticket: newer,
            change: TicketChange::Priority,
        },
        0.0,
        true,
    );
    let fx = l.frame(
        ServerFrame::TicketEvent {
            ticket: ticket(T, 2),
            change: TicketChange::Resync,
        },
        0.0,
        true,
    );
    assert!(!fx.contains(&Effect::Render(Region::Head)));
    assert_eq!(l.open.as_ref().unwrap().priority, Priority::Urgent);
}

#[test]
fn messages_show_once_notify_when_hidden_and_move_receipts() {
    let mut l = live_with_open_ticket();
    let m = ServerFrame::Message {
        message: msg(2, CUSTOMER, None),
    };
    let fx = l.frame(m.clone(), 0.0, false);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Notify { .. })),
        "tab hidden"
    );
    assert!(sent(&fx).contains(&ClientFrame::MarkDelivered {
        ticket_id: T,
        seq: 2
    }));
    assert!(
        !sent(&fx)
            .iter()
            .any(|f| matches!(f, ClientFrame::MarkRead { .. })),
        "not seen yet"
    );
    assert!(l.frame(m, 0.0, true).is_empty() || l.conv.as_ref().unwrap().items().len() == 2);
    assert_eq!(l.conv.as_ref().unwrap().items().len(), 2);
    let fx = l.seen(true);
    assert!(sent(&fx).contains(&ClientFrame::MarkRead {
        ticket_id: T,
        seq: 2
    }));
    assert!(sent(&l.seen(true)).is_empty(), "reported once");
    // A message on another ticket (own channel) notifies.
    let mut elsewhere = msg(3, CUSTOMER, None);
    elsewhere.ticket_id = Uuid::from_u128(0x66);
    let fx = l.frame(ServerFrame::Message { message: elsewhere }, 0.0, true);
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Notify { title, .. } if title == "New message on a ticket")
        )
    );
    // Receipts and typing of the open ticket redraw.
    let fx = l.frame(
        ServerFrame::Receipt {
            receipt: ReceiptView {
                ticket_id: T,
                user_id: CUSTOMER,
                delivered_seq: 2,
                read_seq: 2,
            },
        },
        0.0,
        true,
    );
    assert_eq!(fx, [Effect::Render(Region::Messages)]);
    let fx = l.frame(
        ServerFrame::Typing {
            ticket_id: T,
            user_id: CUSTOMER,
            active: true,
        },
        0.0,
        true,
    );
    assert_eq!(fx, [Effect::Render(Region::Typing)]);
    assert_eq!(l.conv.as_mut().unwrap().typists(1.0), [CUSTOMER]);
}

#[test]
fn switching_tickets_unsubscribes_the_old_one() {
    let mut l = live_with_open_ticket();
    let next = Uuid::from_u128(0x77);
    let fx = l.open_ticket(next, None);
    let frames = sent(&fx);
    assert_eq!(frames[0], ClientFrame::TypingStop { ticket_id: T });
    assert!(matches!(
        frames[1],
        ClientFrame::Unsubscribe { ticket_id: T, .. }
    ));
    assert!(l.open_ticket(next, None).is_empty(), "already open");
    assert!(l.subscribe_open().is_empty(), "no history yet");
    l.history(next, Vec::new(), false);
    let fx = l.subscribe_open();
    assert!(l.subscribe_open().is_empty(), "being subscribed already");
    assert!(
        matches!(sent(&fx)[0], ClientFrame::Subscribe { ticket_id, last_seq: 0, .. } if ticket_id == next)
    );
}

#[test]
fn the_inbox_ack_asks_for_the_availability_again() {
    let mut l = Live::new(ME);
    let frames = sent(&l.frame(hello(), 0.0, true));
    let ClientFrame::SubscribeInbox { req } = frames[0] else {
        panic!("{frames:?}")
    };
    let fx = l.frame(ack(req, None), 0.0, true);
    assert!(fx.iter().any(|e| matches!(e, Effect::ReloadAvailability)));
    let before = l.availability_changes;
    l.set_availability(Availability::Away);
    assert_ne!(
        l.availability_changes, before,
        "a choice outdates a pending read"
    );
}

#[test]
fn shown_history_counts_as_read_before_the_subscribe_ack() {
    let mut l = Live::new(ME);
    let load = l.inbox.begin_load();
    l.inbox.replace(load, Page::last(vec![ticket(T, 2)]));
    let _ = l.frame(hello(), 0.0, true);
    l.open_ticket(T, Some(ticket(T, 2)));
    l.history(
        T,
        vec![msg(1, CUSTOMER, None), msg(2, CUSTOMER, None)],
        false,
    );
    // Not visible: nothing is marked.
    assert!(l.history_shown(T, false).is_empty());
    let fx = l.history_shown(T, true);
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveReadPositions)));
    // Another ticket opened meanwhile: the late page marks nothing.
    let other = Uuid::from_u128(99);
    l.open_ticket(other, None);
    assert!(l.history_shown(T, true).is_empty());
}

#[test]
fn availability_follows_the_server() {
    let mut l = live_with_open_ticket();
    assert!(l.set_availability(Availability::Away).is_some());
    let fx = l.frame(
        ServerFrame::Availability {
            user_id: ME,
            availability: Availability::Online,
        },
        0.0,
        true,
    );
    assert_eq!(fx, [Effect::Render(Region::Availability)]);
    assert_eq!(l.availability, Some(Availability::Online));
    assert!(
        l.frame(
            ServerFrame::Availability {
                user_id: OTHER,
                availability: Availability::Away
            },
            0.0,
            true
        )
        .is_empty()
    );
    l.disconnected();
    assert!(l.set_availability(Availability::Offline).is_none());
}

#[test]
fn activity_on_an_unassigned_ticket_moves_its_unread_count_quietly() {
    let mut l = live_with_open_ticket();
    let other = Uuid::from_u128(0x56);
    l.frame(
        ServerFrame::TicketEvent {
            ticket: ticket(other, 3),
            change: TicketChange::Created,
        },
        0.0,
        true,
    );
    assert_eq!(l.inbox.unread(other), 1);
    let mut later = ticket(other, 4);
    later.last_seq = 3;
    let fx = l.frame(
        ServerFrame::TicketEvent {
            ticket: later,
            change: TicketChange::Activity,
        },
        0.0,
        true,
    );
    assert_eq!(l.inbox.unread(other), 3);
    assert!(fx.contains(&Effect::Render(Region::Inbox)));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Notify { .. })));
    // Not a new ticket twice.
    assert_eq!(l.inbox.new_count(), 1);
}
