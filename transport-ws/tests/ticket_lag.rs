//! A connection that falls behind on a ticket (its live buffer overflows and
//! events are dropped) gets the missed messages re-read from the store a
//! page at a time, and its own requests are served between the pages: a
//! replay of thousands of messages does not hold the client's next `send`
//! back until it ends. Every message still arrives once, in `seq` order.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use neurochat_core::domain::TicketId;
use neurochat_core::memory::MemoryBus;
use neurochat_core::service::chat::PostMessage;
use neurochat_protocol::v1::{ClientFrame, ServerFrame};
use support::*;

/// Messages posted at once behind the connection's back.
const BURST: u64 = 2_000;
/// Messages per replay page (the default is 200).
const PAGE: u32 = 20;

/// Single-threaded on purpose: the burst is posted from the test task, so
/// the session cannot run between the publications of one group commit's
/// messages, and with a two-event ticket buffer it lags for certain.
#[tokio::test(flavor = "current_thread")]
async fn a_lagging_connection_is_served_between_replay_pages_and_gets_every_message_once() {
    within(120, async {
        let srv = spawn_server_on_bus_with(Arc::new(MemoryBus::with_capacity(2, 2)), |g| {
            g.replay_page = PAGE;
        })
        .await;
        let customer = srv.customer("chatty").await;
        let ticket = srv.open_ticket(&customer, "burst").await;
        let id = ticket.id.as_uuid();
        let mut ws = srv.connect_as(&customer.token).await;
        let opening = ws.subscribe(id, 0).await;
        assert_eq!(opening.len(), 1, "the opening message is replayed");

        let posts = (0..BURST).map(|i| {
            srv.desk.post_message(
                &customer.principal,
                PostMessage {
                    ticket_id: TicketId(id),
                    body: format!("burst {i}"),
                    client_msg_id: format!("burst-{i}"),
                    internal: false,
                },
            )
        });
        for posted in futures_util::future::join_all(posts).await {
            posted.unwrap();
        }

        // Several pages in, the client sends; the ack must come while pages
        // are still to replay (before, the whole replay ran first and the
        // ack came with one message to go). How many pages run before the
        // session sees the frame varies with timing (presumably when the
        // runtime next polls its I/O driver, which it does every 61 task
        // polls while tasks stay ready): 1,140 of the 2,000 once in CI, so
        // the bound is two pages, not half.
        let mut last_seq = 1;
        let next = |m: &neurochat_protocol::v1::MessageView, last: &mut u64| {
            assert_eq!(m.ticket_id, id);
            assert_eq!(m.seq, *last + 1, "messages arrive once, in seq order");
            *last = m.seq;
        };
        while last_seq < 1 + 3 * u64::from(PAGE) {
            match ws.recv().await {
                ServerFrame::Message { message } => next(&message, &mut last_seq),
                other => panic!("unexpected frame {other:?}"),
            }
        }
        let req = ws.req();
        ws.send(ClientFrame::Send {
            req,
            ticket_id: id,
            client_msg_id: cmid(),
            body: "sent during the replay".into(),
            internal: false,
        })
        .await;
        let own_seq = loop {
            match ws.recv().await {
                ServerFrame::Message { message } => next(&message, &mut last_seq),
                ServerFrame::Ack {
                    req: r,
                    seq: Some(seq),
                    ..
                } if r == req => break seq,
                other => panic!("unexpected frame {other:?}"),
            }
        };
        assert_eq!(own_seq, BURST + 2, "the send is stored after the burst");
        let still_to_come = own_seq - last_seq;
        assert!(
            still_to_come > 2 * u64::from(PAGE),
            "the send was acknowledged with only {still_to_come} of {BURST} messages \
             still to replay: it waited for the replay"
        );

        // The rest of the burst, then the client's own message, each once.
        while last_seq < own_seq {
            match ws.recv().await {
                ServerFrame::Message { message } => next(&message, &mut last_seq),
                other => panic!("unexpected frame {other:?}"),
            }
        }
        // Nothing more: no message is written twice.
        let more = ws.next_within(std::time::Duration::from_millis(300)).await;
        assert!(
            more.is_none(),
            "unexpected frame after the last message: {more:?}"
        );
    })
    .await;
}

/// Two connections fall behind at once, with an outbound queue far smaller
/// than the store's pages: they take turns (one replay page on the server
/// at a time), each page fits the half of the queue a turn may fill, and
/// each still gets every message once, in order.
#[tokio::test(flavor = "current_thread")]
async fn connections_behind_at_once_take_turns_through_small_queues() {
    within(120, async {
        let srv = spawn_server_on_bus_with(Arc::new(MemoryBus::with_capacity(2, 2)), |g| {
            g.outbound_queue = 16;
        })
        .await;
        let mut clients = Vec::new();
        for name in ["first", "second"] {
            let customer = srv.customer(name).await;
            let id = srv.open_ticket(&customer, name).await.id.as_uuid();
            let mut ws = srv.connect_as(&customer.token).await;
            assert_eq!(ws.subscribe(id, 0).await.len(), 1);
            clients.push((customer, id, ws));
        }
        let desk = &srv.desk;
        let posts = clients.iter().flat_map(|(customer, id, _)| {
            (0..300).map(move |i| {
                desk.post_message(
                    &customer.principal,
                    PostMessage {
                        ticket_id: TicketId(*id),
                        body: format!("burst {i}"),
                        client_msg_id: format!("burst-{i}"),
                        internal: false,
                    },
                )
            })
        });
        for posted in futures_util::future::join_all(posts).await {
            posted.unwrap();
        }
        // Read both sockets in turn, a frame at a time, so neither client
        // is slow.
        let mut last = [1u64, 1u64];
        while last != [301, 301] {
            for (k, (_, id, ws)) in clients.iter_mut().enumerate() {
                if last[k] == 301 {
                    continue;
                }
                match ws.next_within(std::time::Duration::from_millis(20)).await {
                    None => {}
                    Some(Incoming::Frame(ServerFrame::Message { message })) => {
                        assert_eq!(message.ticket_id, *id);
                        assert_eq!(message.seq, last[k] + 1, "once, in seq order");
                        last[k] = message.seq;
                    }
                    Some(other) => panic!("unexpected {other:?}"),
                }
            }
        }
        for (_, _, ws) in &mut clients {
            let more = ws.next_within(std::time::Duration::from_millis(300)).await;
            assert!(
                more.is_none(),
                "unexpected frame after the last message: {more:?}"
            );
        }
    })
    .await;
}
