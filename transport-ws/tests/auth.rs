//! Point 1: the `auth` frame within `auth_timeout`, bad tokens, hello.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use neurochat_core::memory::MemoryStore;
use neurochat_core::service::auth::Registration;
use neurochat_core::{Config, Desk};
use neurochat_protocol::v1::{ClientFrame, ErrorCode, Limits, ServerFrame, close_codes};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connection_is_closed_with_auth_timeout() {
    within(30, async {
        let srv = spawn_server(|c| c.auth_timeout = Duration::from_millis(300)).await;
        let mut c = srv.connect().await;
        let started = Instant::now();
        let (frames, code) = c.expect_close_with_frames().await;
        let took = started.elapsed();
        assert_eq!(code, close_codes::AUTH_TIMEOUT);
        assert!(frames.is_empty(), "nothing before the close: {frames:?}");
        assert!(
            took >= Duration::from_millis(250),
            "closed too early: {took:?}"
        );
        assert!(took < Duration::from_secs(3), "closed too late: {took:?}");
        srv.wait_connections(0).await;
    })
    .await;
}

/// An access token this server never issued: same shape, another key.
async fn foreign_token() -> String {
    let mut cfg = Config::new(b"another-signing-key-0123456789abcdef".to_vec());
    cfg.password_hashing = neurochat_core::config::PasswordHashing::INSECURE_FAST_FOR_TESTS;
    let desk = Desk::builder(Arc::new(MemoryStore::new()), cfg)
        .build()
        .unwrap();
    desk.register(
        Registration {
            email: "x@example.com".to_owned(),
            password: PASSWORD.to_owned(),
            display_name: "X".to_owned(),
        },
        &ctx(),
    )
    .await
    .unwrap()
    .tokens
    .access_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_garbage_tokens_are_refused_with_auth_failed() {
    within(30, async {
        let srv = spawn_server(|_| {}).await;
        let foreign = foreign_token().await;
        for token in [foreign.as_str(), "garbage", "ncv_garbage", ""] {
            let mut c = srv.connect().await;
            c.send(ClientFrame::Auth {
                token: token.to_owned(),
            })
            .await;
            let (frames, code) = c.expect_close_with_frames().await;
            assert_eq!(code, close_codes::AUTH_FAILED, "token {token:?}");
            assert_eq!(frames.len(), 1, "one error frame for {token:?}: {frames:?}");
            assert!(
                matches!(
                    &frames[0],
                    ServerFrame::Error { req: None, error }
                        if matches!(error.code, ErrorCode::TokenInvalid | ErrorCode::Unauthenticated)
                ),
                "token {token:?}: {frames:?}"
            );
        }
        srv.wait_connections(0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_frame_other_than_auth_is_refused_with_auth_failed() {
    within(30, async {
        let srv = spawn_server(|_| {}).await;
        let customer = srv.customer("ann").await;
        let ticket = srv.open_ticket(&customer, "help").await;

        // A valid protocol frame, but not `auth`.
        let mut c = srv.connect().await;
        c.send(ClientFrame::Subscribe {
            req: 1,
            ticket_id: ticket.id.as_uuid(),
            last_seq: 0,
        })
        .await;
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::AUTH_FAILED);
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(error_code(&frames[0]), ErrorCode::Unauthenticated);

        // A ping frame is not `auth` either.
        let mut c = srv.connect().await;
        c.send(ClientFrame::Ping { nonce: Some(1) }).await;
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::AUTH_FAILED);
        assert_eq!(error_code(&frames[0]), ErrorCode::Unauthenticated);

        // Not even JSON.
        let mut c = srv.connect().await;
        c.send_raw("{{{ hello").await;
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::AUTH_FAILED);
        assert_eq!(error_code(&frames[0]), ErrorCode::Unauthenticated);

        // A binary frame.
        let mut c = srv.connect().await;
        c.send_binary(vec![1, 2, 3]).await;
        assert_eq!(c.expect_close().await, close_codes::AUTH_FAILED);

        // The token as a second frame is too late: nothing was authenticated.
        srv.wait_connections(0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_access_token_gets_hello_with_protocol_and_limits() {
    within(30, async {
        let srv = spawn_server(|c| {
            c.max_frame_bytes = 8 * 1024;
            c.frames_per_second = 7;
        })
        .await;
        let customer = srv.customer("ann").await;
        let mut c = srv.connect().await;
        let hello = c.auth(&customer.token).await;
        let ServerFrame::Hello {
            protocol,
            session_id,
            limits,
            ..
        } = hello
        else {
            panic!("expected hello, got {hello:?}");
        };
        assert_eq!(protocol, 1);
        assert_eq!(protocol, neurochat_protocol::PROTOCOL_VERSION);
        assert_eq!(
            session_id,
            customer.principal.session_id().unwrap().as_uuid()
        );
        assert_eq!(
            limits,
            Limits {
                max_frame_bytes: 8 * 1024,
                max_body_chars: 4000,
                messages_per_minute: 7 * 60,
            }
        );
        // The session serves requests.
        assert!(c.ping().await.is_empty());
        assert_eq!(srv.gateway.connections(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_visitor_token_works_too() {
    within(30, async {
        let srv = spawn_server(|_| {}).await;
        let (token, principal) = srv.visitor().await;
        assert!(token.starts_with("ncv_"));
        let mut c = srv.connect().await;
        match c.auth(&token).await {
            ServerFrame::Hello {
                protocol: 1,
                session_id,
                ..
            } => assert_eq!(session_id, principal.session_id().unwrap().as_uuid()),
            other => panic!("expected hello, got {other:?}"),
        }
        // The visitor acts as a customer: it can open a ticket.
        let req = c.req();
        let reply = c
            .request(ClientFrame::CreateTicket {
                req,
                subject: "Widget question".to_owned(),
                body: "Hi from the widget".to_owned(),
                client_msg_id: cmid(),
                category_id: None,
            })
            .await;
        let ServerFrame::Ack {
            ticket_id: Some(ticket),
            seq: Some(1),
            ..
        } = reply
        else {
            panic!("expected an ack with the ticket, got {reply:?}");
        };
        let replayed = c.subscribe(ticket, 0).await;
        assert_eq!(replayed.len(), 1);
        assert_eq!(replayed[0].body, "Hi from the widget");
        assert_eq!(replayed[0].author_id, Some(principal.user_id().as_uuid()));
    })
    .await;
}
