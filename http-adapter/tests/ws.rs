//! `GET /ws` upgrades to the real-time gateway (transport-ws's session over
//! axum's WebSocket): auth with an access or visitor token, then ping/pong;
//! the `Origin` allow-list refuses other browser origins at the handshake.
#![allow(clippy::unwrap_used)]

mod support;

use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_protocol::v1::{ClientFrame, ServerFrame};
use serde_json::json;
use support::{STEP, spawn_app, spawn_app_with};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &support::App, origin: Option<&str>) -> Result<Ws, WsError> {
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).unwrap());
    }
    let (ws, _) = timeout(STEP, tokio_tungstenite::connect_async(req))
        .await
        .expect("connect timed out")?;
    Ok(ws)
}

async fn send(ws: &mut Ws, frame: ClientFrame) {
    let text = serde_json::to_string(&frame).unwrap();
    ws.send(Message::Text(text.into())).await.unwrap();
}

async fn recv(ws: &mut Ws) -> ServerFrame {
    loop {
        let m = timeout(STEP, ws.next())
            .await
            .expect("no frame in time")
            .expect("socket closed")
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn auth_and_ping(ws: &mut Ws, token: &str) {
    send(
        ws,
        ClientFrame::Auth {
            token: token.to_owned(),
        },
    )
    .await;
    let hello = recv(ws).await;
    assert!(
        matches!(hello, ServerFrame::Hello { protocol: 1, .. }),
        "expected hello, got {hello:?}"
    );
    send(ws, ClientFrame::Ping { nonce: Some(7) }).await;
    loop {
        match recv(ws).await {
            ServerFrame::Pong { nonce: Some(7), .. } => break,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn access_token_auth_and_ping() {
    let app = spawn_app().await;
    let token = app.customer_token("Wes").await;
    let mut ws = connect(&app, None).await.unwrap();
    auth_and_ping(&mut ws, &token).await;
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn visitor_token_auth_and_ping() {
    let app = spawn_app().await;
    let v = app.post("/api/v1/widget/sessions", json!({})).await.json();
    let mut ws = connect(&app, None).await.unwrap();
    auth_and_ping(&mut ws, v["visitor_token"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_bad_token_is_refused_by_the_session() {
    let app = spawn_app().await;
    let mut ws = connect(&app, None).await.unwrap();
    send(
        &mut ws,
        ClientFrame::Auth {
            token: "nope".into(),
        },
    )
    .await;
    // The gateway answers with an error and/or closes; it never says hello.
    let end = timeout(STEP, async {
        while let Some(Ok(m)) = ws.next().await {
            match m {
                Message::Text(t) => {
                    let f: ServerFrame = serde_json::from_str(t.as_str()).unwrap();
                    assert!(!matches!(f, ServerFrame::Hello { .. }), "{f:?}");
                }
                Message::Close(_) => return true,
                _ => {}
            }
        }
        true
    })
    .await
    .expect("the session ended");
    assert!(end);
}

#[tokio::test]
async fn origin_allow_list_at_the_handshake() {
    let app = spawn_app_with(|c| {
        c.gateway.allowed_origins = Some(vec!["https://shop.example".into()]);
    })
    .await;
    let token = app.customer_token("Ori").await;
    match connect(&app, Some("https://evil.example")).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let mut ws = connect(&app, Some("https://shop.example")).await.unwrap();
    auth_and_ping(&mut ws, &token).await;
}

#[tokio::test]
async fn a_plain_get_is_a_4xx_problem() {
    let app = spawn_app().await;
    let r = app.get("/ws", None).await;
    assert!((400..500).contains(&r.status), "{}", r.status);
    r.problem(r.status, "malformed_request");
}
