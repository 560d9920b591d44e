//! Points 2–5: who may follow a ticket, exactly-once in-order delivery across
//! a dropped socket, idempotent resends, and a server restart.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use neurochat_core::domain::TicketId;
use neurochat_core::service::chat::HistoryPage;
use neurochat_protocol::v1::{ClientFrame, ErrorCode, MessageView, ServerFrame, close_codes};
use support::*;
use uuid::Uuid;

/// Asserts `seqs` is exactly `from..=to`, in order, without duplicates.
fn assert_exact(seqs: &[u64], from: u64, to: u64) {
    let want: Vec<u64> = (from..=to).collect();
    assert_eq!(
        seqs,
        want.as_slice(),
        "expected exactly {from}..={to} in order"
    );
}

/// Whether a frame mentions `ticket` in any way.
fn mentions(f: &ServerFrame, ticket: Uuid) -> bool {
    match f {
        ServerFrame::Message { message } => message.ticket_id == ticket,
        ServerFrame::TicketEvent { ticket: t, .. } => t.id == ticket,
        ServerFrame::Typing { ticket_id, .. } => *ticket_id == ticket,
        ServerFrame::Receipt { receipt } => receipt.ticket_id == ticket,
        ServerFrame::Escalation { ticket_id, .. } => *ticket_id == ticket,
        ServerFrame::Ack { ticket_id, .. } => *ticket_id == Some(ticket),
        _ => false,
    }
}

// ---- 2. cross-customer subscribe -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_cannot_follow_another_customers_ticket() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let a = srv.customer("alice").await;
        let b = srv.customer("bob").await;
        let ticket = srv.open_ticket(&a, "alice's private problem").await;
        let t = ticket.id.as_uuid();

        let mut alice = srv.connect_as(&a.token).await;
        assert_eq!(alice.subscribe(t, 0).await.len(), 1);
        let mut bob = srv.connect_as(&b.token).await;

        // Subscribing is refused as if the ticket did not exist.
        let reply = bob
            .request(ClientFrame::Subscribe {
                req: 41,
                ticket_id: t,
                last_seq: 0,
            })
            .await;
        match &reply {
            ServerFrame::Error {
                req: Some(41),
                error,
            } => assert_eq!(error.code, ErrorCode::NotFound),
            other => panic!("expected not_found for req 41, got {other:?}"),
        }
        // So is posting into it, typing in it and marking it read.
        let reply = bob
            .request(ClientFrame::Send {
                req: 42,
                ticket_id: t,
                client_msg_id: cmid(),
                body: "let me in".to_owned(),
                internal: false,
            })
            .await;
        assert!(
            matches!(&reply, ServerFrame::Error { req: Some(42), error } if error.code == ErrorCode::NotFound),
            "{reply:?}"
        );
        bob.send(ClientFrame::TypingStart { ticket_id: t }).await;
        bob.send(ClientFrame::MarkRead { ticket_id: t, seq: 1 })
            .await;

        // Alice's conversation goes on: messages, typing, a receipt.
        alice.send(ClientFrame::TypingStart { ticket_id: t }).await;
        for i in 0..3 {
            alice.say(t, &format!("secret {i}")).await;
        }
        alice
            .send(ClientFrame::MarkRead { ticket_id: t, seq: 4 })
            .await;
        let agent = srv.agent("ann").await;
        srv.post(&agent, t, "agent reply").await;
        // Alice sees all of it (proves the events were published)...
        let mut seen = Vec::new();
        while seen.len() < 4 {
            seen.push(alice.recv_message().await.seq);
        }
        assert_exact(&seen, 2, 5);

        // ...Bob none of it: his session answers, and nothing of Alice's arrives.
        let mut frames = bob.ping().await;
        frames.extend(bob.quiet(Duration::from_millis(500)).await);
        frames.extend(bob.ping().await);
        for f in &frames {
            assert!(!mentions(f, t), "bob received {f:?}");
            assert!(
                !matches!(f, ServerFrame::Message { .. } | ServerFrame::Typing { .. } | ServerFrame::Receipt { .. }),
                "bob received {f:?}"
            );
        }
        // Only the two error replies to Bob's frames without `req` may have arrived.
        for f in &frames {
            assert!(matches!(f, ServerFrame::Error { req: None, error } if error.code == ErrorCode::NotFound), "{f:?}");
        }
    })
    .await;
}

// ---- 3. exactly once, in order, across a dropped socket ---------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_is_replayed_exactly_once_in_order_after_a_dropped_socket() {
    within(60, async {
        let srv = spawn_server(|c| {
            c.frames_per_second = 1000;
            c.frame_burst = 1000;
        })
        .await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "order").await.id.as_uuid();

        let mut customer = srv.connect_as(&cust.token).await;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        let mut seqs: Vec<u64> = customer
            .subscribe(t, 0)
            .await
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(agent_ws.subscribe(t, 0).await.len(), 1);

        // Messages flow both ways.
        for i in 0..3 {
            let (_, seq) = agent_ws.say(t, &format!("hi {i}")).await;
            assert_eq!(customer.recv_message().await.seq, seq);
            seqs.push(seq);
        }
        let (_, seq) = customer.say(t, "thanks").await;
        assert_eq!(customer.recv_message().await.seq, seq);
        seqs.push(seq);
        assert_exact(&seqs, 1, 5);

        // The customer's socket dies without a closing handshake.
        customer.drop_abruptly();
        srv.wait_connections(1).await;

        // The agent keeps writing into the gap.
        let mut gap = Vec::new();
        for i in 0..20 {
            gap.push(agent_ws.say(t, &format!("during the gap {i}")).await.1);
        }
        assert_exact(&gap, 6, 25);

        // Reconnect and resume from the last seq held: exactly the gap, in order.
        let mut customer = srv.connect_as(&cust.token).await;
        let replayed = customer.subscribe(t, *seqs.last().unwrap()).await;
        let replayed: Vec<u64> = replayed.iter().map(|m| m.seq).collect();
        assert_exact(&replayed, 6, 25);
        seqs.extend(replayed);

        // Then live ones.
        for i in 0..5 {
            let (_, seq) = agent_ws.say(t, &format!("live {i}")).await;
            assert_eq!(customer.recv_message().await.seq, seq);
            seqs.push(seq);
        }
        assert_exact(&seqs, 1, 30);
        // And nothing more (no late duplicates).
        for f in customer.ping().await {
            assert!(
                !matches!(f, ServerFrame::Message { .. }),
                "duplicate: {f:?}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_while_the_agent_keeps_sending_is_exactly_once_in_order() {
    within(90, async {
        let srv = spawn_server(|c| {
            c.frames_per_second = 1000;
            c.frame_burst = 1000;
        })
        .await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "busy").await.id.as_uuid();

        const TOTAL: usize = 200;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        // The sender writes continuously, acknowledged one by one, while the
        // customer drops and resumes several times; it reports its last seq.
        let (done_tx, done_rx) = tokio::sync::watch::channel(None::<u64>);
        let sender = tokio::spawn(async move {
            let mut last = 0;
            for i in 0..TOTAL {
                let (_, seq) = agent_ws.say(t, &format!("m{i}")).await;
                assert!(seq > last, "acked seqs increase");
                last = seq;
            }
            done_tx.send(Some(last)).unwrap();
            agent_ws
        });

        let mut got: Vec<MessageView> = Vec::new();
        let mut last_seq = 0;
        let mut reconnects = 0;
        let final_seq = loop {
            let mut customer = srv.connect_as(&cust.token).await;
            for m in customer.subscribe(t, last_seq).await {
                last_seq = m.seq;
                got.push(m);
            }
            // Read some live messages, then drop the socket mid-stream; once
            // the sender is done, read up to its last seq.
            let mut read = 0;
            loop {
                let fin = *done_rx.borrow();
                if fin == Some(last_seq) || (fin.is_none() && reconnects < 6 && read >= 10) {
                    break;
                }
                match customer.next_within(Duration::from_millis(200)).await {
                    Some(Incoming::Frame(ServerFrame::Message { message })) => {
                        last_seq = message.seq;
                        got.push(message);
                        read += 1;
                    }
                    None | Some(Incoming::Frame(_)) => {}
                    Some(other) => panic!("customer connection ended: {other:?}"),
                }
            }
            let fin = *done_rx.borrow();
            if fin == Some(last_seq) {
                // Nothing after the end: no late duplicate.
                for f in customer.ping().await {
                    assert!(
                        !matches!(f, ServerFrame::Message { .. }),
                        "duplicate: {f:?}"
                    );
                }
                break last_seq;
            }
            customer.drop_abruptly();
            reconnects += 1;
        };
        within(10, sender).await.unwrap();
        assert!(
            reconnects >= 3,
            "the customer resumed only {reconnects} times"
        );
        let seqs: Vec<u64> = got.iter().map(|m| m.seq).collect();
        assert_exact(&seqs, 1, final_seq);
        assert_eq!(final_seq, TOTAL as u64 + 1);
        // Bodies match the store (no message confused with another).
        let stored = srv
            .desk
            .list_messages(&cust.principal, TicketId(t), HistoryPage::After(0), 200)
            .await
            .unwrap();
        let mut stored: Vec<(i64, String)> = stored.into_iter().map(|m| (m.seq, m.body)).collect();
        let more = srv
            .desk
            .list_messages(&cust.principal, TicketId(t), HistoryPage::After(200), 200)
            .await
            .unwrap();
        stored.extend(more.into_iter().map(|m| (m.seq, m.body)));
        let seen: Vec<(i64, String)> = got
            .into_iter()
            .map(|m| (i64::try_from(m.seq).unwrap(), m.body))
            .collect();
        assert_eq!(seen, stored);
    })
    .await;
}

// ---- 4. resend after a lost ack -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_with_the_same_client_msg_id_is_acked_identically_and_shown_once() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "resend").await.id.as_uuid();
        let mut customer = srv.connect_as(&cust.token).await;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        customer.subscribe(t, 0).await;
        agent_ws.subscribe(t, 0).await;

        let x = "lost-ack-1";
        let (id1, seq1) = customer.say_with(t, x, "did this arrive?", false).await;
        // The ack was "lost": the client sends the same message again.
        let (id2, seq2) = customer.say_with(t, x, "did this arrive?", false).await;
        assert_eq!(id1, id2);
        assert_eq!(seq1, seq2);
        // A third try on a new connection, too.
        let mut again = srv.connect_as(&cust.token).await;
        let (id3, seq3) = again.say_with(t, x, "did this arrive?", false).await;
        assert_eq!((id3, seq3), (id1, seq1));

        // A later message proves the order of what the agent saw.
        let (_, next) = customer.say(t, "and this one").await;
        assert_eq!(next, seq1 + 1);
        let first = agent_ws.recv_message().await;
        assert_eq!((first.id, first.seq), (id1, seq1));
        assert_eq!(first.client_msg_id.as_deref(), Some(x));
        let second = agent_ws.recv_message().await;
        assert_eq!(second.seq, next, "the resend was delivered again");
        // The customer's own socket saw it once too.
        let own = vec![
            customer.recv_message().await.seq,
            customer.recv_message().await.seq,
        ];
        assert_eq!(own, vec![seq1, next]);
        for f in agent_ws.ping().await {
            assert!(
                !matches!(f, ServerFrame::Message { .. }),
                "duplicate: {f:?}"
            );
        }
        let history = srv
            .desk
            .list_messages(&cust.principal, TicketId(t), HistoryPage::After(0), 50)
            .await
            .unwrap();
        assert_eq!(history.len(), 3, "first message, the resent one, the next");
    })
    .await;
}

// ---- 5. server restart mid-conversation ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_server_restart_exactly_once_in_order() {
    within(90, async {
        let srv = spawn_server(|c| {
            c.frames_per_second = 1000;
            c.frame_burst = 1000;
        })
        .await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let mut customer = srv.connect_as(&cust.token).await;
        // The ticket is opened over the socket, too.
        let req = customer.req();
        let reply = customer
            .request(ClientFrame::CreateTicket {
                req,
                subject: "restart".to_owned(),
                body: "first".to_owned(),
                client_msg_id: cmid(),
                category_id: None,
            })
            .await;
        let ServerFrame::Ack {
            ticket_id: Some(t),
            seq: Some(1),
            ..
        } = reply
        else {
            panic!("{reply:?}")
        };
        let mut acked = vec![(1u64, "first".to_owned())];
        let mut agent_ws = srv.connect_as(&agent.token).await;
        agent_ws.subscribe(t, 0).await;
        customer.subscribe(t, 0).await;
        for i in 0..10 {
            let body = format!("customer {i}");
            let (_, seq) = customer.say(t, &body).await;
            acked.push((seq, body));
            let body = format!("agent {i}");
            let (_, seq) = agent_ws.say(t, &body).await;
            acked.push((seq, body));
        }

        // Shut down: every client is told to go away (1001).
        let srv = {
            let mut srv = srv;
            srv.shutdown_tx.take().unwrap().send(()).unwrap();
            assert_eq!(customer.expect_close().await, close_codes::GOING_AWAY);
            assert_eq!(agent_ws.expect_close().await, close_codes::GOING_AWAY);
            srv.restart().await
        };

        // A new server on the same file: resume from 0.
        let mut customer = srv.connect_as(&cust.token).await;
        let replayed = customer.subscribe(t, 0).await;
        let got: Vec<(u64, String)> = replayed.into_iter().map(|m| (m.seq, m.body)).collect();
        acked.sort();
        assert_eq!(got, acked);
        // The conversation goes on with the next seq.
        let mut agent_ws = srv.connect_as(&agent.token).await;
        agent_ws.subscribe(t, 21).await;
        let (_, seq) = agent_ws.say(t, "welcome back").await;
        assert_eq!(seq, 22);
        assert_eq!(customer.recv_message().await.seq, 22);
    })
    .await;
}

// ---- long gaps: several store pages through a small queue, live traffic on top ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_gap_is_replayed_in_full_through_a_small_queue_with_live_traffic() {
    within(120, async {
        let srv = spawn_server(|c| {
            // Larger than the store's largest page (200): must still page on.
            c.replay_page = 500;
            // Much smaller than the gap: the replay is paced by the socket.
            c.outbound_queue = 16;
        })
        .await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "long").await.id.as_uuid();
        for i in 0..450 {
            srv.post(&agent, t, &format!("backlog {i}")).await;
        }
        // Live messages keep arriving while the customer replays.
        let desk = srv.desk.clone();
        let principal = agent.principal.clone();
        let live = tokio::spawn(async move {
            for i in 0..50 {
                desk.post_message(
                    &principal,
                    neurochat_core::service::chat::PostMessage {
                        ticket_id: TicketId(t),
                        body: format!("live {i}"),
                        client_msg_id: cmid(),
                        internal: false,
                    },
                )
                .await
                .unwrap();
            }
        });
        let mut customer = srv.connect_as(&cust.token).await;
        let mut seqs: Vec<u64> = customer
            .subscribe(t, 0)
            .await
            .iter()
            .map(|m| m.seq)
            .collect();
        assert!(
            seqs.len() >= 451,
            "the whole stored gap is replayed: {}",
            seqs.len()
        );
        within(30, live).await.unwrap();
        while seqs.last() != Some(&501) {
            seqs.push(customer.recv_message().await.seq);
        }
        assert_exact(&seqs, 1, 501);
        for f in customer.ping().await {
            assert!(
                !matches!(f, ServerFrame::Message { .. }),
                "duplicate: {f:?}"
            );
        }
        assert_eq!(
            srv.gateway
                .stats()
                .slow_consumers
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_stops_a_ticket_and_resubscribing_resumes_it_exactly_once() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("alice").await;
        let t = srv.open_ticket(&cust, "on and off").await.id.as_uuid();

        // An agent follows the ticket's public and staff topics as one stream.
        let mut a = srv.connect_as(&agent.token).await;
        assert_eq!(a.subscribe(t, 0).await.len(), 1);
        let s2 = srv.post(&cust, t, "two").await;
        assert_eq!(a.recv_message().await.seq, s2);

        let req = a.req();
        let ack = a
            .request(ClientFrame::Unsubscribe { req, ticket_id: t })
            .await;
        assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
        let s3 = srv.post(&cust, t, "three").await;
        let s4 = srv.post(&cust, t, "four").await;
        let seen = a.quiet(Duration::from_millis(300)).await;
        assert!(
            !seen
                .iter()
                .any(|f| matches!(f, ServerFrame::Message { .. }) && mentions(f, t)),
            "messages after unsubscribing: {seen:?}"
        );

        // Resubscribing from what it has replays the gap once, then live.
        let replayed: Vec<u64> = a.subscribe(t, s2).await.iter().map(|m| m.seq).collect();
        assert_exact(&replayed, s3, s4);
        let s5 = srv.post(&cust, t, "five").await;
        assert_eq!(a.recv_message().await.seq, s5);
        assert!(a.ping().await.is_empty());
    })
    .await;
}
