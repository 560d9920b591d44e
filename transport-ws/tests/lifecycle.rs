//! Point 10: internal notes, typing and receipts, token expiry and re-auth,
//! logout/revocation, and agent presence.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use neurochat_core::domain::Availability;
use neurochat_protocol::v1::{
    self as wire, ClientFrame, ErrorCode, MessageKind, ServerFrame, close_codes,
};
use support::*;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_never_reach_a_customer_socket() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let colleague = srv.agent("bea").await;
        let t = srv.open_ticket(&cust, "notes").await.id.as_uuid();
        let mut customer = srv.connect_as(&cust.token).await;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        let mut colleague_ws = srv.connect_as(&colleague.token).await;
        customer.subscribe(t, 0).await;
        agent_ws.subscribe(t, 0).await;
        colleague_ws.subscribe(t, 0).await;

        let (note_id, note_seq) = agent_ws
            .say_with(t, &cmid(), "customer seems angry", true)
            .await;
        let (reply_id, reply_seq) = agent_ws.say(t, "Happy to help!").await;
        assert_eq!(reply_seq, note_seq + 1);

        // The customer gets the reply, never the note.
        let m = customer.recv_message().await;
        assert_eq!((m.id, m.seq, m.kind), (reply_id, reply_seq, MessageKind::Agent));
        for f in customer.ping().await {
            assert!(!matches!(f, ServerFrame::Message { .. }), "{f:?}");
        }
        // Staff see both, in order.
        let a = colleague_ws.recv_message().await;
        assert_eq!((a.id, a.kind), (note_id, MessageKind::InternalNote));
        assert_eq!(colleague_ws.recv_message().await.id, reply_id);

        // Nor does a replay from 0 on a new customer connection contain it.
        let mut again = srv.connect_as(&cust.token).await;
        let replayed = again.subscribe(t, 0).await;
        assert_eq!(
            replayed.iter().map(|m| m.seq).collect::<Vec<_>>(),
            vec![1, reply_seq]
        );
        assert!(replayed.iter().all(|m| m.kind != MessageKind::InternalNote));
        // A customer cannot write one.
        let req = customer.req();
        let reply = customer
            .request(ClientFrame::Send {
                req,
                ticket_id: t,
                client_msg_id: cmid(),
                body: "sneaky".to_owned(),
                internal: true,
            })
            .await;
        assert!(
            matches!(&reply, ServerFrame::Error { error, .. } if error.code == ErrorCode::Forbidden),
            "{reply:?}"
        );
        // Later public messages still reach the customer; the note stays out.
        agent_ws.say_with(t, &cmid(), "second note", true).await;
        let (_, last) = agent_ws.say(t, "anything else?").await;
        let m = customer.recv_message().await;
        assert_eq!(m.seq, last);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_and_receipts_reach_the_other_side() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "receipts").await.id.as_uuid();
        let mut customer = srv.connect_as(&cust.token).await;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        customer.subscribe(t, 0).await;
        agent_ws.subscribe(t, 0).await;

        // Typing, both ways.
        customer.send(ClientFrame::TypingStart { ticket_id: t }).await;
        let f = agent_ws
            .recv_until(|f| matches!(f, ServerFrame::Typing { .. }))
            .await;
        assert_eq!(
            f,
            ServerFrame::Typing {
                ticket_id: t,
                user_id: cust.id.as_uuid(),
                active: true
            }
        );
        customer.send(ClientFrame::TypingStop { ticket_id: t }).await;
        let f = agent_ws
            .recv_until(|f| matches!(f, ServerFrame::Typing { .. }))
            .await;
        assert!(matches!(f, ServerFrame::Typing { active: false, .. }), "{f:?}");
        agent_ws.send(ClientFrame::TypingStart { ticket_id: t }).await;
        let f = customer
            .recv_until(|f| matches!(f, ServerFrame::Typing { .. }))
            .await;
        assert_eq!(
            f,
            ServerFrame::Typing {
                ticket_id: t,
                user_id: agent.id.as_uuid(),
                active: true
            }
        );

        // The agent replies; the customer marks it delivered, then read.
        let (_, seq) = agent_ws.say(t, "Did you try turning it off and on?").await;
        assert_eq!(customer.recv_message().await.seq, seq);
        customer
            .send(ClientFrame::MarkDelivered { ticket_id: t, seq })
            .await;
        customer.send(ClientFrame::MarkRead { ticket_id: t, seq }).await;
        let mut marks = Vec::new();
        while marks.last().map(|r: &wire::ReceiptView| r.read_seq) != Some(seq) {
            if let ServerFrame::Receipt { receipt } = agent_ws
                .recv_until(|f| matches!(f, ServerFrame::Receipt { .. }))
                .await
            {
                assert_eq!(receipt.ticket_id, t);
                assert_eq!(receipt.user_id, cust.id.as_uuid());
                marks.push(receipt);
            }
        }
        assert_eq!(marks[0].delivered_seq, seq);
        assert_eq!(marks.last().unwrap().read_seq, seq);

        // And the agent's read mark reaches the customer.
        agent_ws.send(ClientFrame::MarkRead { ticket_id: t, seq }).await;
        let f = customer
            .recv_until(|f| matches!(f, ServerFrame::Receipt { receipt } if receipt.user_id == agent.id.as_uuid()))
            .await;
        let ServerFrame::Receipt { receipt } = f else {
            unreachable!()
        };
        assert_eq!(receipt.read_seq, seq);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_token_asks_for_reauth_and_closes_4003_without_it() {
    within(60, async {
        let srv = spawn_server_with(
            |d| d.tokens.access_ttl = time::Duration::seconds(2),
            |g| {
                g.reauth_lead = Duration::from_secs(1);
                g.reauth_grace = Duration::from_secs(1);
            },
        )
        .await;
        let cust = srv.customer("carl").await;
        let claims = srv.desk.verify_access_token(&cust.token).unwrap();
        let t = srv.open_ticket(&cust, "long chat").await.id.as_uuid();

        // This connection never re-authenticates.
        let mut lapsing = srv.connect_as(&cust.token).await;
        let lapse = tokio::spawn(async move {
            let started = Instant::now();
            let (frames, code) = lapsing.expect_close_with_frames().await;
            (frames, code, started.elapsed())
        });

        // This one answers every reauth with a fresh token.
        let mut kept = srv.connect_as(&cust.token).await;
        kept.subscribe(t, 0).await;
        let mut refresh = cust.refresh.clone();
        let mut reauths = 0;
        let mut first_expiry = None;
        // Run past the first token's expiry plus the grace period.
        let until = Instant::now() + Duration::from_millis(3_600);
        while Instant::now() < until {
            let left = until.saturating_duration_since(Instant::now());
            match kept.next_within(left).await {
                None => break,
                Some(Incoming::Frame(ServerFrame::Reauth { expires_at })) => {
                    first_expiry.get_or_insert(expires_at);
                    reauths += 1;
                    let s = srv.desk.refresh(&refresh, &ctx()).await.unwrap();
                    refresh = s.tokens.refresh_token;
                    kept.send(ClientFrame::Auth {
                        token: s.tokens.access_token,
                    })
                    .await;
                }
                Some(Incoming::Frame(_)) => {}
                Some(other) => panic!("the re-authenticated connection ended: {other:?}"),
            }
        }
        assert!(reauths >= 1, "a reauth frame arrived");
        assert_eq!(first_expiry, Some(claims.expires_at));
        // Still open and serving, well past the first token's expiry + grace.
        assert!(srv.desk.now() > claims.expires_at + time::Duration::seconds(1));
        for f in kept.ping().await {
            assert!(matches!(f, ServerFrame::Reauth { .. }), "{f:?}");
        }
        let seq = srv.post(&cust, t, "still here").await;
        assert_eq!(kept.recv_message().await.seq, seq);

        // The other one got the same reauth frame, then 4003.
        let (frames, code, took) = within(10, lapse).await.unwrap();
        assert_eq!(code, close_codes::TOKEN_EXPIRED);
        assert!(
            matches!(frames.as_slice(), [ServerFrame::Reauth { expires_at }] if *expires_at == claims.expires_at),
            "{frames:?}"
        );
        assert!(took <= Duration::from_secs(4), "closed after {took:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_disabling_close_live_connections_with_4011() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let other_session = srv.login(&cust).await;
        let mut c1 = srv.connect_as(&cust.token).await;
        let mut c1b = srv.connect_as(&cust.token).await;
        let mut c2 = srv.connect_as(&other_session.token).await;

        // Logging out one session closes its connections, not the other session's.
        srv.desk.logout(&cust.principal, &ctx()).await.unwrap();
        assert_eq!(c1.expect_close().await, close_codes::SESSION_REVOKED);
        assert_eq!(c1b.expect_close().await, close_codes::SESSION_REVOKED);
        assert!(c2.ping().await.is_empty());
        // The revoked token no longer authenticates a new connection.
        let mut c3 = srv.connect().await;
        c3.send(ClientFrame::Auth {
            token: cust.token.clone(),
        })
        .await;
        let (frames, code) = c3.expect_close_with_frames().await;
        assert_eq!(code, close_codes::AUTH_FAILED);
        assert_eq!(error_code(&frames[0]), ErrorCode::SessionRevoked);

        // Disabling the account closes every remaining connection.
        let admin = srv.admin().await;
        srv.desk
            .set_disabled(&admin.principal, cust.id, true, &ctx())
            .await
            .unwrap();
        assert_eq!(c2.expect_close().await, close_codes::SESSION_REVOKED);

        by.assert_served(&srv).await;
        srv.wait_connections(1).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_presence_follows_connections_with_a_grace_period() {
    within(60, async {
        let grace = Duration::from_millis(500);
        let srv = spawn_server(|c| c.presence_grace = grace).await;
        let admin = srv.admin().await;
        let agent = srv.agent("ann").await;
        let availability = |u: neurochat_core::domain::User| u.availability;
        let get = || srv.desk.get_user(&admin.principal, agent.id);
        assert_eq!(availability(get().await.unwrap()), Availability::Offline);

        // The admin's console follows presence over its own socket.
        let mut console = srv.connect_as(&admin.token).await;
        let reply = console
            .request(ClientFrame::SubscribeInbox { req: 1 })
            .await;
        assert!(
            matches!(reply, ServerFrame::Ack { req: 1, .. }),
            "{reply:?}"
        );
        let presence_of = |f: &ServerFrame| match f {
            ServerFrame::Availability {
                user_id,
                availability,
            } if *user_id == agent.id.as_uuid() => Some(*availability),
            _ => None,
        };

        // Connecting makes the agent online.
        let first = srv.connect_as(&agent.token).await;
        let f = console.recv_until(|f| presence_of(f).is_some()).await;
        assert_eq!(presence_of(&f), Some(wire::Availability::Online));
        assert_eq!(availability(get().await.unwrap()), Availability::Online);

        // A second connection, then the first closes: still online.
        let second = srv.connect_as(&agent.token).await;
        first.close().await;
        srv.wait_connections(2).await;
        // Reconnecting within the grace period keeps them online, too.
        second.close().await;
        let third = srv.connect_as(&agent.token).await;
        for f in console.quiet(grace * 2).await {
            assert_eq!(presence_of(&f), None, "presence changed: {f:?}");
        }
        assert_eq!(availability(get().await.unwrap()), Availability::Online);

        // The last connection closes: offline once the grace period has passed.
        let closed = Instant::now();
        third.close().await;
        let f = console.recv_until(|f| presence_of(f).is_some()).await;
        let took = closed.elapsed();
        assert_eq!(presence_of(&f), Some(wire::Availability::Offline));
        assert!(
            took >= grace - Duration::from_millis(20),
            "offline after {took:?}"
        );
        assert_eq!(availability(get().await.unwrap()), Availability::Offline);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_are_pinged_and_silent_ones_dropped_after_the_idle_timeout() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    within(60, async {
        let srv = spawn_server(|g| {
            g.ping_interval = Duration::from_millis(200);
            g.idle_timeout = Duration::from_secs(1);
        })
        .await;
        let cust = srv.customer("carl").await;

        // A client that keeps reading answers every ping (the library does),
        // so it stays connected well past the idle timeout.
        let mut alive = srv.connect_as(&cust.token).await;
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let reader = tokio::spawn(async move {
            let started = Instant::now();
            let mut pings = 0;
            loop {
                tokio::select! {
                    _ = &mut stop_rx => return (alive, pings, started.elapsed()),
                    m = alive.ws.next() => match m {
                        Some(Ok(Message::Ping(_))) => pings += 1,
                        other => panic!("unexpected while idle: {other:?}"),
                    },
                }
            }
        });

        // A client that stops reading answers none: dropped once the idle
        // timeout has passed, not before.
        let silent = srv.connect_as(&cust.token).await;
        let started = Instant::now();
        srv.wait_connections(2).await;
        srv.wait_connections(1).await;
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(800), "dropped after {took:?}");
        drop(silent);

        tokio::time::sleep(Duration::from_millis(1_500)).await;
        stop_tx.send(()).unwrap();
        let (mut alive, pings, idle) = reader.await.unwrap();
        assert!(idle > Duration::from_secs(2), "{idle:?}");
        let expected = idle.as_millis() / 200;
        assert!(
            (expected.saturating_sub(3)..=expected + 1).contains(&pings),
            "{pings} pings in {idle:?}"
        );
        assert!(alive.ping().await.is_empty());
        assert_eq!(srv.gateway.connections(), 1);
    })
    .await;
}
