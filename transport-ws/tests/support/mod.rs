//! Shared set-up for the gateway's end-to-end tests: a real server
//! (`neurochat_transport_ws::serve`) on 127.0.0.1 over a SQLite file in a
//! temporary directory, and real WebSocket clients (tokio-tungstenite).
//!
//! Every wait is bounded: client reads and writes time out after [`STEP`],
//! and each test wraps its body in [`within`].
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use neurochat_core::config::PasswordHashing;
use neurochat_core::domain::{Role, Ticket, TicketId, UserId};
use neurochat_core::memory::{MemoryBus, MemoryMailer};
use neurochat_core::service::auth::Registration;
use neurochat_core::service::chat::PostMessage;
use neurochat_core::service::identity::VisitorStart;
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Config, Desk, Principal, RequestContext};
use neurochat_protocol::v1::{ClientFrame, ErrorCode, MessageView, ServerFrame};
use neurochat_storage_sqlx::SqliteStore;
use neurochat_transport_ws::{Gateway, GatewayConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

/// The longest any single client step (connect, send, receive) may take.
pub const STEP: Duration = Duration::from_secs(5);
/// Password of every test account.
pub const PASSWORD: &str = "correct horse battery";
/// The desk's token signing key.
pub const SIGNING_KEY: &[u8] = b"test-signing-key-0123456789abcdef0123";

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A process-unique number (emails, client message ids).
pub fn unique() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A fresh client message id.
pub fn cmid() -> String {
    format!("c-{}", unique())
}

/// Runs a whole test body under a deadline, so no test can hang.
pub async fn within<F: Future>(secs: u64, f: F) -> F::Output {
    timeout(Duration::from_secs(secs), f)
        .await
        .expect("test exceeded its deadline")
}

/// Waits (polling every 10 ms, at most `limit`) until `cond` holds.
pub async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn ctx() -> RequestContext {
    RequestContext::from_ip("127.0.0.1")
}

/// The desk configuration of every test server: cheap password hashing.
pub fn desk_config() -> Config {
    let mut c = Config::new(SIGNING_KEY);
    c.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    c
}

/// A running server and what it is made of.
pub struct TestServer {
    pub addr: SocketAddr,
    pub desk: Desk,
    pub gateway: Arc<Gateway>,
    /// Sending (or dropping) it completes `serve`'s shutdown future.
    pub shutdown_tx: Option<oneshot::Sender<()>>,
    pub join: Option<JoinHandle<()>>,
    /// Holds the SQLite file.
    pub dir: tempfile::TempDir,
    pub mailer: Arc<MemoryMailer>,
    desk_config: Config,
    gateway_config: GatewayConfig,
    bus: Option<Arc<MemoryBus>>,
}

/// A server with default desk settings and the gateway configured by `tweak`.
pub async fn spawn_server(tweak: impl FnOnce(&mut GatewayConfig)) -> TestServer {
    spawn_server_with(|_| {}, tweak).await
}

/// A server with both the desk and the gateway configured.
pub async fn spawn_server_with(
    desk_tweak: impl FnOnce(&mut Config),
    gateway_tweak: impl FnOnce(&mut GatewayConfig),
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut dc = desk_config();
    desk_tweak(&mut dc);
    let mut gc = GatewayConfig::default();
    gateway_tweak(&mut gc);
    start(dir, dc, gc, None).await
}

/// A server with default settings whose desk publishes on `bus` (e.g. one
/// with tiny buffers, to make subscribers lag).
pub async fn spawn_server_on_bus(bus: Arc<MemoryBus>) -> TestServer {
    spawn_server_on_bus_with(bus, |_| {}).await
}

/// Like [`spawn_server_on_bus`], with the gateway configured by `tweak`.
pub async fn spawn_server_on_bus_with(
    bus: Arc<MemoryBus>,
    tweak: impl FnOnce(&mut GatewayConfig),
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut gc = GatewayConfig::default();
    tweak(&mut gc);
    start(dir, desk_config(), gc, Some(bus)).await
}

async fn start(
    dir: tempfile::TempDir,
    dc: Config,
    gc: GatewayConfig,
    bus: Option<Arc<MemoryBus>>,
) -> TestServer {
    let store = timeout(
        Duration::from_secs(15),
        SqliteStore::open(dir.path().join("neurochat.db")),
    )
    .await
    .expect("opening the store timed out")
    .unwrap();
    let mailer = Arc::new(MemoryMailer::new());
    let mut builder = Desk::builder(Arc::new(store), dc.clone()).mailer(mailer.clone());
    if let Some(bus) = &bus {
        builder = builder.bus(bus.clone());
    }
    let desk = builder.build().unwrap();
    let gateway = Gateway::new(desk.clone(), gc.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let join = tokio::spawn(neurochat_transport_ws::serve(
        listener,
        gateway.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        addr,
        desk,
        gateway,
        shutdown_tx: Some(tx),
        join: Some(join),
        dir,
        mailer,
        desk_config: dc,
        gateway_config: gc,
        bus,
    }
}

/// A user with live credentials.
#[derive(Clone)]
pub struct TestUser {
    pub id: UserId,
    pub email: String,
    pub token: String,
    pub refresh: String,
    pub principal: Principal,
}

impl TestServer {
    /// Completes the shutdown future and waits for `serve` to return.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            timeout(Duration::from_secs(10), join)
                .await
                .expect("server did not stop within 10 s")
                .unwrap();
        }
    }

    /// Stops this server and starts a new one (new Desk, new Gateway) on the
    /// same SQLite file and the same configuration.
    pub async fn restart(mut self) -> TestServer {
        self.stop().await;
        let TestServer {
            dir,
            desk,
            gateway,
            desk_config,
            gateway_config,
            bus,
            ..
        } = self;
        drop(gateway);
        drop(desk);
        start(dir, desk_config, gateway_config, bus).await
    }

    async fn login_user(&self, email: &str) -> TestUser {
        let s = self.desk.login(email, PASSWORD, &ctx()).await.unwrap();
        let principal = self
            .desk
            .authenticate(&s.tokens.access_token)
            .await
            .unwrap();
        TestUser {
            id: s.user.id,
            email: email.to_owned(),
            token: s.tokens.access_token,
            refresh: s.tokens.refresh_token,
            principal,
        }
    }

    /// A newly registered customer, logged in.
    pub async fn customer(&self, name: &str) -> TestUser {
        let email = format!("{name}-{}@example.com", unique());
        let s = self
            .desk
            .register(
                Registration {
                    email: email.clone(),
                    password: PASSWORD.to_owned(),
                    display_name: name.to_owned(),
                },
                &ctx(),
            )
            .await
            .unwrap();
        let principal = self
            .desk
            .authenticate(&s.tokens.access_token)
            .await
            .unwrap();
        TestUser {
            id: s.user.id,
            email,
            token: s.tokens.access_token,
            refresh: s.tokens.refresh_token,
            principal,
        }
    }

    /// Another login (a second session) of an existing user.
    pub async fn login(&self, user: &TestUser) -> TestUser {
        self.login_user(&user.email).await
    }

    /// The admin (bootstrapped on first call), logged in.
    pub async fn admin(&self) -> TestUser {
        let email = "admin@example.com";
        self.desk
            .bootstrap_admin(email, PASSWORD, "Admin")
            .await
            .unwrap();
        self.login_user(email).await
    }

    /// A new agent (a customer promoted by the admin), logged in.
    pub async fn agent(&self, name: &str) -> TestUser {
        let admin = self.admin().await;
        let mut user = self.customer(name).await;
        self.desk
            .set_role(&admin.principal, user.id, Role::Agent, &ctx())
            .await
            .unwrap();
        // The role is read from the store at authentication.
        user.principal = self.desk.authenticate(&user.token).await.unwrap();
        assert!(user.principal.is_staff());
        user
    }

    /// A widget visitor session: its token and principal.
    pub async fn visitor(&self) -> (String, Principal) {
        let v = self
            .desk
            .start_visitor_session(VisitorStart::default(), &ctx())
            .await
            .unwrap();
        let p = self.desk.authenticate_bearer(&v.token).await.unwrap();
        (v.token, p)
    }

    /// Opens a ticket as `customer` through the desk (its first message is seq 1).
    pub async fn open_ticket(&self, customer: &TestUser, subject: &str) -> Ticket {
        self.desk
            .create_ticket(
                &customer.principal,
                NewTicket {
                    subject: subject.to_owned(),
                    body: format!("Hello, {subject}"),
                    client_msg_id: cmid(),
                    category_id: None,
                    priority: None,
                },
                &ctx(),
            )
            .await
            .unwrap()
            .0
    }

    /// Posts a message through the desk (not over a socket); returns its seq.
    pub async fn post(&self, who: &TestUser, ticket: Uuid, body: &str) -> u64 {
        let posted = self
            .desk
            .post_message(
                &who.principal,
                PostMessage {
                    ticket_id: TicketId(ticket),
                    body: body.to_owned(),
                    client_msg_id: cmid(),
                    internal: false,
                },
            )
            .await
            .unwrap();
        u64::try_from(posted.message.seq).unwrap()
    }

    /// A connected, not yet authenticated client.
    pub async fn connect(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// A client authenticated with `token` (the hello is checked and consumed).
    pub async fn connect_as(&self, token: &str) -> Client {
        let mut c = self.connect().await;
        let hello = c.auth(token).await;
        assert!(
            matches!(hello, ServerFrame::Hello { protocol: 1, .. }),
            "expected hello, got {hello:?}"
        );
        c
    }

    /// Waits until the gateway counts exactly `n` open connections.
    pub async fn wait_connections(&self, n: usize) {
        let gw = self.gateway.clone();
        wait_for(
            &format!("{n} open connections"),
            Duration::from_secs(10),
            || gw.connections() == n,
        )
        .await;
    }
}

/// What a client saw next.
#[derive(Debug)]
pub enum Incoming {
    /// A protocol frame.
    Frame(ServerFrame),
    /// A close frame, with its code.
    Close(Option<u16>),
    /// The connection ended without a close frame.
    Ended,
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client speaking protocol v1. Frames skipped while waiting
/// for a reply ([`Client::request`]) are kept and returned by later
/// [`Client::recv`] calls, so nothing is lost.
pub struct Client {
    pub ws: Ws,
    next_req: u64,
    backlog: VecDeque<ServerFrame>,
}

impl Client {
    /// Connects (no Origin header).
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::try_connect(addr, None).await.unwrap()
    }

    /// Connects, sending `origin` as the Origin header if given.
    pub async fn try_connect(addr: SocketAddr, origin: Option<&str>) -> Result<Client, WsError> {
        let mut request = format!("ws://{addr}/").into_client_request().unwrap();
        if let Some(o) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(o).unwrap());
        }
        let (ws, _) = timeout(STEP, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect timed out")?;
        Ok(Client {
            ws,
            next_req: 0,
            backlog: VecDeque::new(),
        })
    }

    /// A fresh request number.
    pub fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    pub async fn send(&mut self, frame: ClientFrame) {
        let text = serde_json::to_string(&frame).unwrap();
        self.send_raw(&text).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.send_message(Message::Text(text.into())).await;
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.send_message(Message::Binary(bytes.into())).await;
    }

    async fn send_message(&mut self, m: Message) {
        timeout(STEP, self.ws.send(m))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    /// Sends without failing the test if the server already hung up.
    pub async fn try_send_raw(&mut self, text: &str) -> bool {
        matches!(
            timeout(STEP, self.ws.send(Message::Text(text.into()))).await,
            Ok(Ok(()))
        )
    }

    /// The next frame or close within `limit` (`None`: nothing arrived).
    /// WebSocket pings and pongs are skipped (the library answers pings).
    pub async fn next_within(&mut self, limit: Duration) -> Option<Incoming> {
        if let Some(f) = self.backlog.pop_front() {
            return Some(Incoming::Frame(f));
        }
        let deadline = Instant::now() + limit;
        loop {
            let m = timeout_at(deadline, self.ws.next()).await.ok()?;
            return Some(match m {
                None | Some(Err(_)) => Incoming::Ended,
                Some(Ok(Message::Text(t))) => Incoming::Frame(
                    serde_json::from_str(t.as_str())
                        .unwrap_or_else(|e| panic!("unparsable server frame {t}: {e}")),
                ),
                Some(Ok(Message::Close(c))) => Incoming::Close(c.map(|c| u16::from(c.code))),
                Some(Ok(Message::Binary(b))) => panic!("server sent a binary frame: {b:?}"),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            });
        }
    }

    /// The next frame or close (panics after [`STEP`]).
    pub async fn next(&mut self) -> Incoming {
        self.next_within(STEP)
            .await
            .expect("nothing arrived from the server within 5 s")
    }

    /// The next protocol frame (panics on close or timeout).
    pub async fn recv(&mut self) -> ServerFrame {
        match self.next().await {
            Incoming::Frame(f) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Receives until a frame matches `pred`, dropping the others.
    pub async fn recv_until(&mut self, mut pred: impl FnMut(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            let f = self.recv().await;
            if pred(&f) {
                return f;
            }
        }
    }

    /// The next chat message (other frames are dropped).
    pub async fn recv_message(&mut self) -> MessageView {
        match self
            .recv_until(|f| matches!(f, ServerFrame::Message { .. }))
            .await
        {
            ServerFrame::Message { message } => message,
            _ => unreachable!(),
        }
    }

    /// Reads until the server closes; returns the frames before the close
    /// and the close code.
    pub async fn expect_close_with_frames(&mut self) -> (Vec<ServerFrame>, u16) {
        let mut frames = Vec::new();
        loop {
            match self.next().await {
                Incoming::Frame(f) => frames.push(f),
                Incoming::Close(Some(code)) => return (frames, code),
                Incoming::Close(None) => panic!("close frame without a code after {frames:?}"),
                Incoming::Ended => {
                    panic!("connection ended without a close frame after {frames:?}")
                }
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn expect_close(&mut self) -> u16 {
        self.expect_close_with_frames().await.1
    }

    /// Sends `auth` and returns the server's answer (hello, or error/close).
    pub async fn auth(&mut self, token: &str) -> ServerFrame {
        self.send(ClientFrame::Auth {
            token: token.to_owned(),
        })
        .await;
        self.recv().await
    }

    /// Sends a request frame and waits for its `ack` or `error` (matched by
    /// `req`); frames arriving meanwhile stay queued for [`Client::recv`].
    pub async fn request(&mut self, frame: ClientFrame) -> ServerFrame {
        let req = frame.req().expect("request frames carry a req");
        self.send(frame).await;
        self.reply(req).await
    }

    /// Waits for the `ack` or `error` answering `req`, keeping other frames.
    pub async fn reply(&mut self, req: u64) -> ServerFrame {
        let mut skipped = VecDeque::new();
        let reply = loop {
            let f = match self.next().await {
                Incoming::Frame(f) => f,
                other => panic!("expected the reply to req {req}, got {other:?}"),
            };
            match &f {
                ServerFrame::Ack { req: r, .. } | ServerFrame::Error { req: Some(r), .. }
                    if *r == req =>
                {
                    break f;
                }
                _ => skipped.push_back(f),
            }
        };
        skipped.append(&mut self.backlog);
        self.backlog = skipped;
        reply
    }

    /// Subscribes to a ticket from `last_seq`; returns the messages replayed
    /// before the ack (panics on an error reply).
    pub async fn subscribe(&mut self, ticket: Uuid, last_seq: u64) -> Vec<MessageView> {
        let req = self.req();
        self.send(ClientFrame::Subscribe {
            req,
            ticket_id: ticket,
            last_seq,
        })
        .await;
        let mut replayed = Vec::new();
        let mut skipped = VecDeque::new();
        loop {
            match self.recv().await {
                ServerFrame::Message { message } if message.ticket_id == ticket => {
                    replayed.push(message);
                }
                ServerFrame::Ack { req: r, .. } if r == req => break,
                ServerFrame::Error {
                    req: Some(r),
                    error,
                } if r == req => {
                    panic!("subscribe failed: {error:?}")
                }
                other => skipped.push_back(other),
            }
        }
        skipped.append(&mut self.backlog);
        self.backlog = skipped;
        replayed
    }

    /// Posts a message; returns `(message_id, seq)` from the ack.
    pub async fn say(&mut self, ticket: Uuid, body: &str) -> (Uuid, u64) {
        self.say_with(ticket, &cmid(), body, false).await
    }

    /// Posts a message with a given client message id.
    pub async fn say_with(
        &mut self,
        ticket: Uuid,
        client_msg_id: &str,
        body: &str,
        internal: bool,
    ) -> (Uuid, u64) {
        let req = self.req();
        match self
            .request(ClientFrame::Send {
                req,
                ticket_id: ticket,
                client_msg_id: client_msg_id.to_owned(),
                body: body.to_owned(),
                internal,
            })
            .await
        {
            ServerFrame::Ack {
                message_id: Some(id),
                seq: Some(seq),
                ..
            } => (id, seq),
            other => panic!("send not acknowledged: {other:?}"),
        }
    }

    /// Sends an application-level ping and waits for its pong; returns the
    /// frames that arrived before it. Proves the session still serves us.
    pub async fn ping(&mut self) -> Vec<ServerFrame> {
        let nonce = unique();
        self.send(ClientFrame::Ping { nonce: Some(nonce) }).await;
        let mut before = Vec::new();
        loop {
            match self.recv().await {
                ServerFrame::Pong { nonce: Some(n), .. } if n == nonce => return before,
                other => before.push(other),
            }
        }
    }

    /// Collects every frame arriving within `d` (panics on close).
    pub async fn quiet(&mut self, d: Duration) -> Vec<ServerFrame> {
        let deadline = Instant::now() + d;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                None => return frames,
                Some(Incoming::Frame(f)) => frames.push(f),
                Some(other) => panic!("connection ended while waiting quietly: {other:?}"),
            }
        }
    }

    /// Closes the connection properly (close handshake) and waits for the end.
    pub async fn close(mut self) {
        let _ = timeout(STEP, self.ws.close(None)).await;
        let deadline = Instant::now() + STEP;
        while let Ok(Some(Ok(_))) = timeout_at(deadline, self.ws.next()).await {}
    }

    /// Drops the connection without a closing handshake.
    pub fn drop_abruptly(self) {
        drop(self);
    }
}

/// The error code of an `error` frame (panics on anything else).
pub fn error_code(f: &ServerFrame) -> ErrorCode {
    match f {
        ServerFrame::Error { error, .. } => error.code,
        other => panic!("expected an error frame, got {other:?}"),
    }
}

/// Another customer with a conversation of their own, to show the server
/// keeps serving everyone else while one connection is refused or cut off.
pub struct Bystander {
    pub client: Client,
    pub ticket: Uuid,
    pub user: TestUser,
}

impl Bystander {
    pub async fn new(srv: &TestServer) -> Bystander {
        let user = srv.customer("bystander").await;
        let ticket = srv.open_ticket(&user, "unrelated").await.id.as_uuid();
        let mut client = srv.connect_as(&user.token).await;
        let replayed = client.subscribe(ticket, 0).await;
        assert_eq!(replayed.len(), 1);
        Bystander {
            client,
            ticket,
            user,
        }
    }

    /// A message posted now reaches the bystander live, and it gets pongs.
    pub async fn assert_served(&mut self, srv: &TestServer) {
        let seq = srv.post(&self.user, self.ticket, "still there?").await;
        let m = self.client.recv_message().await;
        assert_eq!((m.ticket_id, m.seq), (self.ticket, seq));
        for f in self.client.ping().await {
            assert!(
                !matches!(f, ServerFrame::Message { .. }),
                "unexpected message {f:?}"
            );
        }
    }
}
