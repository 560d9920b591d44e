//! Shared set-up for the black-box tests: the router served by `axum::serve`
//! on 127.0.0.1:0 over a SQLite file in a temporary directory, and a real
//! HTTP/1.1 client (hyper's) that sees only bytes on the wire.
//!
//! Every wait is bounded: each request times out after [`STEP`].
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use neurochat_core::config::{PasswordHashing, Secret};
use neurochat_core::memory::MemoryMailer;
use neurochat_core::{Config, Desk};
use neurochat_http::HttpConfig;
use neurochat_storage_sqlx::SqliteStore;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::timeout;

/// The longest any single request may take.
pub const STEP: Duration = Duration::from_secs(10);
/// Password of every test account.
pub const PASSWORD: &str = "correct horse battery";
const SIGNING_KEY: &[u8] = b"test-signing-key-0123456789abcdef0123";
/// The host site's HMAC secret for widget identities.
pub const HMAC_SECRET: &[u8] = b"host-site-hmac-secret-0123456789abcdef";

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A process-unique email address.
pub fn email(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A running app and what it is made of.
pub struct App {
    pub addr: SocketAddr,
    pub desk: Desk,
    pub mailer: Arc<MemoryMailer>,
    client: Client<HttpConnector, Full<Bytes>>,
    _shutdown: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// An answer as the client saw it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem document with this status and code; returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "error responses are problem documents"
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(p["type"], format!("urn:neurochat:problem:{code}"));
        assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
        assert_eq!(p["message"], p["detail"], "a superset of ErrorBody");
        assert_eq!(
            p["request_id"].as_str(),
            self.header("x-request-id"),
            "the body names the request id of the response"
        );
        p
    }

    /// The `fields[].field` names of a validation problem.
    pub fn field_names(&self) -> Vec<String> {
        let p = self.problem(422, "validation_failed");
        p["fields"]
            .as_array()
            .expect("validation problems list fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The desk configuration of every test app: cheap password hashing.
pub fn desk_config() -> Config {
    let mut c = Config::new(SIGNING_KEY);
    c.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    c.identity.hmac_secret = Some(Secret::new(HMAC_SECRET));
    c
}

/// An app with the default HTTP configuration.
pub async fn spawn_app() -> App {
    spawn_app_with(|_| {}).await
}

/// An app with the HTTP configuration changed by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut HttpConfig)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = timeout(
        Duration::from_secs(15),
        SqliteStore::open(dir.path().join("neurochat.db")),
    )
    .await
    .expect("opening the store timed out")
    .unwrap();
    let mailer = Arc::new(MemoryMailer::new());
    let desk = Desk::builder(Arc::new(store), desk_config())
        .mailer(mailer.clone())
        .build()
        .unwrap();
    let mut config = HttpConfig::default();
    tweak(&mut config);
    let app = neurochat_http::router(desk.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let client = Client::builder(TokioExecutor::new()).build_http();
    App {
        addr,
        desk,
        mailer,
        client,
        _shutdown: tx,
        _dir: dir,
    }
}

impl App {
    /// Sends a request with raw headers and body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Resp {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("http://{}{}", self.addr, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).unwrap();
        let resp = timeout(STEP, self.client.request(req))
            .await
            .expect("request timed out")
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = timeout(STEP, resp.into_body().collect())
            .await
            .expect("reading the body timed out")
            .unwrap()
            .to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A JSON request, with a bearer token if given.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        self.send(method, path, &headers, serde_json::to_vec(&body).unwrap())
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, None, body).await
    }

    /// A GET, with a bearer token if given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.send("GET", path, &headers, Bytes::new()).await
    }

    /// Registers a customer over HTTP; returns (email, the auth response).
    pub async fn register(&self, name: &str) -> (String, Value) {
        let email = email(name);
        let r = self
            .post(
                "/api/v1/auth/register",
                json!({ "email": email, "password": PASSWORD, "display_name": name }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.json());
        (email, r.json())
    }

    /// The access token of a new customer.
    pub async fn customer_token(&self, name: &str) -> String {
        let (_, auth) = self.register(name).await;
        auth["tokens"]["access_token"].as_str().unwrap().to_owned()
    }
}

/// A signed-in user of a test: id, email and bearer token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl Actor {
    pub fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

static CLIENT_IDS: AtomicU64 = AtomicU64::new(1);

/// A process-unique `client_msg_id`.
pub fn client_id() -> String {
    format!("c-{}", CLIENT_IDS.fetch_add(1, Ordering::Relaxed))
}

impl App {
    /// A customer registered over HTTP.
    pub async fn customer(&self, name: &str) -> Actor {
        let (email, auth) = self.register(name).await;
        Actor {
            id: auth["user"]["id"].as_str().unwrap().to_owned(),
            email,
            token: auth["tokens"]["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The app's first admin (bootstrapped through the desk, as a host
    /// does at start-up), logged in over HTTP. Once per app.
    pub async fn admin(&self) -> Actor {
        let email = email("admin");
        let user = self
            .desk
            .bootstrap_admin(&email, PASSWORD, "Admin")
            .await
            .unwrap()
            .expect("the app had no admin yet");
        let r = self
            .post(
                "/api/v1/auth/login",
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        Actor {
            id: user.id.to_string(),
            email,
            token: r.json()["tokens"]["access_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// A registered user the admin made an agent (the token stays valid:
    /// the role is read at every request).
    pub async fn agent(&self, admin: &Actor, name: &str) -> Actor {
        let a = self.customer(name).await;
        let r = self
            .call(
                "PUT",
                &format!("/api/v1/users/{}/role", a.id),
                admin.token(),
                json!({ "role": "agent" }),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        a
    }

    /// A ticket opened by `customer` over HTTP.
    pub async fn ticket(&self, customer: &Actor, subject: &str) -> Value {
        let r = self
            .call(
                "POST",
                "/api/v1/tickets",
                customer.token(),
                json!({ "subject": subject, "body": "Please help.", "client_msg_id": client_id() }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.json());
        r.json()
    }
}
