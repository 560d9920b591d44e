//! Shared set-up for core's integration tests: a desk over the in-memory
//! store with a manual clock and a capturing mailer.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use neurochat_core::config::{PasswordHashing, Secret};
use neurochat_core::memory::{MemoryMailer, MemoryStore};
use neurochat_core::ports::ManualClock;
use neurochat_core::service::auth::{AuthSession, Registration};
use neurochat_core::{Config, Desk, Principal, RequestContext};
use time::OffsetDateTime;

pub const SIGNING_KEY: &[u8] = b"test-signing-key-0123456789abcdef0123";
pub const HMAC_SECRET: &[u8] = b"host-hmac-secret-0123456789abcdef0123";
pub const HOST_JWT_SECRET: &[u8] = b"host-jwt-secret-0123456789abcdef01234";
pub const PASSWORD: &str = "correct horse battery";

pub struct Env {
    pub desk: Desk,
    pub clock: ManualClock,
    pub mailer: Arc<MemoryMailer>,
    pub store: Arc<MemoryStore>,
}

pub fn config() -> Config {
    let mut c = Config::new(SIGNING_KEY);
    c.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    c.identity.hmac_secret = Some(Secret::new(HMAC_SECRET));
    c.identity.jwt_secret = Some(Secret::new(HOST_JWT_SECRET));
    c
}

pub fn env() -> Env {
    env_with(config())
}

pub fn env_with(config: Config) -> Env {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    let mailer = Arc::new(MemoryMailer::new());
    let store = Arc::new(MemoryStore::new());
    let desk = Desk::builder(store.clone(), config)
        .clock(Arc::new(clock.clone()))
        .mailer(mailer.clone())
        .build()
        .unwrap();
    Env {
        desk,
        clock,
        mailer,
        store,
    }
}

pub fn ctx() -> RequestContext {
    RequestContext::from_ip("203.0.113.7")
}

impl Env {
    pub async fn register(&self, email: &str) -> AuthSession {
        self.desk
            .register(
                Registration {
                    email: email.to_owned(),
                    password: PASSWORD.to_owned(),
                    display_name: "Test User".to_owned(),
                },
                &ctx(),
            )
            .await
            .unwrap()
    }

    pub async fn principal(&self, s: &AuthSession) -> Principal {
        self.desk
            .authenticate(&s.tokens.access_token)
            .await
            .unwrap()
    }

    /// The bootstrap admin, logged in.
    pub async fn admin(&self) -> (AuthSession, Principal) {
        self.desk
            .bootstrap_admin("admin@example.com", PASSWORD, "Admin")
            .await
            .unwrap();
        let s = self
            .desk
            .login("admin@example.com", PASSWORD, &ctx())
            .await
            .unwrap();
        let p = self.principal(&s).await;
        (s, p)
    }

    /// A registered customer's principal.
    pub async fn customer(&self, email: &str) -> Principal {
        let s = self.register(email).await;
        self.principal(&s).await
    }

    /// A staff member (agent unless `role` says otherwise) created by `admin`.
    pub async fn agent(&self, admin: &Principal, email: &str) -> Principal {
        self.with_role(admin, email, neurochat_core::domain::Role::Agent)
            .await
            .1
    }

    /// Opens a ticket as `customer` with a first message.
    pub async fn open_ticket(
        &self,
        customer: &Principal,
        subject: &str,
    ) -> neurochat_core::domain::Ticket {
        use neurochat_core::service::tickets::NewTicket;
        self.desk
            .create_ticket(
                customer,
                NewTicket {
                    subject: subject.to_owned(),
                    body: format!("Hello, {subject}"),
                    client_msg_id: format!("c-{}", uuid::Uuid::now_v7().simple()),
                    category_id: None,
                    priority: None,
                },
                &ctx(),
            )
            .await
            .unwrap()
            .0
    }

    /// Posts a message (`internal` for a staff note) and returns it.
    pub async fn say(
        &self,
        who: &Principal,
        ticket: neurochat_core::domain::TicketId,
        body: &str,
    ) -> neurochat_core::domain::Message {
        use neurochat_core::service::chat::PostMessage;
        self.desk
            .post_message(
                who,
                PostMessage {
                    ticket_id: ticket,
                    body: body.to_owned(),
                    client_msg_id: format!("c-{}", uuid::Uuid::now_v7().simple()),
                    internal: false,
                },
            )
            .await
            .unwrap()
            .message
    }

    /// A user promoted to `role` by the admin, logged in.
    pub async fn with_role(
        &self,
        admin: &Principal,
        email: &str,
        role: neurochat_core::domain::Role,
    ) -> (AuthSession, Principal) {
        let s = self.register(email).await;
        self.desk
            .set_role(admin, s.user.id, role, &ctx())
            .await
            .unwrap();
        let p = self.principal(&s).await;
        (s, p)
    }
}
