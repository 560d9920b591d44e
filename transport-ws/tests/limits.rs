//! Point 8: every limit enforced, each with the server still serving others.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use neurochat_protocol::v1::{ClientFrame, ErrorCode, ServerFrame, close_codes};
use support::*;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::http::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_larger_than_max_frame_bytes_closes_with_4010() {
    within(60, async {
        let srv = spawn_server(|c| c.max_frame_bytes = 1024).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let t = srv.open_ticket(&cust, "big").await.id.as_uuid();

        // A frame just under the limit is fine...
        let mut c = srv.connect_as(&cust.token).await;
        let body = "y".repeat(900);
        let (_, seq) = c.say(t, &body).await;
        assert_eq!(seq, 2);
        // ...one over it ends the connection.
        let frame = serde_json::to_string(&ClientFrame::Send {
            req: 99,
            ticket_id: t,
            client_msg_id: cmid(),
            body: "z".repeat(2000),
            internal: false,
        })
        .unwrap();
        assert!(frame.len() > 1024);
        c.send_raw(&frame).await;
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::FRAME_TOO_LARGE);
        assert!(
            !frames
                .iter()
                .any(|f| matches!(f, ServerFrame::Ack { req: 99, .. })),
            "{frames:?}"
        );
        // The oversized message was not stored.
        assert_eq!(srv.post(&cust, t, "after").await, 3);

        // Also as the very first frame, before `auth`.
        let mut c = srv.connect().await;
        c.send_raw(&format!(
            r#"{{"type":"auth","token":"{}"}}"#,
            "t".repeat(2000)
        ))
        .await;
        assert_eq!(c.expect_close().await, close_codes::FRAME_TOO_LARGE);

        by.assert_served(&srv).await;
        srv.wait_connections(1).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_rate_limited_then_closes_with_4009() {
    within(60, async {
        const MAX_VIOLATIONS: u32 = 3;
        let srv = spawn_server(|c| {
            // A burst of 5, then one frame per 500 ms: slow enough that the
            // refused frames below are refused even on a loaded machine.
            c.frames_per_second = 2;
            c.frame_burst = 5;
            c.max_violations = MAX_VIOLATIONS;
        })
        .await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let t = srv.open_ticket(&cust, "spam").await.id.as_uuid();

        // A burst over the limit is answered `rate_limited` (req echoed); the
        // connection survives while it stays within max_violations.
        let mut polite = srv.connect_as(&cust.token).await;
        for req in 1..=7 {
            polite
                .send(ClientFrame::Unsubscribe { req, ticket_id: t })
                .await;
        }
        let mut acked = Vec::new();
        let mut limited = Vec::new();
        for req in 1..=7 {
            match polite.reply(req).await {
                ServerFrame::Ack { req: r, .. } => acked.push(r),
                ServerFrame::Error {
                    req: Some(r),
                    error,
                } => {
                    assert_eq!(error.code, ErrorCode::RateLimited);
                    limited.push(r);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(acked[..5], [1, 2, 3, 4, 5], "the burst is allowed");
        assert!(!limited.is_empty(), "frames over the burst are refused");
        // Pings are exempt, and the bucket refills at the sustained rate.
        assert!(polite.ping().await.is_empty());
        tokio::time::sleep(Duration::from_millis(600)).await;
        let reply = polite
            .request(ClientFrame::Unsubscribe {
                req: 7,
                ticket_id: t,
            })
            .await;
        assert!(
            matches!(reply, ServerFrame::Ack { req: 7, .. }),
            "{reply:?}"
        );

        // A client that keeps going is closed after max_violations more.
        let mut flood = srv.connect_as(&cust.token).await;
        for req in 1..=20u64 {
            let frame =
                serde_json::to_string(&ClientFrame::Unsubscribe { req, ticket_id: t }).unwrap();
            if !flood.try_send_raw(&frame).await {
                break;
            }
        }
        let (frames, code) = flood.expect_close_with_frames().await;
        assert_eq!(code, close_codes::RATE_LIMITED);
        let errors: Vec<_> = frames
            .iter()
            .filter_map(|f| match f {
                ServerFrame::Error { req, error } => Some((req.unwrap(), error.code)),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), MAX_VIOLATIONS as usize + 1, "{frames:?}");
        assert!(errors.iter().all(|(_, c)| *c == ErrorCode::RateLimited));
        let acked = frames
            .iter()
            .filter(|f| matches!(f, ServerFrame::Ack { .. }))
            .count();
        assert!(acked >= 5, "{frames:?}");
        // The refused frames come after the burst, in order.
        assert!(errors.iter().all(|(r, _)| *r > 5));
        assert!(errors.windows(2).all(|w| w[0].0 < w[1].0));

        assert!(polite.ping().await.is_empty());
        by.assert_served(&srv).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_starts_are_throttled_per_typing_interval() {
    within(60, async {
        let srv = spawn_server(|c| c.typing_interval = Duration::from_secs(30)).await;
        let cust = srv.customer("carl").await;
        let agent = srv.agent("ann").await;
        let t = srv.open_ticket(&cust, "typing").await.id.as_uuid();
        let mut customer = srv.connect_as(&cust.token).await;
        let mut agent_ws = srv.connect_as(&agent.token).await;
        customer.subscribe(t, 0).await;
        agent_ws.subscribe(t, 0).await;

        // Two starts within the interval, then a message.
        customer
            .send(ClientFrame::TypingStart { ticket_id: t })
            .await;
        customer
            .send(ClientFrame::TypingStart { ticket_id: t })
            .await;
        let (_, seq) = customer.say(t, "typed").await;

        // The agent sees one typing start before the message.
        let mut starts = 0;
        loop {
            match agent_ws.recv().await {
                ServerFrame::Typing {
                    ticket_id,
                    user_id,
                    active: true,
                } => {
                    assert_eq!((ticket_id, user_id), (t, cust.id.as_uuid()));
                    starts += 1;
                }
                ServerFrame::Message { message } => {
                    assert_eq!(message.seq, seq);
                    break;
                }
                _ => {}
            }
        }
        assert_eq!(starts, 1, "the second typing_start was throttled");

        // Stopping resets the throttle: the next start is forwarded again.
        customer
            .send(ClientFrame::TypingStop { ticket_id: t })
            .await;
        customer
            .send(ClientFrame::TypingStart { ticket_id: t })
            .await;
        let f = agent_ws
            .recv_until(|f| matches!(f, ServerFrame::Typing { active: true, .. }))
            .await;
        assert!(matches!(f, ServerFrame::Typing { ticket_id, .. } if ticket_id == t));
        assert!(
            customer
                .ping()
                .await
                .iter()
                .all(|f| !matches!(f, ServerFrame::Error { .. }))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_subscriptions_refuses_one_more_ticket() {
    within(60, async {
        let srv = spawn_server(|c| c.max_subscriptions = 2).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let mut tickets = Vec::new();
        for i in 0..3 {
            tickets.push(srv.open_ticket(&cust, &format!("t{i}")).await.id.as_uuid());
        }
        let mut c = srv.connect_as(&cust.token).await;
        c.subscribe(tickets[0], 0).await;
        c.subscribe(tickets[1], 0).await;
        let reply = c
            .request(ClientFrame::Subscribe {
                req: 77,
                ticket_id: tickets[2],
                last_seq: 0,
            })
            .await;
        match &reply {
            ServerFrame::Error {
                req: Some(77),
                error,
            } => assert_eq!(error.code, ErrorCode::RateLimited),
            other => panic!("expected the third subscribe refused, got {other:?}"),
        }
        // Nothing of the refused ticket arrives; the followed ones still do.
        srv.post(&cust, tickets[2], "not followed").await;
        let seq = srv.post(&cust, tickets[1], "followed").await;
        let m = c.recv_message().await;
        assert_eq!((m.ticket_id, m.seq), (tickets[1], seq));
        // Re-subscribing a followed ticket is not one more.
        c.subscribe(tickets[0], 1).await;
        // After an unsubscribe there is room again.
        let reply = c
            .request(ClientFrame::Unsubscribe {
                req: 78,
                ticket_id: tickets[0],
            })
            .await;
        assert!(matches!(reply, ServerFrame::Ack { req: 78, .. }));
        let replayed = c.subscribe(tickets[2], 0).await;
        assert_eq!(replayed.len(), 2);
        by.assert_served(&srv).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_per_user_closes_the_extra_one_with_4012() {
    within(60, async {
        let srv = spawn_server(|c| c.max_connections_per_user = 2).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let first = srv.connect_as(&cust.token).await;
        let mut second = srv.connect_as(&cust.token).await;

        // The third authenticates, then is refused (no hello).
        let mut third = srv.connect().await;
        third
            .send(ClientFrame::Auth {
                token: cust.token.clone(),
            })
            .await;
        let (frames, code) = third.expect_close_with_frames().await;
        assert_eq!(code, close_codes::TOO_MANY_CONNECTIONS);
        assert!(
            !frames
                .iter()
                .any(|f| matches!(f, ServerFrame::Hello { .. })),
            "{frames:?}"
        );
        // Another login session of the same user counts too.
        let other_session = srv.login(&cust).await;
        let mut fourth = srv.connect().await;
        fourth
            .send(ClientFrame::Auth {
                token: other_session.token.clone(),
            })
            .await;
        assert_eq!(
            fourth.expect_close().await,
            close_codes::TOO_MANY_CONNECTIONS
        );

        // The two open ones and other users are still served.
        assert!(second.ping().await.is_empty());
        by.assert_served(&srv).await;

        // Closing one makes room for another.
        first.close().await;
        srv.wait_connections(2).await;
        let mut again = srv.connect_as(&cust.token).await;
        assert!(again.ping().await.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_closes_extra_connections_with_4012() {
    within(60, async {
        let srv = spawn_server(|c| c.max_connections = 3).await;
        let mut by = Bystander::new(&srv).await;
        let a = srv.customer("a").await;
        let b = srv.customer("b").await;
        let first = srv.connect_as(&a.token).await;
        let mut second = srv.connect_as(&b.token).await;
        assert_eq!(srv.gateway.connections(), 3);

        // The server is full: the next connection is closed before auth.
        for _ in 0..2 {
            let mut extra = srv.connect().await;
            let (frames, code) = extra.expect_close_with_frames().await;
            assert_eq!(code, close_codes::TOO_MANY_CONNECTIONS);
            assert!(frames.is_empty(), "{frames:?}");
        }
        assert_eq!(srv.gateway.connections(), 3);

        assert!(second.ping().await.is_empty());
        by.assert_served(&srv).await;

        // Room again after one leaves.
        first.close().await;
        srv.wait_connections(2).await;
        let mut again = srv.connect_as(&a.token).await;
        assert!(again.ping().await.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_allow_list_refuses_other_browser_origins_with_403() {
    within(60, async {
        let srv = spawn_server(|c| {
            c.allowed_origins = Some(vec!["https://app.example.com".to_owned()]);
        })
        .await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;

        // An origin not on the list: the handshake is refused with 403.
        for origin in [
            "https://evil.example.com",
            "null",
            "https://app.example.com.evil.io",
        ] {
            match Client::try_connect(srv.addr, Some(origin)).await {
                Err(WsError::Http(resp)) => assert_eq!(resp.status(), StatusCode::FORBIDDEN),
                Err(e) => panic!("expected a 403 for {origin}, got {e}"),
                Ok(_) => panic!("origin {origin} was accepted"),
            }
        }
        assert_eq!(srv.gateway.connections(), 1);

        // The allowed origin works (case-insensitively).
        for origin in ["https://app.example.com", "HTTPS://APP.EXAMPLE.COM"] {
            let mut c = Client::try_connect(srv.addr, Some(origin)).await.unwrap();
            assert!(matches!(
                c.auth(&cust.token).await,
                ServerFrame::Hello { .. }
            ));
            assert!(c.ping().await.is_empty());
        }
        // No Origin (a non-browser client) works.
        let mut c = Client::try_connect(srv.addr, None).await.unwrap();
        assert!(matches!(
            c.auth(&cust.token).await,
            ServerFrame::Hello { .. }
        ));

        by.assert_served(&srv).await;
    })
    .await;
}
